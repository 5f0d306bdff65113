//! `start_response` and the legacy write handle: how an app names its status and
//! headers. It records and checks them; sending is the server's [`StartResponseSink`].

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderName, StatusCode};
use thiserror::Error;

use crate::headers::{HeaderError, IntoHeaders};
use crate::Body;

/// The status line and headers an app chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: StatusCode,
    /// A reason phrase chosen by the app; `None` means the code's usual phrase.
    pub reason: Option<String>,
    /// The response headers, without hop-by-hop ones (START-4).
    pub headers: HeaderMap,
}

impl ResponseHead {
    /// A head with `status`, its usual reason phrase and `headers`.
    pub fn new(status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            status,
            reason: None,
            headers,
        }
    }

    /// The reason phrase that goes on the status line.
    pub fn reason_phrase(&self) -> &str {
        match &self.reason {
            Some(reason) => reason,
            None => self.status.canonical_reason().unwrap_or(""),
        }
    }

    /// The app's Content-Length, if it set one: `Ok(None)` without, an error when the
    /// values are not digits or disagree (START-6).
    pub fn content_length(&self) -> Result<Option<u64>, StartResponseError> {
        let mut declared = None;
        for value in self.headers.get_all(http::header::CONTENT_LENGTH) {
            // The text is copied only for the error that names it.
            let invalid = || {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                StartResponseError::InvalidContentLength(text)
            };
            let n = parse_digits(value.as_bytes()).ok_or_else(invalid)?;
            if declared.is_some_and(|d| d != n) {
                return Err(invalid());
            }
            declared = Some(n);
        }
        Ok(declared)
    }
}

/// Parses a non-empty run of ASCII digits without overflow; anything else is `None`.
pub(crate) fn parse_digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// What was wrong with a call of `start_response` or of the write handle.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StartResponseError {
    /// A second call without error information (START-14).
    #[error(
        "start_response was already called; call it again only with error information, \
         before the headers went out"
    )]
    AlreadyStarted,
    /// A call with error information after the headers went out (START-16): the app
    /// must give up and return the error, so the server aborts the response.
    #[error(
        "the response headers already went out; return the error so the server aborts the response"
    )]
    HeadersSent,
    /// An informational status, which only the server may send (START-2).
    #[error("status {0} is informational; apps answer with 200 to 999, the server owns 1xx")]
    InformationalStatus(StatusCode),
    /// A hop-by-hop header, which only the server may set (START-4).
    #[error("header {0:?} is hop-by-hop; framing and connection headers belong to the server")]
    HopByHopHeader(HeaderName),
    /// A reason phrase with characters that could split the status line (START-3).
    #[error("the reason phrase {0:?} holds a control character or a character above U+00FF; use visible text, spaces and tabs")]
    InvalidReason(String),
    /// A Content-Length that is not one run of digits, or several that disagree
    /// (START-6).
    #[error("Content-Length {0:?} is not a single decimal number of bytes")]
    InvalidContentLength(String),
    /// The write handle was used before `start_response` (APP-3).
    #[error("write was called before start_response; call start_response first")]
    NotStarted,
    /// A call after the server finished the response.
    #[error("the response is already finished")]
    ResponseFinished,
    /// A header name or value given to [`StartResponse::respond`] or one of its
    /// shortcuts cannot go on the wire.
    #[error(transparent)]
    InvalidHeader(#[from] HeaderError),
}

impl From<StartResponseError> for io::Error {
    fn from(e: StartResponseError) -> Self {
        io::Error::other(e)
    }
}

