//! The validator middleware: wraps an app and checks both sides of the contract at
//! run time, like `wsgiref.validate`, reporting each violation with its SPEC rule.
//! It never changes what flows through, except that the file fast path becomes a
//! plain iterated body.

use std::error::Error;
use std::fmt;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{StatusCode, Version};

use crate::framing::has_no_body;
use crate::input::ClientErrorRecord;
use crate::start_response::{check_head, parse_digits, StartResponseError};
use crate::{
    App, AppError, Body, Environ, ErrorStream, ResponseHead, StartResponse, StartResponseSink,
};

/// The SPEC.md rule each check enforces.
pub mod rules {
    /// SCRIPT_NAME is empty or starts with `/` and does not end with `/`.
    pub const SCRIPT_NAME_FORM: &str = "ENV-4";
    /// PATH_INFO is empty or starts with `/` (or is `*` for the asterisk form).
    pub const PATH_INFO_FORM: &str = "ENV-5";
    /// SCRIPT_NAME and PATH_INFO together are the request path, so never both empty.
    pub const PATH_NOT_EMPTY: &str = "ENV-6";
    /// CONTENT_LENGTH agrees with the Content-Length header.
    pub const CONTENT_LENGTH_AGREES: &str = "ENV-20";
    /// SERVER_PROTOCOL is HTTP/1.0 or HTTP/1.1.
    pub const PROTOCOL_VERSION: &str = "ENV-16";
    /// Header names with `_` are dropped.
    pub const NO_UNDERSCORE_HEADERS: &str = "ENV-18";
    /// SERVER_NAME is not empty.
    pub const SERVER_NAME_SET: &str = "ENV-22";
    /// start_response before the first non-empty chunk, and before the end.
    pub const START_BEFORE_BODY: &str = "APP-3";
    /// No hop-by-hop header from the app.
    pub const HOP_BY_HOP: &str = "APP-4";
    /// No body, no Content-Length and no Content-Type on 204; no body on 304.
    pub const NO_BODY_STATUS: &str = "APP-8";
    /// The body has exactly the bytes the app's Content-Length announced.
    pub const BODY_MATCHES_CONTENT_LENGTH: &str = "APP-13";
    /// Status 200 to 999.
    pub const STATUS_RANGE: &str = "START-2";
    /// A reason phrase of visible text.
    pub const REASON_PHRASE: &str = "START-3";
    /// Content-Length is one run of digits.
    pub const CONTENT_LENGTH_SYNTAX: &str = "START-6";
    /// Header values without leading or trailing whitespace (a warning).
    pub const HEADER_WHITESPACE: &str = "START-7";
    /// A response with a body names its Content-Type (a warning).
    pub const CONTENT_TYPE_PRESENT: &str = "START-8";
    /// No second start_response without error information.
    pub const SECOND_CALL: &str = "START-14";
    /// After being told the headers went out, the app propagates its failure.
    pub const ERROR_AFTER_HEADERS: &str = "START-17";
    /// No write after the app returned its body.
    pub const WRITE_AFTER_RETURN: &str = "WRITE-4";
    /// A body of known length yields exactly that many bytes.
    pub const BODY_MATCHES_LEN: &str = "BODY-6";
    /// Content-Length and the body's known length agree.
    pub const LENGTHS_AGREE: &str = "BODY-7";
    /// The server closes every body.
    pub const BODY_CLOSED: &str = "BODY-3";

    /// Every rule the validator can report.
    pub const ALL: [&str; 22] = [
        SCRIPT_NAME_FORM,
        PATH_INFO_FORM,
        PATH_NOT_EMPTY,
        CONTENT_LENGTH_AGREES,
        PROTOCOL_VERSION,
        NO_UNDERSCORE_HEADERS,
        SERVER_NAME_SET,
        START_BEFORE_BODY,
        HOP_BY_HOP,
        NO_BODY_STATUS,
        BODY_MATCHES_CONTENT_LENGTH,
        STATUS_RANGE,
        REASON_PHRASE,
        CONTENT_LENGTH_SYNTAX,
        HEADER_WHITESPACE,
        CONTENT_TYPE_PRESENT,
        SECOND_CALL,
        ERROR_AFTER_HEADERS,
        WRITE_AFTER_RETURN,
        BODY_MATCHES_LEN,
        LENGTHS_AGREE,
        BODY_CLOSED,
    ];
}

