//! The reference server of Gateway Interface 1.0: a thread-pool HTTP/1.1 server for
//! any [`gateway_spec::App`], as a library and as the command `gateway-serve`.
//!
//! # The path of a request
//!
//! 1. `event_loop` (one I/O thread, on `mio`) accepts connections and holds
//!    idle keep-alive connections and partly received request heads: slow or idle
//!    clients cost a file descriptor and a buffer, never a thread.
//! 2. [`http1`] parses each head strictly; a bad one gets its 4xx/5xx at once.
//! 3. `dispatch` hands a complete head to the worker pool through a bounded queue; a
//!    full queue answers 503 at once.
//! 4. `worker` runs the request's life: `build_environ`, the app through
//!    [`gateway_spec::server::run`], the body through `request_body`, the response
//!    through `response_writer` (waiting in `socket_wait` only when a socket would
//!    block); then it drains what the app left unread and gives the connection back.
//!
//! Every limit and timeout is in [`config`]; the demo app of `gateway-serve` is
//! [`demo`]; `connection`, `date` and `access_log` are the supporting pieces.
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

pub mod access_log;
mod build_environ;
pub mod config;
mod connection;
mod date;
pub mod demo;
mod dispatch;
mod event_loop;
pub mod http1;
mod request_body;
mod response_writer;
mod server;
mod socket_wait;
mod worker;

pub use access_log::AccessLog;
pub use config::Config;
pub use server::{ServeError, ServeReport, Server, ServerHandle, Stopper};
