//! The tutorial's demo as a portable [`gateway_spec::App`]: hello world at `/`, and a
//! file upload form at `/upload` that streams files to a directory.
//!
//! It is the Flask demo the project started from, without a framework:
//!
//! | Request          | Answer                                                           |
//! |------------------|------------------------------------------------------------------|
//! | `GET /`          | `200 text/plain`, `Hello, World!`                                |
//! | `GET /upload`    | `200 text/html`, the upload form                                 |
//! | `POST /upload`   | `200 application/json` `{"status":"ok","message":"file uploaded"}` |
//! | bad upload       | `400` (or `413` when too large) with `{"status":"error","message":…}` |
//! | other method     | `405` with `Allow`                                               |
//! | other path       | `404 text/plain`                                                 |
//!
//! `HEAD` is answered as `GET` (the server drops the body). Uploads never hold a whole
//! file in memory: see [`multipart`] for the parser and [`upload`] for naming and
//! publishing.
//!
//! ```
//! use gateway_spec::testing::TestClient;
//! use gateway_demo::DemoApp;
//!
//! let dir = std::env::temp_dir().join(format!("demo-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let client = TestClient::new(DemoApp::new(dir.clone(), 1 << 20));
//! assert_eq!(client.get("/").send().body, "Hello, World!");
//!
//! let body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hi.txt\"\r\n\r\n\
//!             hi\r\n--B--\r\n";
//! let response = client
//!     .post("/upload")
//!     .header("content-type", "multipart/form-data; boundary=B")
//!     .body(body)
//!     .send();
//! assert_eq!(response.body, r#"{"status":"ok","message":"file uploaded"}"#);
//! assert_eq!(std::fs::read(dir.join("hi.txt")).unwrap(), b"hi");
//! std::fs::remove_dir_all(dir).unwrap();
//! ```

pub mod multipart;
#[cfg(any(test, feature = "fuzzing"))]
pub mod split_checks;
pub mod upload;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

/// The upload form, served at `GET /upload`.
pub const FORM_HTML: &str = include_str!("form.html");

/// The body of `GET /`.
pub const HELLO: &str = "Hello, World!";

/// The demo app: hello world and a streaming file upload.
///
/// Servers call it from many threads at once: parallel uploads each get their own
/// temp file, and final names are claimed atomically, so two uploads of `a.txt`
/// become `a.txt` and `a (1).txt` whatever their timing.
#[derive(Debug)]
pub struct DemoApp {
    upload_dir: PathBuf,
    max_upload_bytes: u64,
    largest_parser_buffer: AtomicUsize,
}

impl DemoApp {
    /// An app saving uploads to `upload_dir` (created at the first upload if missing)
    /// and refusing request bodies over `max_upload_bytes`.
    ///
    /// The limit is on the whole request body, multipart framing included, like
    /// Flask's `MAX_CONTENT_LENGTH`: checked against CONTENT_LENGTH before reading when
    /// the client sent one, else while streaming.
    pub fn new(upload_dir: PathBuf, max_upload_bytes: u64) -> Self {
        Self {
            upload_dir,
            max_upload_bytes,
            largest_parser_buffer: AtomicUsize::new(0),
        }
    }

    /// Where uploads are saved.
    pub fn upload_dir(&self) -> &Path {
        &self.upload_dir
    }

    /// The largest request body accepted, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// The largest buffer any completed upload's multipart parser held, in bytes; 0
    /// before the first. It stays at [`multipart::BUFFER_BYTES`] whatever the file
    /// sizes, which is how tests show memory does not grow with an upload.
    pub fn largest_parser_buffer(&self) -> usize {
        self.largest_parser_buffer.load(Ordering::Relaxed)
    }

    fn upload(
        &self,
        mut environ: Environ,
        start_response: StartResponse,
    ) -> Result<Body, AppError> {
        match upload::receive(&mut environ, &self.upload_dir, self.max_upload_bytes) {
            Ok(saved) => {
                self.largest_parser_buffer
                    .fetch_max(saved.parser_buffer, Ordering::Relaxed);
                json(&start_response, StatusCode::OK, "ok", "file uploaded")
            }
            Err(e) if e.is_client_error() => {
                let status = if e.is_too_large() {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                };
                json(&start_response, status, "error", &e.to_string())
            }
            // The client went away, or the disk failed: the temp file is already gone
            // (drop guard), and the server answers 500 or closes the connection.
            Err(e) => Err(Box::new(e)),
        }
    }
}

impl App for DemoApp {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        let method = &environ.method;
        let reads = *method == Method::GET || *method == Method::HEAD;
        match environ.path_info.as_slice() {
            b"/" if reads => text(
                &start_response,
                StatusCode::OK,
                "text/plain; charset=utf-8",
                HELLO,
            ),
            b"/" => not_allowed(&start_response, "GET"),
            b"/upload" if reads => text(
                &start_response,
                StatusCode::OK,
                "text/html; charset=utf-8",
                FORM_HTML,
            ),
            b"/upload" if *method == Method::POST => self.upload(environ, start_response),
            b"/upload" => not_allowed(&start_response, "GET, POST"),
            _ => text(
                &start_response,
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "Not Found",
            ),
        }
    }
}

fn text(
    start_response: &StartResponse,
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    start_response.call(status, headers)?;
    Ok(Body::from(body))
}

fn not_allowed(start_response: &StartResponse, allow: &'static str) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(ALLOW, HeaderValue::from_static(allow));
    start_response.call(StatusCode::METHOD_NOT_ALLOWED, headers)?;
    Ok(Body::from("Method Not Allowed"))
}

fn json(
    start_response: &StartResponse,
    status: StatusCode,
    outcome: &str,
    message: &str,
) -> Result<Body, AppError> {
    // Built by hand so `status` comes first, as documented (`json!` sorts keys);
    // serde_json still does the string escaping.
    let body = format!(
        r#"{{"status":{},"message":{}}}"#,
        serde_json::to_string(outcome)?,
        serde_json::to_string(message)?
    );
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    start_response.call(status, headers)?;
    Ok(Body::from(body))
}