/// Which side of the contract broke a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The application (or middleware acting as one).
    App,
    /// The server (or middleware acting as one).
    Server,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The SPEC.md rule ID, e.g. `START-6`.
    pub rule: &'static str,
    /// Who broke it.
    pub side: Side,
    /// What happened, in words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::App => "app",
            Side::Server => "server",
        };
        write!(f, "[{}] {side}: {}", self.rule, self.message)
    }
}

/// The violations a [`Validator`] found; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Report {
    violations: Arc<Mutex<Vec<Violation>>>,
    open_bodies: Arc<AtomicUsize>,
}

impl Report {
    /// Every violation so far, in order.
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.violations).clone()
    }

    /// The rule IDs of every violation so far, in order.
    pub fn rules(&self) -> Vec<&'static str> {
        lock(&self.violations).iter().map(|v| v.rule).collect()
    }

    /// Whether no violation was found, counting bodies the server has not closed.
    pub fn is_clean(&self) -> bool {
        self.check_bodies_closed();
        lock(&self.violations).is_empty()
    }

    /// Records a violation of BODY-3 for every body returned by the app that the
    /// server has not closed yet. Call it once the server is done.
    pub fn check_bodies_closed(&self) {
        let open = self.open_bodies.swap(0, Ordering::SeqCst);
        for _ in 0..open {
            self.record(
                rules::BODY_CLOSED,
                Side::Server,
                "a response body was never closed".into(),
                None,
            );
        }
    }

    fn record(
        &self,
        rule: &'static str,
        side: Side,
        message: String,
        errors: Option<&ErrorStream>,
    ) {
        let violation = Violation {
            rule,
            side,
            message,
        };
        if let Some(errors) = errors {
            let _ = writeln!(errors.clone(), "gateway-spec validator: {violation}");
        }
        lock(&self.violations).push(violation);
    }
}

/// Middleware that checks the app it wraps and the server that calls it.
///
/// Each violation goes to the request's errors stream and to the [`Report`].
///
/// ```
/// use gateway_spec::testing::TestClient;
/// use gateway_spec::validate::Validator;
/// use gateway_spec::{Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
///
/// let app = |_: Environ, start: StartResponse| {
///     let mut headers = HeaderMap::new();
///     headers.insert("connection", "close".parse().unwrap()); // not the app's to set
///     let _ = start.call(StatusCode::OK, headers);
///     Ok(Body::from("hi"))
/// };
/// let validator = Validator::new(app);
/// let report = validator.report();
/// TestClient::new(validator).get("/").send();
/// assert!(report.rules().contains(&"APP-4"));
/// ```
pub struct Validator<A> {
    app: A,
    report: Report,
}

impl<A: App> Validator<A> {
    /// Wraps `app`.
    pub fn new(app: A) -> Self {
        Self {
            app,
            report: Report::default(),
        }
    }

    /// The report this validator fills.
    pub fn report(&self) -> Report {
        self.report.clone()
    }
}

impl<A: App> App for Validator<A> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        let errors = environ.errors.clone();
        check_environ(&environ, &self.report, &errors);
        let call = Arc::new(CallChecker {
            inner: start_response,
            report: self.report.clone(),
            client_error: environ.input.client_error_record(),
            errors,
            state: Mutex::new(CallState::default()),
        });
        let result = self.app.call(
            environ,
            StartResponse::new(call.clone() as Arc<dyn StartResponseSink>),
        );
        let ignored_headers_sent = {
            let mut state = call.state();
            state.returned = true;
            result.is_ok() && state.told_headers_sent
        };
        if ignored_headers_sent {
            call.violation(
                rules::ERROR_AFTER_HEADERS,
                "start_response said the headers already went out, yet the app returned a body instead of its error",
            );
        }
        result.map(|body| self.checked_body(body, call))
    }
}

impl<A: App> Validator<A> {
    fn checked_body(&self, body: Body, call: Arc<CallChecker>) -> Body {
        let len = body.len();
        let (declared, written) = {
            let state = call.state();
            (state.declared_len, state.written)
        };
        if let (Some(len), Some(declared)) = (len, declared) {
            if written + len != declared {
                call.violation(
                    rules::LENGTHS_AGREE,
                    &format!(
                        "Content-Length says {declared} but {written} bytes were written and the body's known length is {len}"
                    ),
                );
            }
        }
        self.report.open_bodies.fetch_add(1, Ordering::SeqCst);
        let open = self.report.open_bodies.clone();
        let chunks = CheckedChunks {
            inner: body,
            call,
            produced: 0,
            ended: false,
        };
        let checked = Body::try_from_chunks(chunks).on_close(move || {
            // Saturating: check_bodies_closed may already have counted this one.
            let _ = open.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        });
        match len {
            Some(n) => checked.with_len(n),
            None => checked,
        }
    }
}