/// The server side of `start_response`: what a call of [`StartResponse`] and of its
/// [`WriteHandle`] reaches. Servers implement it (usually through
/// [`exchange::run`](crate::exchange::run)); middleware wraps it.
pub trait StartResponseSink: Send + Sync {
    /// Records `head`, replacing an earlier one only when `error` is given and the
    /// headers have not gone out (START-14, START-15, START-16).
    fn start(
        &self,
        head: ResponseHead,
        error: Option<&(dyn Error + 'static)>,
    ) -> Result<(), StartResponseError>;

    /// Sends `data` as body bytes, sending the headers first if they have not gone
    /// out, before returning (WRITE-2).
    fn write(&self, data: &[u8]) -> io::Result<()>;
}

/// The `start_response` callable given to an app.
///
/// Cloneable and `Send`, so an app may move it into its [`Body`] and
/// call it at the first iteration, as PEP 3333 allows for generators.
///
/// The shortcuts ([`StartResponse::text`], [`StartResponse::json`],
/// [`StartResponse::reply`], [`StartResponse::respond`]) cover the common responses;
/// [`StartResponse::call`] takes a ready `HeaderMap`.
///
/// ```
/// use gateway_spec::testing::TestClient;
/// use gateway_spec::{AppError, Body, Environ, StartResponse};
/// use http::StatusCode;
///
/// let app = |_environ: Environ, start_response: StartResponse| -> Result<Body, AppError> {
///     Ok(start_response.text(StatusCode::OK, "Hello, World!")?)
/// };
/// let response = TestClient::new(app).get("/").send();
/// assert_eq!(response.status, StatusCode::OK);
/// assert_eq!(response.headers["content-type"], "text/plain; charset=utf-8");
/// assert_eq!(response.body, "Hello, World!");
/// ```
#[derive(Clone)]
pub struct StartResponse {
    responder: Arc<dyn StartResponseSink>,
}

impl StartResponse {
    /// A `start_response` that reaches `responder`.
    pub fn new(responder: Arc<dyn StartResponseSink>) -> Self {
        Self { responder }
    }

    /// Sets the status and headers (the first call). Returns the legacy write handle.
    pub fn call(
        &self,
        status: StatusCode,
        headers: HeaderMap,
    ) -> Result<WriteHandle, StartResponseError> {
        self.start(ResponseHead::new(status, headers), None)
    }

    /// Like [`StartResponse::call`], with a reason phrase of the app's choosing.
    pub fn call_with_reason(
        &self,
        status: StatusCode,
        reason: &str,
        headers: HeaderMap,
    ) -> Result<WriteHandle, StartResponseError> {
        let head = ResponseHead {
            status,
            reason: Some(reason.to_owned()),
            headers,
        };
        self.start(head, None)
    }

