//! [`Files`]: a directory as static files (Rack's `Files`) with conditional GET, one
//! `Range` and HEAD; no listings, no compression, no multiple ranges.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::header::{ACCEPT_RANGES, ALLOW, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED, RANGE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use thiserror::Error;

use crate::conditional::{Precondition, Validators};
use crate::file_path::relative_path;
use crate::range::{parse_range, RangeRequest};

/// Why a directory cannot be served.
#[derive(Debug, Error)]
pub enum FilesError {
    /// The directory cannot be resolved (it does not exist, or is not readable).
    #[error("cannot serve {path:?}: {source}; give an existing, readable directory")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// The path names something other than a directory.
    #[error("cannot serve {0:?}: it is not a directory")]
    NotADirectory(PathBuf),
}

/// An app that serves the files below a directory.
///
/// - `PATH_INFO` names the file (mount the app with [`Mount`](crate::Mount) to serve
///   it under a prefix). `Content-Type` comes from the file name (`mime_guess`),
///   `application/octet-stream` when it says nothing.
/// - Every answer carries a strong `ETag` and `Last-Modified`; `If-None-Match` and
///   `If-Modified-Since` give 304, `If-Match` and `If-Unmodified-Since` give 412.
/// - One byte range gives 206 with `Content-Range`, a range past the end 416;
///   several ranges, a malformed `Range`, or an `If-Range` that no longer matches
///   give the whole file with 200 (RFC 9110 allows a server to ignore `Range`).
/// - `HEAD` has the headers of `GET`; methods other than `GET` and `HEAD` get 405.
/// - Files go out as [`Body::file`] or [`Body::file_range`], so a server's file
///   fast path applies.
///
/// No way out of the directory: a segment that starts with `.` (so `..`, `.` and
/// hidden names such as `.git`), an empty segment, `\`, `:` or NUL is refused (see
/// [`crate::file_path::relative_path`]); the escapes `%2e` and `%2F`
/// are decoded before the check, so they change nothing. Symlinks are followed
/// only when the file they lead to is inside the directory; one that leads out is
/// answered 404 (the check resolves the path, then opens the result: serve a
/// tree that no untrusted party can change while it is served, or a symlink
/// swapped in between the two steps wins). Anything refused is 404, like a
/// missing file. A directory is
/// served as its `index.html` when the path ends with `/`; without the slash it is
/// redirected (301) to the path with one, so relative links work.
///
/// ```
/// use gateway_kit::Files;
/// use gateway_spec::testing::TestClient;
/// use http::StatusCode;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("hello.txt"), "Hello, file!")?;
/// let client = TestClient::new(Files::new(dir.path())?);
///
/// let response = client.get("/hello.txt").send();
/// assert_eq!(response.status, StatusCode::OK);
/// assert_eq!(response.headers["content-type"], "text/plain");
/// assert_eq!(response.body, "Hello, file!");
///
/// let etag = response.headers["etag"].to_str()?;
/// let again = client.get("/hello.txt").header("if-none-match", etag).send();
/// assert_eq!(again.status, StatusCode::NOT_MODIFIED);
///
/// let part = client.get("/hello.txt").header("range", "bytes=7-").send();
/// assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
/// assert_eq!(part.body, "file!");
///
/// assert_eq!(client.get("/../etc/passwd").send().status, StatusCode::NOT_FOUND);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Files {
    root: PathBuf,
    index: Option<String>,
}

