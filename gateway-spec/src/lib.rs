//! Gateway Interface 1.0: the contract between synchronous web apps and the servers
//! that run them, the Rust counterpart of Python's WSGI (PEP 3333). `SPEC.md` at the
//! root of the repository is the normative text; this crate is its types.
//!
//! # The contract in one page
//!
//! An **app** is anything that implements [`App`]: a function of an [`Environ`] (what
//! the server knows about the request) and a [`StartResponse`] (how the app names
//! its status and headers) that returns a [`Body`] (the response bytes, produced on
//! demand). A **server** parses HTTP, builds the environ, calls the app on a worker
//! thread, and sends what the app produced, framed correctly.
//!
//! - The request body is [`Environ::input`], an [`Input`] that ends exactly at the end
//!   of the body whatever the framing, so apps read it to the end without looking at
//!   `CONTENT_LENGTH` (INPUT-1). The client's `100 Continue` goes out on the first
//!   read, so an app that answers without reading never makes the client send a body.
//! - `start_response` records the status and headers. They go out with the first
//!   non-empty chunk of the body, or at its end; until then the app may replace them
//!   by calling again with error information (START-15).
//! - Framing belongs to the server: apps never set `Connection`,
//!   `Transfer-Encoding` and the other hop-by-hop headers (START-4). A Content-Length
//!   set by the app is honoured exactly.
//! - An app that fails before its headers went out yields a 500; after, the
//!   connection is closed so the client sees a truncated response, never a spliced
//!   one. The body's close runs on every path (BODY-3).
//!
//! Apps are tested in-process with [`testing::TestClient`], which applies the same
//! framing rules a server does, and checked with [`validate::Validator`], which
//! reports every violation of the contract with its SPEC rule.
//!
//! # A complete portable app
//!
//! Hello world at `/`, and an echo of the request body at `/echo`:
//!
//! ```
//! use std::io::Read;
//! use gateway_spec::{AppError, Body, Environ, StartResponse};
//! use gateway_spec::testing::TestClient;
//! use http::{HeaderMap, HeaderValue, StatusCode};
//!
//! fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
//!     let mut headers = HeaderMap::new();
//!     headers.insert("content-type", HeaderValue::from_static("text/plain"));
//!     match environ.path_info.as_slice() {
//!         b"/" => {
//!             start_response.call(StatusCode::OK, headers)?;
//!             Ok(Body::from("Hello, World!"))
//!         }
//!         b"/echo" => {
//!             let mut body = Vec::new();
//!             environ.input.read_to_end(&mut body)?; // ends at the end of the body
//!             start_response.call(StatusCode::OK, headers)?;
//!             Ok(Body::from(body))
//!         }
//!         _ => {
//!             start_response.call(StatusCode::NOT_FOUND, headers)?;
//!             Ok(Body::from("Not Found"))
//!         }
//!     }
//! }
//!
//! let client = TestClient::new(app);
//! let hello = client.get("/").send();
//! assert_eq!(hello.status, StatusCode::OK);
//! assert_eq!(hello.body, "Hello, World!");
//! assert_eq!(hello.headers["content-length"], "13");
//! assert_eq!(hello.outcome.failure, None); // no panic or error caught on the way
//!
//! let echo = client.post("/echo").chunked().body("ping").send();
//! assert_eq!(echo.body, "ping");
//! assert_eq!(echo.outcome.failure, None);
//! assert_eq!(client.get("/missing").send().status, StatusCode::NOT_FOUND);
//! ```
//!
//! The same `app` runs unchanged on the reference server or any conforming one.

#![deny(missing_docs)]

pub mod app;
pub mod body;
pub mod client_error;
pub mod environ;
pub mod error_stream;
pub mod exchange;
pub mod framing;
pub mod input;
pub mod interop;
pub mod start_response;
pub mod target;
pub mod testing;
pub mod validate;

pub use app::{App, AppError};
pub use body::Body;
pub use client_error::{BodyError, ClientFault};
pub use environ::{Environ, Scheme};
pub use error_stream::ErrorStream;
pub use input::Input;
pub use start_response::{
    ResponseHead, StartResponse, StartResponseError, StartResponseSink, WriteHandle,
};

/// The old name of [`WriteHandle`]; it shadowed `std::io::Write`.
#[deprecated(note = "renamed WriteHandle")]
pub type Write = WriteHandle;

/// The old name of [`ErrorStream`], the `wsgi.errors` stream.
#[deprecated(note = "renamed ErrorStream")]
pub type Errors = ErrorStream;

/// The version of this interface, `(1, 0)` (`wsgi.version`, ENV-2).
pub const VERSION: (u32, u32) = (1, 0);