    /// Replaces the status and headers because of `error` (PEP 3333's `exc_info`).
    /// Allowed until the headers went out; after that it fails with
    /// [`StartResponseError::HeadersSent`] and the app must return an error.
    pub fn call_with_error(
        &self,
        status: StatusCode,
        headers: HeaderMap,
        error: &(dyn Error + 'static),
    ) -> Result<WriteHandle, StartResponseError> {
        self.start(ResponseHead::new(status, headers), Some(error))
    }

    /// Sets the status and any header list: `(name, value)` pairs or a `HeaderMap`
    /// (see [`IntoHeaders`]). A name or value that cannot go on the wire is
    /// [`StartResponseError::InvalidHeader`], not a panic.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     start_response.respond(
    ///         StatusCode::CREATED,
    ///         [("content-type", "text/plain"), ("location", "/items/7")],
    ///     )?;
    ///     Ok(Body::from("created"))
    /// };
    /// let response = TestClient::new(app).post("/items").send();
    /// assert_eq!(response.status, StatusCode::CREATED);
    /// assert_eq!(response.headers["location"], "/items/7");
    /// ```
    pub fn respond(
        &self,
        status: StatusCode,
        headers: impl IntoHeaders,
    ) -> Result<WriteHandle, StartResponseError> {
        self.call(status, headers.into_headers()?)
    }

    /// Starts a response with `status` and `content_type`, and returns `body` as the
    /// body to give back to the server: a whole response in one line.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.reply(StatusCode::OK, "text/csv", "a,b\n1,2\n")?)
    /// };
    /// let response = TestClient::new(app).get("/report.csv").send();
    /// assert_eq!(response.headers["content-type"], "text/csv");
    /// assert_eq!(response.headers["content-length"], "8");
    /// ```
    pub fn reply(
        &self,
        status: StatusCode,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Result<Body, StartResponseError> {
        self.respond(status, [(CONTENT_TYPE, content_type)])?;
        Ok(body.into())
    }

    /// A `text/plain; charset=utf-8` response: [`StartResponse::reply`] for text.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.text(StatusCode::NOT_FOUND, "Not Found")?)
    /// };
    /// assert_eq!(TestClient::new(app).get("/x").send().status, StatusCode::NOT_FOUND);
    /// ```
    pub fn text(
        &self,
        status: StatusCode,
        body: impl Into<Body>,
    ) -> Result<Body, StartResponseError> {
        self.reply(status, "text/plain; charset=utf-8", body)
    }

    /// A `text/html; charset=utf-8` response.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.html(StatusCode::OK, "<h1>Hi</h1>")?)
    /// };
    /// let response = TestClient::new(app).get("/").send();
    /// assert_eq!(response.headers["content-type"], "text/html; charset=utf-8");
    /// ```
    pub fn html(
        &self,
        status: StatusCode,
        body: impl Into<Body>,
    ) -> Result<Body, StartResponseError> {
        self.reply(status, "text/html; charset=utf-8", body)
    }

    /// An `application/json` response of already serialised JSON (this crate has no
    /// serialiser; pass `serde_json::to_vec(&value)?` or a literal).
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.json(StatusCode::OK, r#"{"ok":true}"#)?)
    /// };
    /// let response = TestClient::new(app).get("/status").send();
    /// assert_eq!(response.headers["content-type"], "application/json");
    /// assert_eq!(response.body, r#"{"ok":true}"#);
    /// ```
    pub fn json(
        &self,
        status: StatusCode,
        body: impl Into<Body>,
    ) -> Result<Body, StartResponseError> {
        self.reply(status, "application/json", body)
    }

    /// A redirect (`status` is usually 301, 302, 303, 307 or 308) to `location`,
    /// with a short text body naming it.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.redirect(StatusCode::SEE_OTHER, "/done")?)
    /// };
    /// let response = TestClient::new(app).post("/form").send();
    /// assert_eq!(response.status, StatusCode::SEE_OTHER);
    /// assert_eq!(response.headers["location"], "/done");
    /// ```
    pub fn redirect(&self, status: StatusCode, location: &str) -> Result<Body, StartResponseError> {
        self.respond(
            status,
            [
                (CONTENT_TYPE, "text/plain; charset=utf-8"),
                (LOCATION, location),
            ],
        )?;
        Ok(Body::from(format!("See {location}\n")))
    }

    /// Calls the responder with a complete head; the form middleware uses to pass a
    /// call through.
    pub fn start(
        &self,
        head: ResponseHead,
        error: Option<&(dyn Error + 'static)>,
    ) -> Result<WriteHandle, StartResponseError> {
        self.responder.start(head, error)?;
        Ok(self.write_handle())
    }

    /// The legacy write handle, for middleware that forwards writes.
    pub fn write_handle(&self) -> WriteHandle {
        WriteHandle {
            responder: Arc::clone(&self.responder),
        }
    }
}

impl fmt::Debug for StartResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartResponse").finish_non_exhaustive()
    }
}

/// The legacy write handle (PEP 3333's `write`): body bytes sent at once, for apps
/// ported from push-style APIs. New apps return a [`Body`] instead.
#[derive(Clone)]
pub struct WriteHandle {
    responder: Arc<dyn StartResponseSink>,
}

impl io::Write for WriteHandle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.responder.write(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for WriteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHandle").finish_non_exhaustive()
    }
}

/// Whether `name` is a hop-by-hop header, which only the server may set (START-4).
///
/// ```
/// use gateway_spec::start_response::is_hop_by_hop;
/// use http::header::{CONNECTION, CONTENT_TYPE};
///
/// assert!(is_hop_by_hop(&CONNECTION));
/// assert!(!is_hop_by_hop(&CONTENT_TYPE));
/// ```
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "transfer-encoding" | "te" | "trailer" | "upgrade"
    ) || name.as_str().starts_with("proxy-")
}

