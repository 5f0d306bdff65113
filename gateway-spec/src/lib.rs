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
//! Hello world at `/`, an echo of the request body at `/echo`, and a greeting that
//! reads the query string at `/hello?name=…`:
//!
//! ```
//! use std::io::Read;
//! use gateway_spec::{AppError, Body, Environ, StartResponse};
//! use gateway_spec::testing::TestClient;
//! use http::StatusCode;
//!
//! fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
//!     match environ.path_info_utf8() {
//!         Some("/") => Ok(start_response.text(StatusCode::OK, "Hello, World!")?),
//!         Some("/echo") => {
//!             let mut body = Vec::new();
//!             environ.input.read_to_end(&mut body)?; // ends at the end of the body
//!             Ok(start_response.reply(StatusCode::OK, "application/octet-stream", body)?)
//!         }
//!         Some("/hello") => {
//!             let name = environ.query_value("name").unwrap_or_else(|| "stranger".into());
//!             Ok(start_response.text(StatusCode::OK, format!("Hello, {name}!"))?)
//!         }
//!         _ => Ok(start_response.text(StatusCode::NOT_FOUND, "Not Found")?),
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
//! assert_eq!(client.get("/hello?name=Ada%20L.").send().body, "Hello, Ada L.!");
//! assert_eq!(client.get("/missing").send().status, StatusCode::NOT_FOUND);
//! ```
//!
//! The same `app` runs unchanged on the reference server or any conforming one.
//!
//! # The same app in Rack and in WSGI
//!
//! A greeting and a middleware that adds one header, side by side. Rack (Ruby):
//!
//! ```ruby
//! hello = ->(env) { [200, {"content-type" => "text/plain"}, ["Hello, World!"]] }
//! powered = ->(app) { ->(env) {
//!   status, headers, body = app.call(env)
//!   [status, headers.merge("x-powered-by" => "gateway"), body]
//! } }
//! run powered.(hello)
//! ```
//!
//! WSGI (Python):
//!
//! ```python
//! def hello(environ, start_response):
//!     start_response("200 OK", [("Content-Type", "text/plain")])
//!     return [b"Hello, World!"]
//!
//! def powered(app):
//!     def wrapped(environ, start_response):
//!         def start(status, headers, exc_info=None):
//!             return start_response(status, headers + [("X-Powered-By", "gateway")], exc_info)
//!         return app(environ, start)
//!     return wrapped
//! ```
//!
//! Here:
//!
//! ```
//! use gateway_spec::map_head::map_head;
//! use gateway_spec::{AppError, Body, Environ, StartResponse};
//! use http::{HeaderValue, StatusCode};
//!
//! fn hello(_environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
//!     Ok(start_response.text(StatusCode::OK, "Hello, World!")?)
//! }
//!
//! let app = map_head(hello, |head| {
//!     head.headers.insert("x-powered-by", HeaderValue::from_static("gateway"));
//! });
//! # let response = gateway_spec::testing::TestClient::new(app).get("/").send();
//! # assert_eq!(response.headers["x-powered-by"], "gateway");
//! ```
//!
//! The differences are the ones Rust asks for: the status is a typed
//! `StatusCode`, a header list is checked when it is built
//! ([`headers::header_map`], [`StartResponse::respond`]) instead of when it is
//! sent, and the body is a [`Body`] ([`Body::from_chunks`] for a generator,
//! [`Body::file`] for a file). The toolkit of mounting and static files
//! (`Rack::URLMap`, `Rack::Files`, werkzeug's `DispatcherMiddleware` and
//! `SharedDataMiddleware`) is the companion crate `gateway-kit`.
//!
//! # Helpers an app author reaches for
//!
//! | wsgiref / Rack | here |
//! | --- | --- |
//! | `start_response("200 OK", [...])` | [`StartResponse::respond`], [`StartResponse::text`], [`StartResponse::json`], [`StartResponse::reply`], [`StartResponse::redirect`] |
//! | a header list | [`headers::header_map`] and [`headers::IntoHeaders`] |
//! | middleware that edits headers | [`map_head::map_head`], [`StartResponse::map_head`] |
//! | `shift_path_info` | [`Environ::shift_path_info`] |
//! | `application_uri`, `request_uri` | [`Environ::application_uri`], [`Environ::request_uri`] |
//! | `parse_qs`, `Rack::QueryParser` | [`Environ::query_pairs`], [`Environ::query_value`], [`form::parse_form`] |
//! | the path as text | [`Environ::path_info_utf8`] |

#![deny(missing_docs)]

pub mod app;
pub mod body;
pub mod client_error;
pub mod environ;
pub mod error_stream;
pub mod exchange;
pub mod form;
pub mod framing;
pub mod headers;
pub mod input;
pub mod interop;
pub mod map_head;
pub mod start_response;
pub mod target;
pub mod testing;
pub mod url;
pub mod validate;

pub use app::{App, AppError};
pub use body::Body;
pub use client_error::{BodyError, ClientFault};
pub use environ::{Environ, Scheme};
pub use error_stream::ErrorStream;
pub use headers::{header_map, HeaderError, IntoHeaders};
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