/// The server-side rules an environ must meet.
fn check_environ(environ: &Environ, report: &Report, errors: &ErrorStream) {
    let server = |rule, message: String| report.record(rule, Side::Server, message, Some(errors));
    let script = &environ.script_name;
    if !script.is_empty() && (script[0] != b'/' || script == b"/") {
        server(
            rules::SCRIPT_NAME_FORM,
            format!(
                "SCRIPT_NAME {:?} must be empty or start with '/' and not be '/' alone",
                environ.script_name_str()
            ),
        );
    }
    let path = &environ.path_info;
    if !path.is_empty() && path[0] != b'/' && path != b"*" {
        server(
            rules::PATH_INFO_FORM,
            format!(
                "PATH_INFO {:?} must be empty or start with '/'",
                environ.path_info_str()
            ),
        );
    }
    if script.is_empty() && path.is_empty() {
        server(
            rules::PATH_NOT_EMPTY,
            "SCRIPT_NAME and PATH_INFO are both empty; PATH_INFO should be '/' at least".into(),
        );
    }
    if environ.server_name.is_empty() {
        server(rules::SERVER_NAME_SET, "SERVER_NAME is empty".into());
    }
    let header_length = environ
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| parse_digits(v.as_bytes()));
    if environ.content_length.is_some() && environ.content_length != header_length {
        server(
            rules::CONTENT_LENGTH_AGREES,
            format!(
                "CONTENT_LENGTH is {:?} but the Content-Length header says {:?}",
                environ.content_length, header_length
            ),
        );
    }
    if let Some(name) = environ.headers.keys().find(|n| n.as_str().contains('_')) {
        server(
            rules::NO_UNDERSCORE_HEADERS,
            format!("request header {name:?} contains '_' and must be dropped"),
        );
    }
    if environ.version != Version::HTTP_10 && environ.version != Version::HTTP_11 {
        server(
            rules::PROTOCOL_VERSION,
            format!(
                "SERVER_PROTOCOL is {:?}; only HTTP/1.0 and HTTP/1.1 are served",
                environ.version
            ),
        );
    }
}

#[derive(Default)]
struct CallState {
    /// The status of the last accepted head.
    status: Option<StatusCode>,
    declared_len: Option<u64>,
    /// Whether start_response was called at all (accepted or not).
    called: bool,
    /// The app was told the headers went out; it must return an error.
    told_headers_sent: bool,
    /// The app's `call` returned.
    returned: bool,
    /// Bytes sent through the legacy write handle; they count towards Content-Length.
    written: u64,
}

/// Wraps the server's start_response and checks each call.
struct CallChecker {
    inner: StartResponse,
    report: Report,
    /// A client fault on the input explains a body that ends early (FAIL-14).
    client_error: ClientErrorRecord,
    errors: ErrorStream,
    state: Mutex<CallState>,
}

impl CallChecker {
    fn state(&self) -> MutexGuard<'_, CallState> {
        lock(&self.state)
    }

    fn violation(&self, rule: &'static str, message: &str) {
        self.report
            .record(rule, Side::App, message.to_owned(), Some(&self.errors));
    }

    fn check_head(&self, head: &ResponseHead) {
        if let Err(e) = check_head(head) {
            let rule = match e {
                StartResponseError::InformationalStatus(_) => Some(rules::STATUS_RANGE),
                StartResponseError::InvalidReason(_) => Some(rules::REASON_PHRASE),
                StartResponseError::HopByHopHeader(_) => Some(rules::HOP_BY_HOP),
                StartResponseError::InvalidContentLength(_) => Some(rules::CONTENT_LENGTH_SYNTAX),
                _ => None,
            };
            if let Some(rule) = rule {
                self.violation(rule, &e.to_string());
            }
        }
        if let Some(name) = head.headers.iter().find_map(|(name, value)| {
            let v = value.as_bytes();
            let padded = |b: Option<&u8>| b.is_some_and(|b| *b == b' ' || *b == b'\t');
            (padded(v.first()) || padded(v.last())).then_some(name)
        }) {
            self.violation(
                rules::HEADER_WHITESPACE,
                &format!("the value of header {name:?} begins or ends with whitespace"),
            );
        }
        if head.status == StatusCode::NO_CONTENT {
            for name in [http::header::CONTENT_LENGTH, http::header::CONTENT_TYPE] {
                if head.headers.contains_key(&name) {
                    self.violation(
                        rules::NO_BODY_STATUS,
                        &format!("a 204 response must not carry {name}"),
                    );
                }
            }
        }
        let wants_body = !has_no_body(&http::Method::GET, head.status);
        if wants_body && !head.headers.contains_key(http::header::CONTENT_TYPE) {
            self.violation(
                rules::CONTENT_TYPE_PRESENT,
                &format!(
                    "status {} carries a body but no Content-Type",
                    head.status.as_u16()
                ),
            );
        }
    }
}

