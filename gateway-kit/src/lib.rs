//! The app author's toolkit on top of `gateway-spec`: [`Mount`] (one app per path
//! prefix, Rack's `URLMap`) and [`Files`] (a static directory, Rack's `Files`).
//!
//! `gateway-spec` stays the small contract crate: the response shortcuts
//! (`StartResponse::text`, `respond`, `map_head`), the URL helpers
//! (`Environ::shift_path_info`, `application_uri`, `query_pairs`) and
//! `Body::from_chunks` are there. This crate holds what needs more than the contract:
//! prefix dispatch that follows SPEC's URL rules (URL-4), and static files with
//! `mime_guess`, `ETag`/`Last-Modified`, conditional GET, `Range` and HEAD.
//!
//! ```
//! use gateway_kit::{Files, Mount};
//! use gateway_spec::testing::TestClient;
//! use gateway_spec::{AppError, Body, Environ, StartResponse};
//! use http::StatusCode;
//!
//! fn api(environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
//!     match environ.path_info_utf8() {
//!         Some("/status") => Ok(start_response.json(StatusCode::OK, r#"{"ok":true}"#)?),
//!         _ => Ok(start_response.text(StatusCode::NOT_FOUND, "no such endpoint")?),
//!     }
//! }
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("site.css"), "body { margin: 0 }")?;
//! let app = Mount::new().at("/api", api).at("/static", Files::new(dir.path())?);
//!
//! let client = TestClient::new(app);
//! assert_eq!(client.get("/api/status").send().body, r#"{"ok":true}"#);
//! assert_eq!(client.get("/static/site.css").send().headers["content-type"], "text/css");
//! assert_eq!(client.get("/elsewhere").send().status, StatusCode::NOT_FOUND);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/kit_demo` is a complete program: a small JSON API and a static folder
//! under one `Mount`.

#![deny(missing_docs)]

pub mod conditional;
pub mod file_path;
pub mod files;
pub mod mount;
pub mod range;

pub use files::{Files, FilesError};
pub use mount::Mount;

/// The README's "Write an app" section, compiled and run as doc tests (the
/// `readme` test checks that README.md holds exactly this text).
#[cfg(doctest)]
#[doc = include_str!("../doc/write-an-app.md")]
pub struct ReadmeWriteAnApp;
