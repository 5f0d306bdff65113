//! The reference server of Gateway Interface 1.0: a thread-pool HTTP/1.1 server for
//! any [`gateway_spec::App`], as a library. The command, its flags, logs and signals
//! are the `gateway-serve` crate's; this one knows no CLI, no test app, no judge.
//!
//! # The path of a request
//!
//! 1. `poller`: one epoll instance every worker waits on, connections registered
//!    edge-triggered; `poll_turns` lets one worker per core wait there, more while
//!    workers are blocked in apps. Connections wait in `connection_table` while
//!    they are idle, send a head or a body, or are slow to read a response: they
//!    cost a file descriptor and a buffer, never a thread.
//! 2. `accept` takes new connections from every `listener` (TCP or Unix); `connection_state` reads what a ready
//!    connection sent, [`http1`] parses each head strictly (a bad one gets its
//!    4xx/5xx at once), and `body_arrival` keeps the request in the table until its
//!    body is there (up to a bound; larger bodies stream).
//! 3. The worker the event woke serves the ready request itself: no hand-off to
//!    another thread. `worker` runs the request's life: admit it (`build_environ`),
//!    call the app through [`gateway_spec::exchange::start`] (the body through
//!    `request_body`), send the response through `response_writer`; when the socket
//!    would block, the response is parked with its connection
//!    (`response_in_flight`) and any worker resumes it once the socket is writable.
//!    A file body that reaches the server unchanged goes out with `sendfile`
//!    (`file_send`), parked the same way between two sends.
//!    Then it drains what the app left unread and puts the connection back.
//! 4. `supervisor` runs no app: it passes on the turns of stalled workers, stands
//!    in while every worker is busy (`shared` holds the queue of ready requests; a
//!    full queue answers 503 at once), expires slow heads, idle connections and
//!    clients slower than their minimum rate (`data_rate`), and carries out a
//!    graceful stop.
//!
//! Why no dedicated I/O thread handing requests to the pool: on a 2-core machine
//! that hand-off (a wake-up and two context switches per request) held hello-world
//! throughput to 0.67x hyper's at 16 connections; with the worker that an event
//! wakes serving the request itself, and one poller per core, it is above 0.9x
//! with the same guarantees: idle clients cost no thread, slow apps do not hold
//! up others, and a full queue answers 503. The price is Linux only (epoll, by
//! way of `rustix`); apps and `gateway-spec` stay portable.
//!
//! Whoever starts the server can run each worker thread's whole life inside a
//! function of theirs ([`Server::worker_wrapper`], [`WorkerWrapper`]): set-up that
//! must happen on the threads that call the app, and last as long as they do (the
//! Python bridge attaches each worker to the interpreter once this way). The server
//! knows nothing of what it is for; without one the workers just serve.
//!
//! Every limit and timeout is in [`config`]; `connection`, `socket_wait` (the only
//! blocking waits left: a body past the buffering bound, the legacy write handle),
//! `date` and `access_log` are the supporting pieces.
//!
//! ```no_run
//! use gateway_spec::{Body, Environ, StartResponse};
//! use http::{HeaderMap, StatusCode};
//!
//! let app = |_: Environ, start: StartResponse| {
//!     start.call(StatusCode::OK, HeaderMap::new())?;
//!     Ok(Body::from("Hello, World!"))
//! };
//! let server = reference_server::Server::bind("127.0.0.1:8000")?.spawn(app)?;
//! println!("serving on http://{}", server.local_addr());
//! server.join();
//! # Ok::<(), reference_server::ServeError>(())
//! ```

#[cfg(not(any(target_os = "linux", target_os = "android")))]
compile_error!("reference-server waits on epoll: it builds on Linux (and Android) only");

mod accept;
pub mod access_log;
mod body_arrival;
mod body_budget;
mod body_reader;
mod build_environ;
pub mod config;
mod connection;
mod connection_state;
mod connection_table;
mod data_rate;
mod date;
mod file_send;
mod forwarded;
mod forwarded_syntax;
pub mod http1;
mod listener;
mod poll_turns;
mod poller;
mod request_body;
mod response_in_flight;
mod response_writer;
mod server;
mod shared;
mod socket_wait;
mod stats;
mod supervisor;
mod trusted_proxies;
mod worker;

pub use access_log::{AccessFormat, AccessLog};
pub use config::Config;
pub use file_send::sendfile_bytes;
pub use listener::{
    BindAddr, BindAddrError, BindOptions, ListenAddr, Listener, SocketFile, DEFAULT_BACKLOG,
};
#[allow(deprecated)]
pub use server::Stopper;
pub use server::{
    Controller, ServeError, ServeReport, Server, ServerHandle, WorkerRun, WorkerWrapper,
};
pub use stats::{ResponseObserver, ResponseRecord, Stats};
pub use trusted_proxies::{TrustedProxies, TrustedProxiesError};