/// Checks a head the way a server must before accepting it (START-2, START-3,
/// START-4, START-6). The validator uses the same check to report violations.
pub fn check_head(head: &ResponseHead) -> Result<(), StartResponseError> {
    checked_length(head).map(|_| ())
}

/// [`check_head`], returning the Content-Length the head declares (checked on the
/// way), so that the exchange need not look it up again.
pub(crate) fn checked_length(head: &ResponseHead) -> Result<Option<u64>, StartResponseError> {
    if head.status.is_informational() {
        return Err(StartResponseError::InformationalStatus(head.status));
    }
    if let Some(reason) = &head.reason {
        let allowed = |c: char| matches!(c, '\t' | ' '..='~' | '\u{80}'..='\u{ff}');
        if !reason.chars().all(allowed) {
            return Err(StartResponseError::InvalidReason(reason.clone()));
        }
    }
    if let Some(name) = head.headers.keys().find(|name| is_hop_by_hop(name)) {
        return Err(StartResponseError::HopByHopHeader(name.clone()));
    }
    head.content_length()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_with(name: &'static str, value: &'static str) -> ResponseHead {
        let mut headers = HeaderMap::new();
        headers.append(name, value.parse().unwrap());
        ResponseHead::new(StatusCode::OK, headers)
    }

    #[test]
    fn check_head_refuses_each_hop_by_hop_header() {
        for name in [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade",
            "proxy-authenticate",
        ] {
            assert!(
                matches!(
                    check_head(&head_with(name, "x")),
                    Err(StartResponseError::HopByHopHeader(_))
                ),
                "{name}"
            );
        }
        assert_eq!(check_head(&head_with("content-type", "text/plain")), Ok(()));
    }

    #[test]
    fn check_head_refuses_informational_status_and_bad_reason() {
        let head = ResponseHead::new(StatusCode::CONTINUE, HeaderMap::new());
        assert!(matches!(
            check_head(&head),
            Err(StartResponseError::InformationalStatus(_))
        ));
        let mut head = ResponseHead::new(StatusCode::OK, HeaderMap::new());
        head.reason = Some("Fine\r\nX-Injected: 1".into());
        assert!(matches!(
            check_head(&head),
            Err(StartResponseError::InvalidReason(_))
        ));
        head.reason = Some("All\tgood".into());
        assert_eq!(check_head(&head), Ok(()));
        assert_eq!(head.reason_phrase(), "All\tgood");
    }

    #[test]
    fn content_length_must_be_digits_and_agree() {
        assert_eq!(
            head_with("content-length", "12").content_length(),
            Ok(Some(12))
        );
        for bad in ["+1", "0x1", "1 2", "", "-1", "99999999999999999999999"] {
            assert!(
                head_with("content-length", bad).content_length().is_err(),
                "{bad:?}"
            );
        }
        let mut head = head_with("content-length", "3");
        head.headers.append("content-length", "3".parse().unwrap());
        assert_eq!(head.content_length(), Ok(Some(3)));
        head.headers.append("content-length", "4".parse().unwrap());
        assert!(head.content_length().is_err());
    }

    #[test]
    fn usual_reason_phrase_by_default() {
        let head = ResponseHead::new(StatusCode::NOT_FOUND, HeaderMap::new());
        assert_eq!(head.reason_phrase(), "Not Found");
    }
}
