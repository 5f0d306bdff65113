//! The reference server of Gateway Interface 1.0: a thread-pool HTTP/1.1 server for
//! any [`gateway_spec::App`], as a library and as the command `gateway-serve`.
//!
//! # The path of a request
//!
//! 1. `poller`: one epoll instance every worker waits on, each connection armed
//!    for one event at a time; `poll_turns` lets one worker per core wait there,
//!    and passes the turn on when a worker is held up in an app. Idle keep-alive
//!    connections and slow request heads wait in `connection_table`: they cost a
//!    file descriptor and a buffer, never a thread.
//! 2. `accept` takes new connections; `readiness` reads what a ready connection
//!    sent, and [`http1`] parses each head strictly (a bad one gets its 4xx/5xx at
//!    once).
//! 3. The worker the event woke serves a complete request itself: no hand-off to
//!    another thread. `worker` runs the request's life: `build_environ`, the app
//!    through [`gateway_spec::server::run`], the body through `request_body`, the
//!    response through `response_writer` (waiting in `socket_wait` only when a
//!    socket would block); then it drains what the app left unread and re-arms the
//!    connection.
//! 4. `supervisor` runs no app: it passes on the turns of stalled workers, stands
//!    in while every worker is busy (`dispatch` queues complete requests; a full
//!    queue answers 503 at once), expires slow heads and idle connections, and
//!    carries out a graceful stop.
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

mod accept;
pub mod access_log;
mod build_environ;
pub mod config;
mod connection;
mod connection_table;
mod date;
pub mod demo;
mod dispatch;
pub mod http1;
mod poll_turns;
mod poller;
mod readiness;
mod request_body;
mod response_writer;
mod server;
mod socket_wait;
mod supervisor;
mod worker;

pub use access_log::AccessLog;
pub use config::Config;
pub use server::{ServeError, ServeReport, Server, ServerHandle, Stopper};
