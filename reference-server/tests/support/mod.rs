//! Shared helpers of the wire tests: start a server on an ephemeral loopback port;
//! the raw client itself is `fixtures::raw_client`.

#![allow(dead_code)]

use std::net::TcpListener;

#[allow(unused_imports)]
pub use fixtures::raw_client::{connect, exchange, Reader, WAIT};
use gateway_spec::App;
use reference_server::{Config, Server, ServerHandle};

pub fn start(app: impl App) -> ServerHandle {
    start_with(app, Config::default())
}

pub fn start_with(app: impl App, config: Config) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    Server::from_listener(listener)
        .config(config)
        .spawn(app)
        .expect("the server starts")
}