impl Files {
    /// Serves the directory `root`, resolved now (symlinks in `root` itself are
    /// fine). Fails when it does not exist or is not a directory.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, FilesError> {
        let given = root.as_ref();
        let root = fs::canonicalize(given).map_err(|source| FilesError::Unreadable {
            path: given.to_owned(),
            source,
        })?;
        if !root.is_dir() {
            return Err(FilesError::NotADirectory(given.to_owned()));
        }
        Ok(Self {
            root,
            index: Some("index.html".to_owned()),
        })
    }

    /// The file served for a directory (default `index.html`); `None` answers 404
    /// for directories.
    ///
    /// ```
    /// use gateway_kit::Files;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let files = Files::new(dir.path())?.index_file(Some("default.htm"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn index_file(mut self, name: Option<&str>) -> Self {
        self.index = name.map(str::to_owned);
        self
    }

    /// The directory served, resolved.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `path_info` leads: `Found` a regular file inside the root, `Slash` for
    /// a directory asked for without its trailing slash, or `Missing`.
    fn resolve(&self, path_info: &[u8]) -> Resolved {
        let Ok(relative) = relative_path(path_info) else {
            return Resolved::Missing;
        };
        let Some(target) = self.inside(&self.root.join(&relative.path)) else {
            return Resolved::Missing;
        };
        if target.is_file() {
            return if relative.directory {
                Resolved::Missing
            } else {
                Resolved::Found(target)
            };
        }
        if !target.is_dir() {
            return Resolved::Missing;
        }
        if !relative.directory {
            return Resolved::Slash;
        }
        let index = self.index.as_ref().map(|name| target.join(name));
        match index.and_then(|index| self.inside(&index)) {
            Some(index) if index.is_file() => Resolved::Found(index),
            _ => Resolved::Missing,
        }
    }

    /// The real path of `path` when it exists and is inside the root after every
    /// symlink is followed.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let real = fs::canonicalize(path).ok()?;
        real.starts_with(&self.root).then_some(real)
    }
}

enum Resolved {
    Found(PathBuf),
    Slash,
    Missing,
}

impl App for Files {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        if environ.method != Method::GET && environ.method != Method::HEAD {
            start_response.respond(
                StatusCode::METHOD_NOT_ALLOWED,
                [(CONTENT_TYPE, "text/plain"), (ALLOW, "GET, HEAD")],
            )?;
            return Ok(Body::from("Method Not Allowed: use GET or HEAD\n"));
        }
        let path = match self.resolve(&environ.path_info) {
            Resolved::Found(path) => path,
            Resolved::Slash => {
                let location = format!("{}/", environ.request_uri(false));
                return Ok(start_response.redirect(StatusCode::MOVED_PERMANENTLY, &location)?);
            }
            Resolved::Missing => {
                return Ok(start_response.text(StatusCode::NOT_FOUND, "Not Found\n")?);
            }
        };
        // Between the check and the open the file may vanish: that is a 404 too.
        let Ok(file) = File::open(&path) else {
            return Ok(start_response.text(StatusCode::NOT_FOUND, "Not Found\n")?);
        };
        serve_file(file, &path, &environ, &start_response)
    }
}

fn serve_file(
    file: File,
    path: &Path,
    environ: &Environ,
    start_response: &StartResponse,
) -> Result<Body, AppError> {
    let metadata = file.metadata()?;
    let len = metadata.len();
    let validators = Validators::new(metadata.modified()?, len);
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, HeaderValue::from_str(&validators.etag)?);
    headers.insert(
        LAST_MODIFIED,
        HeaderValue::from_str(&validators.last_modified())?,
    );
    match validators.precondition(&environ.method, &environ.headers) {
        Precondition::NotModified => {
            start_response.call(StatusCode::NOT_MODIFIED, headers)?;
            return Ok(Body::empty());
        }
        Precondition::Failed => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            start_response.call(StatusCode::PRECONDITION_FAILED, headers)?;
            return Ok(Body::from("Precondition Failed\n"));
        }
        Precondition::Proceed => {}
    }
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let range = match environ.headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value)
            if environ.method == Method::GET && validators.range_allowed(&environ.headers) =>
        {
            parse_range(value, len)
        }
        _ => RangeRequest::Whole,
    };
    match range {
        RangeRequest::Whole => {
            headers.insert(CONTENT_TYPE, content_type(path));
            start_response.call(StatusCode::OK, headers)?;
            Ok(Body::file(file)?)
        }
        RangeRequest::Part { start, end } => {
            headers.insert(CONTENT_TYPE, content_type(path));
            let content_range = format!("bytes {start}-{end}/{len}");
            headers.insert(CONTENT_RANGE, HeaderValue::from_str(&content_range)?);
            start_response.call(StatusCode::PARTIAL_CONTENT, headers)?;
            Ok(Body::file_range(file, start, end - start + 1)?)
        }
        RangeRequest::Unsatisfiable => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            headers.insert(
                CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}"))?,
            );
            start_response.call(StatusCode::RANGE_NOT_SATISFIABLE, headers)?;
            Ok(Body::from("Range Not Satisfiable\n"))
        }
    }
}

/// The media type `mime_guess` gives the file name, or `application/octet-stream`.
fn content_type(path: &Path) -> HeaderValue {
    let guess = mime_guess::from_path(path).first_or_octet_stream();
    HeaderValue::from_str(guess.as_ref())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}