impl StartResponseSink for CallChecker {
    fn start(
        &self,
        head: ResponseHead,
        error: Option<&(dyn Error + 'static)>,
    ) -> Result<(), StartResponseError> {
        self.check_head(&head);
        let status = head.status;
        let declared = head.content_length().ok().flatten();
        let result = self.inner.start(head, error).map(|_| ());
        let mut state = self.state();
        if state.called && error.is_none() {
            drop(state);
            self.violation(
                rules::SECOND_CALL,
                "start_response called a second time without error information",
            );
            state = self.state();
        }
        state.called = true;
        match &result {
            Ok(()) => {
                state.status = Some(status);
                state.declared_len = declared;
            }
            Err(StartResponseError::HeadersSent) => state.told_headers_sent = true,
            Err(_) => {}
        }
        result
    }

    fn write(&self, data: &[u8]) -> io::Result<()> {
        let (started, returned) = {
            let state = self.state();
            (state.status.is_some(), state.returned)
        };
        if !started {
            self.violation(
                rules::START_BEFORE_BODY,
                "write called before start_response",
            );
        }
        if returned {
            self.violation(
                rules::WRITE_AFTER_RETURN,
                "write called after the app returned its body; yield the bytes from the body instead",
            );
        }
        self.state().written += data.len() as u64;
        io::Write::write_all(&mut self.inner.write_handle(), data)
    }
}

/// Iterates the app's body and checks what it yields.
struct CheckedChunks {
    inner: Body,
    call: Arc<CallChecker>,
    produced: u64,
    ended: bool,
}

impl CheckedChunks {
    fn check_end(&self) {
        if self.call.client_error.get().is_some() {
            // The client broke the body; what the app answered after it is not the
            // app's violation (FAIL-14).
            return;
        }
        if let Some(len) = self.inner.len().filter(|&n| n != self.produced) {
            self.call.violation(
                rules::BODY_MATCHES_LEN,
                &format!(
                    "the body yielded {} bytes but its known length is {len}",
                    self.produced
                ),
            );
        }
        let (called, declared, written) = {
            let state = self.call.state();
            (state.called, state.declared_len, state.written)
        };
        if !called {
            self.call.violation(
                rules::START_BEFORE_BODY,
                "the app never called start_response before the end of its body",
            );
        }
        if let Some(n) = declared {
            if n != written + self.produced {
                self.call.violation(
                    rules::BODY_MATCHES_CONTENT_LENGTH,
                    &format!(
                        "the body had {} bytes but Content-Length announced {n}",
                        written + self.produced
                    ),
                );
            }
        }
    }

    /// A 204 or 304 gets no body bytes; reported at the first one, because the server
    /// stops iterating there.
    fn check_no_body_status(&self, chunk_len: usize) {
        let status = self.call.state().status;
        if let Some(status) = status {
            let no_body = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
            if no_body && chunk_len > 0 && self.produced == 0 {
                self.call.violation(
                    rules::NO_BODY_STATUS,
                    &format!(
                        "status {} must not carry a body, yet the app produced one",
                        status.as_u16()
                    ),
                );
            }
        }
    }
}

impl Iterator for CheckedChunks {
    type Item = Result<Bytes, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.inner.next_chunk();
        match &next {
            Some(Ok(chunk)) if !chunk.is_empty() => {
                if !self.call.state().called {
                    self.call.violation(
                        rules::START_BEFORE_BODY,
                        "the body yielded bytes before start_response was called",
                    );
                }
                self.check_no_body_status(chunk.len());
                self.produced += chunk.len() as u64;
                let (declared, written) = {
                    let state = self.call.state();
                    (state.declared_len, state.written)
                };
                if let Some(n) = declared.filter(|&n| written + self.produced > n) {
                    // Reported now: the server stops iterating once n bytes went out.
                    self.call.violation(
                        rules::BODY_MATCHES_CONTENT_LENGTH,
                        &format!(
                            "the body yields more than the {n} bytes Content-Length announced"
                        ),
                    );
                    self.ended = true;
                }
            }
            Some(_) => {}
            None => {
                self.ended = true;
                self.check_end();
            }
        }
        next
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
