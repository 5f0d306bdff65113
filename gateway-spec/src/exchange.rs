//! For server authors: one request's exchange with an app, from `App::call` to the
//! last body byte, with the SPEC's rules on headers, framing and failures applied.
//! Bytes reach the wire through the server's [`Output`]; sockets are not touched here.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::fs::File;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};

use crate::client_error::BodyError;
use crate::framing::{plan_declared, Framing};
use crate::input::ClientErrorRecord;
use crate::start_response::{checked_length, ResponseHead, StartResponseError};
use crate::{App, Body, Environ, StartResponse, StartResponseSink};

/// Where a server sends a response: the head once, then body bytes, then the end.
/// The exchange has already chosen the framing; the output only encodes it (chunk
/// sizes, final chunk) and writes.
pub trait Output: Send + 'static {
    /// Sends the status line and headers, adding the framing headers `framing`
    /// implies (`Transfer-Encoding: chunked`). `close` says the exchange decided the
    /// connection ends after this response (a client fault, FAIL-10, FAIL-11): the
    /// head then carries `Connection: close`, as it does for the server's own reasons.
    fn send_head(&mut self, head: &ResponseHead, framing: Framing, close: bool) -> io::Result<()>;
    /// Sends body bytes, framed as announced.
    fn send_body(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Ends a body that was complete: the final chunk of a chunked body, a flush.
    /// Not called when the response is aborted (FAIL-4).
    fn finish(&mut self, framing: Framing) -> io::Result<()>;
    /// Whether bytes handed over wait for the client because the socket would block.
    /// A pausable exchange ([`start`]) then returns [`Progress::Paused`] instead of
    /// pulling the next chunk. Outputs that always write through keep the default.
    fn is_backed_up(&self) -> bool {
        false
    }
    /// Writes whatever waits for the client, waiting as long as it takes: what the
    /// legacy write handle and [`run`] do where they cannot pause.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Sends up to `len` bytes of `file` from its current position as body bytes,
    /// without waiting and, where the output can, without copying them through user
    /// space (`sendfile`): the file fast path (FILE-3). Returns how many bytes went
    /// out, and moves the file's position past them. Fewer than `len` went out when
    /// the output is backed up ([`Output::is_backed_up`] then says so) or the file
    /// ended early (it shrank, FILE-5).
    ///
    /// The exchange calls it only for a [`Body::file`] body it frames with a
    /// Content-Length or by closing the connection, never chunked, and caps `len` at
    /// what the framing allows: the bytes on the wire are those plain reads would
    /// have sent (FILE-2). The default has no such path, and the exchange iterates
    /// the body instead, which reads the file.
    fn send_file(&mut self, file: &mut File, len: u64) -> Result<u64, SendFileError> {
        let _ = (file, len);
        Err(SendFileError::Unsupported)
    }
}

/// Why [`Output::send_file`] sent no further byte.
#[derive(Debug, thiserror::Error)]
pub enum SendFileError {
    /// The output, or this file (a pipe, a file system that cannot send without
    /// reading), has no zero-copy path. Nothing was sent: the exchange reads the file
    /// through the body instead.
    #[error("the file cannot be sent without reading it")]
    Unsupported,
    /// Reading the file failed: the app's failure, as a failed body chunk (BODY-10).
    #[error("reading the file failed: {0}")]
    File(#[source] io::Error),
    /// Writing to the client failed: it went away.
    #[error("writing to the client failed: {0}")]
    Client(#[source] io::Error),
}

/// What went wrong in an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The app, or its body, returned an error.
    AppError(String),
    /// The app, or its body, panicked.
    Panic(String),
    /// The app broke the contract (no `start_response`, a body chunk before it).
    Contract(String),
    /// Writing to the client failed: it went away.
    ClientGone(String),
    /// Reading the request body failed through the client's fault, and the app then
    /// failed or ended early: the answer is the fault's status, not 500 (FAIL-10).
    ClientError(BodyError),
}

impl Failure {
    /// Whether the client, not the app, caused it: logged below error level
    /// (FAIL-9, FAIL-12).
    pub fn is_clients(&self) -> bool {
        matches!(self, Failure::ClientGone(_) | Failure::ClientError(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::AppError(e) => write!(f, "the app returned an error: {e}"),
            Failure::Panic(e) => write!(f, "the app panicked: {e}"),
            Failure::Contract(e) => write!(f, "the app broke the contract: {e}"),
            Failure::ClientGone(e) => write!(f, "the client went away: {e}"),
            Failure::ClientError(e) => write!(f, "{}: {e}", e.fault()),
        }
    }
}

/// How an exchange ended, for the server's connection handling and access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The status of the response the exchange sent or began to send (the app's,
    /// a 500, or a client error's), `None` when no head was ever started.
    pub status: Option<StatusCode>,
    /// Body bytes sent.
    pub body_bytes: u64,
    /// Whether the response went out whole, framed as announced.
    pub complete: bool,
    /// Whether the connection must close now: an aborted or close-delimited
    /// response, a body shorter or longer than its Content-Length, a lost client.
    pub must_close: bool,
    /// What went wrong, if anything.
    pub failure: Option<Failure>,
}

/// The body a server sends when an app fails before its headers went out (FAIL-1).
pub const INTERNAL_ERROR_BODY: &str = "Internal Server Error\n";

impl Outcome {
    /// The client fault behind the answer, when the exchange answered one (FAIL-10).
    pub fn client_error(&self) -> Option<&BodyError> {
        match &self.failure {
            Some(Failure::ClientError(error)) => Some(error),
            _ => None,
        }
    }
}

/// Runs one request through `app` and sends the response to `output`, applying the
/// SPEC's rules: headers go out with the first non-empty chunk or at the end
/// (START-10), framing as [`plan`](crate::framing::plan) decides (FRAME rules), a failure before the
/// headers becomes a 500, after them an aborted response (FAIL-1, FAIL-4), and the
/// body is closed on every path before the response ends (BODY-3). When a read of
/// the input failed through the client's fault, a failure before the headers is
/// answered with that fault's status (400, 408, 413) instead, and the connection
/// closes whatever the app answered (FAIL-10, FAIL-11). Panics of the app are
/// caught. Returns the output and what happened.
///
/// ```
/// use gateway_spec::exchange::{run, Output};
/// use gateway_spec::framing::Framing;
/// use gateway_spec::{Body, Environ, ResponseHead, StartResponse};
/// use http::{HeaderMap, Method, StatusCode};
///
/// #[derive(Default)]
/// struct Wire(Vec<u8>);
/// impl Output for Wire {
///     fn send_head(&mut self, head: &ResponseHead, _: Framing, _: bool) -> std::io::Result<()> {
///         self.0.extend(format!("{} {}\n", head.status.as_u16(), head.reason_phrase()).bytes());
///         Ok(())
///     }
///     fn send_body(&mut self, chunk: &[u8]) -> std::io::Result<()> {
///         self.0.extend_from_slice(chunk);
///         Ok(())
///     }
///     fn finish(&mut self, _: Framing) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let app = |_: Environ, start: StartResponse| {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from("hi"))
/// };
/// let (wire, outcome) = run(&app, Environ::new(Method::GET, "/").unwrap(), Wire::default());
/// assert_eq!(wire.0, b"200 OK\nhi");
/// assert!(outcome.complete && !outcome.must_close);
/// ```
pub fn run<O: Output>(app: &dyn App, environ: Environ, output: O) -> (O, Outcome) {
    match begin(app, environ, output, false) {
        Progress::Done(mut output, outcome) => {
            // What the last writes left for the client goes out before the end.
            let flushed = output.flush();
            (output, flushed_outcome(outcome, flushed))
        }
        Progress::Paused(_) => unreachable!("an exchange that may not pause never pauses"),
    }
}

/// Where a pausable exchange stands.
pub enum Progress<O> {
    /// The exchange is over. The output may still hold bytes for the client
    /// ([`Output::is_backed_up`]): the server writes them before the next response.
    Done(O, Outcome),
    /// The output is backed up: the server waits until the client takes the bytes,
    /// without a thread if it likes, then calls [`Paused::resume`].
    Paused(Paused<O>),
}

/// An exchange between two body chunks, waiting for a slow client: the body to pull
/// from and the output with its unsent bytes. Any thread may resume it. Dropping it
/// abandons the response; the body is closed then (BODY-3).
pub struct Paused<O> {
    state: Arc<Mutex<State<O>>>,
    body: Body,
}

impl<O> fmt::Debug for Paused<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paused").finish_non_exhaustive()
    }
}

impl<O: Output> Paused<O> {
    /// Lends the output, to write what waits in it.
    pub fn with_output<R>(&self, f: impl FnOnce(&mut O) -> R) -> R {
        let mut state = lock(&self.state);
        f(state
            .output
            .as_mut()
            .expect("a paused exchange keeps its output"))
    }

    /// Pulls the next chunks and sends them, until the output is backed up again or
    /// the body ends.
    pub fn resume(self) -> Progress<O> {
        let Paused { state, body } = self;
        match stream_body(&state, body, true) {
            Streamed::Paused(body) => Progress::Paused(Paused { state, body }),
            Streamed::Ended(failure) => end(&state, failure),
        }
    }

    /// Abandons the response because the client cannot take it (it went away, or
    /// takes it too slowly): closes the body (BODY-3) and ends the exchange as
    /// aborted, the connection to be closed (FAIL-4).
    pub fn abort(self, error: io::Error) -> (O, Outcome) {
        let Paused { state, body } = self;
        // A panic in close changes nothing now: the response is lost either way.
        let _ = catch_unwind(AssertUnwindSafe(move || body.close()));
        let failure = lock(&state).client_gone(error);
        finished(&state, Some(failure))
    }
}

/// Like [`run`], but the exchange pauses between two body chunks whenever the
/// output is backed up, instead of waiting for the client: a server can then serve
/// other clients on the thread and resume the response later. Only the legacy write
/// handle still waits for the client, inside `App::call`.
pub fn start<O: Output>(app: &dyn App, environ: Environ, output: O) -> Progress<O> {
    begin(app, environ, output, true)
}

fn begin<O: Output>(app: &dyn App, environ: Environ, output: O, pausable: bool) -> Progress<O> {
    let state = Arc::new(Mutex::new(State::new(
        environ.method.clone(),
        environ.version,
        environ.input.client_error_record(),
        output,
    )));
    let start_response = StartResponse::new(state.clone());
    let called = catch_unwind(AssertUnwindSafe(|| app.call(environ, start_response)));
    {
        let mut state = lock(&state);
        state.returned = true;
        if let Ok(Ok(body)) = &called {
            state.body_len = body.len();
        }
    }
    let failure = match called {
        Ok(Ok(body)) => match stream_body(&state, body, pausable) {
            Streamed::Paused(body) => return Progress::Paused(Paused { state, body }),
            Streamed::Ended(failure) => failure,
        },
        Ok(Err(e)) => Some(Failure::AppError(e.to_string())),
        Err(panic) => Some(Failure::Panic(panic_message(&*panic))),
    };
    end(&state, failure)
}

fn end<O: Output>(state: &Mutex<State<O>>, failure: Option<Failure>) -> Progress<O> {
    let (output, outcome) = finished(state, failure);
    Progress::Done(output, outcome)
}

/// Finishes the response after the body ended (or failed) and hands the output back.
fn finished<O: Output>(state: &Mutex<State<O>>, failure: Option<Failure>) -> (O, Outcome) {
    let mut state = lock(state);
    let outcome = state.finish(failure);
    let output = state
        .output
        .take()
        .expect("the exchange takes its output only once");
    (output, outcome)
}

/// The outcome once the output's last bytes were written, or failed to be: a
/// client gone before the end of the response saw it incomplete.
pub fn flushed_outcome(mut outcome: Outcome, flushed: io::Result<()>) -> Outcome {
    if let Err(e) = flushed {
        outcome.complete = false;
        outcome.must_close = true;
        if outcome.failure.is_none() {
            outcome.failure = Some(Failure::ClientGone(e.to_string()));
        }
    }
    outcome
}

/// How a stretch of body streaming ended.
enum Streamed {
    /// The body ended or failed, and was closed.
    Ended(Option<Failure>),
    /// The output is backed up; the body waits to be pulled again.
    Paused(Body),
}

/// Iterates the body and sends its chunks; closes it before the body's end is
/// reported, on every path, so that close runs before the response ends (BODY-3).
/// When `pausable`, it stops before pulling a chunk while the output is backed up;
/// otherwise it waits for the output then.
fn stream_body<O: Output>(state: &Mutex<State<O>>, mut body: Body, pausable: bool) -> Streamed {
    let failure = loop {
        // One lock for the look at the output and the file fast path.
        let mut locked = lock(state);
        if locked.output.as_ref().is_some_and(O::is_backed_up) {
            if pausable {
                drop(locked);
                return Streamed::Paused(body);
            }
            if let Err(failure) = locked.flush() {
                break Some(failure);
            }
        }
        let part = locked.send_file_part(&mut body);
        drop(locked);
        match part {
            FilePart::Sent(Flow::Continue) => continue,
            FilePart::Sent(Flow::Stop) => break None,
            FilePart::Failed(failure) => break Some(failure),
            FilePart::ReadIt => {}
        }
        let chunk = match catch_unwind(AssertUnwindSafe(|| body.next_chunk())) {
            Err(panic) => break Some(Failure::Panic(panic_message(&*panic))),
            Ok(None) => break None,
            Ok(Some(Err(e))) => break Some(Failure::AppError(e.to_string())),
            Ok(Some(Ok(chunk))) => chunk,
        };
        if chunk.is_empty() {
            continue;
        }
        match lock(state).send(&chunk) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break None,
            Err(failure) => break Some(failure),
        }
    };
    let closed = catch_unwind(AssertUnwindSafe(move || body.close()));
    Streamed::Ended(match (failure, closed) {
        (Some(failure), _) => Some(failure),
        (None, Err(panic)) => Some(Failure::Panic(panic_message(&*panic))),
        (None, Ok(())) => None,
    })
}

/// What one step of the file fast path did.
enum FilePart {
    /// File bytes went out (or none could, the output being backed up): go on, or
    /// the body is over (its span sent, HEAD, the app's Content-Length reached, the
    /// file ended early).
    Sent(Flow),
    /// The body failed, or the client went away.
    Failed(Failure),
    /// Not a file body, or no zero-copy path for it: pull the body's chunks.
    ReadIt,
}

/// Whether the body iteration should go on.
enum Flow {
    Continue,
    /// Nothing more can go on the wire: HEAD after its head, or a full Content-Length.
    Stop,
}

struct State<O> {
    method: Method,
    version: Version,
    head: Option<ResponseHead>,
    /// The Content-Length `head` declares, checked when it was given.
    declared: Option<u64>,
    /// Set once the head went out.
    framing: Option<Framing>,
    body_len: Option<u64>,
    sent: u64,
    must_close: bool,
    /// `App::call` returned: the write handle is closed (WRITE-4).
    returned: bool,
    /// The file fast path was refused (chunked framing, an output or a file
    /// without one): the body is read like any other from then on.
    read_file: bool,
    /// The client fault the request's input met, if any.
    client_error: ClientErrorRecord,
    output: Option<O>,
}

impl<O: Output> State<O> {
    fn new(method: Method, version: Version, client_error: ClientErrorRecord, output: O) -> Self {
        Self {
            method,
            version,
            head: None,
            declared: None,
            framing: None,
            body_len: None,
            sent: 0,
            must_close: false,
            returned: false,
            read_file: false,
            client_error,
            output: Some(output),
        }
    }

    fn output(&mut self) -> Result<&mut O, Failure> {
        self.output
            .as_mut()
            .ok_or_else(|| Failure::Contract(StartResponseError::ResponseFinished.to_string()))
    }

    /// Sends the head if it has not gone out; returns the framing.
    fn commit(&mut self) -> Result<Framing, Failure> {
        if let Some(framing) = self.framing {
            return Ok(framing);
        }
        let Some(head) = self.head.as_mut() else {
            return Err(Failure::Contract(
                "no start_response before the first body byte or the end of the body".into(),
            ));
        };
        let framing = plan_declared(
            &self.method,
            self.version,
            head,
            self.body_len,
            self.declared,
        );
        // After a client fault the body cannot be trusted to end where it should:
        // this response is the connection's last (FAIL-10, FAIL-11).
        let close = self.client_error.get().is_some();
        self.framing = Some(framing);
        self.must_close |= framing.ends_connection() || close;
        let (Some(head), Some(output)) = (self.head.as_ref(), self.output.as_mut()) else {
            return Err(Failure::Contract(
                StartResponseError::ResponseFinished.to_string(),
            ));
        };
        output
            .send_head(head, framing, close)
            .map_err(|e| self.client_gone(e))?;
        Ok(framing)
    }

    fn send(&mut self, data: &[u8]) -> Result<Flow, Failure> {
        let framing = self.commit()?;
        let allowed = match framing {
            Framing::NoBody => return Ok(Flow::Stop),
            Framing::Length(n) => {
                let room = n - self.sent;
                if data.len() as u64 > room {
                    // More than announced: send what fits, then close (FRAME-4, FRAME-5).
                    self.must_close = true;
                }
                &data[..data.len().min(usize::try_from(room).unwrap_or(usize::MAX))]
            }
            Framing::Chunked | Framing::CloseDelimited => data,
        };
        if !allowed.is_empty() {
            self.output()?
                .send_body(allowed)
                .map_err(|e| self.client_gone(e))?;
            self.sent += allowed.len() as u64;
        }
        match framing {
            Framing::Length(n) if self.sent >= n => Ok(Flow::Stop),
            _ => Ok(Flow::Continue),
        }
    }

    /// Sends the next part of a file body through [`Output::send_file`], with the
    /// framing rules [`State::send`] applies to a chunk: the head first, nothing
    /// for HEAD, no byte beyond the app's Content-Length (FRAME-4, FILE-2).
    fn send_file_part(&mut self, body: &mut Body) -> FilePart {
        if self.read_file {
            return FilePart::ReadIt;
        }
        let Some((file, span)) = body.file_parts() else {
            return FilePart::ReadIt;
        };
        // Every body byte sent so far came from the file, from where the body began:
        // what is left of its span starts at the file's current position.
        let left = span.saturating_sub(self.sent);
        if left == 0 {
            // The end of the body, as plain reads would meet it: the response is
            // completed (or found short) the same way.
            return FilePart::Sent(Flow::Stop);
        }
        let framing = match self.commit() {
            Ok(framing) => framing,
            Err(failure) => return FilePart::Failed(failure),
        };
        let len = match framing {
            Framing::NoBody => return FilePart::Sent(Flow::Stop),
            Framing::Length(n) => {
                let room = n - self.sent;
                if left > room {
                    // The file is longer than the app's Content-Length: only that
                    // much goes out, then the connection closes (FRAME-4).
                    self.must_close = true;
                }
                left.min(room)
            }
            Framing::CloseDelimited => left,
            Framing::Chunked => {
                // A partial zero-copy send cannot be framed as one chunk; a file body
                // always has a known length, so this is only ever a fallback.
                self.read_file = true;
                return FilePart::ReadIt;
            }
        };
        if len == 0 {
            return FilePart::Sent(Flow::Stop);
        }
        let output = match self.output() {
            Ok(output) => output,
            Err(failure) => return FilePart::Failed(failure),
        };
        match output.send_file(file, len) {
            Ok(n) => {
                let backed_up = output.is_backed_up();
                self.sent += n;
                match framing {
                    Framing::Length(total) if self.sent >= total => FilePart::Sent(Flow::Stop),
                    // Nothing went out on a socket with room: the file ended early.
                    _ if n == 0 && !backed_up => FilePart::Sent(Flow::Stop),
                    _ => FilePart::Sent(Flow::Continue),
                }
            }
            // Nothing of the file went out yet, and its position is untouched: the
            // body's own reads send the same bytes.
            Err(SendFileError::Unsupported) if self.sent == 0 => {
                self.read_file = true;
                FilePart::ReadIt
            }
            Err(SendFileError::Unsupported) => FilePart::Failed(Failure::AppError(
                "the file could no longer be sent after part of it was".into(),
            )),
            Err(SendFileError::File(e)) => FilePart::Failed(Failure::AppError(e.to_string())),
            Err(SendFileError::Client(e)) => FilePart::Failed(self.client_gone(e)),
        }
    }

    /// Waits until the output wrote what it holds back.
    fn flush(&mut self) -> Result<(), Failure> {
        self.output()?.flush().map_err(|e| self.client_gone(e))
    }

    fn client_gone(&mut self, error: io::Error) -> Failure {
        self.must_close = true;
        Failure::ClientGone(error.to_string())
    }

    /// Ends the response after the body: completes it, or answers 500, or aborts.
    fn finish(&mut self, failure: Option<Failure>) -> Outcome {
        let failure = match failure {
            None => self.complete_response().err(),
            Some(failure) => Some(failure),
        };
        let failure = failure.map(|failure| self.blame_client(failure));
        let complete = match &failure {
            None => true,
            Some(Failure::ClientGone(_)) => false,
            Some(Failure::ClientError(error)) if self.framing.is_none() => {
                let body = format!("{}\n", error.message());
                self.send_error(error.fault().status(), body.into_bytes())
            }
            Some(_) if self.framing.is_none() => self.send_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                INTERNAL_ERROR_BODY.into(),
            ),
            Some(_) => {
                // The head is out: the client must see a truncated response, never a
                // complete-looking one (FAIL-4), so no final chunk and a close.
                self.must_close = true;
                false
            }
        };
        Outcome {
            status: self.framing.and(self.head.as_ref().map(|h| h.status)),
            body_bytes: self.sent,
            complete,
            must_close: self.must_close || !complete,
            failure,
        }
    }

    fn complete_response(&mut self) -> Result<(), Failure> {
        let framing = self.commit()?;
        match framing {
            Framing::Length(n) if self.sent < n => {
                // Fewer bytes than announced: only a close tells the client (FRAME-4, FRAME-5).
                self.must_close = true;
                Err(Failure::Contract(format!(
                    "the body had {} bytes but Content-Length announced {n}",
                    self.sent
                )))
            }
            _ => self
                .output()?
                .finish(framing)
                .map_err(|e| self.client_gone(e)),
        }
    }

    /// A failure after the input met a client fault is the client's (FAIL-10): the
    /// app failed because the body did. A client gone while writing stays so.
    fn blame_client(&self, failure: Failure) -> Failure {
        match (failure, self.client_error.get()) {
            (Failure::ClientGone(e), _) => Failure::ClientGone(e),
            (_, Some(error)) => Failure::ClientError(error.clone()),
            (failure, None) => failure,
        }
    }

    /// Replaces whatever head the app set with `status` and a short `text/plain`
    /// body, and sends it; true when it went out whole.
    fn send_error(&mut self, status: StatusCode, body: Vec<u8>) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        self.head = Some(ResponseHead::new(status, headers));
        // The app's declared length was for its own response, not this one.
        self.declared = None;
        self.body_len = Some(body.len() as u64);
        self.sent = 0;
        let sent = self.send(&body).and_then(|_| self.complete_response());
        sent.is_ok()
    }
}

impl<O: Output> StartResponseSink for Mutex<State<O>> {
    fn start(
        &self,
        head: ResponseHead,
        error: Option<&(dyn Error + 'static)>,
    ) -> Result<(), StartResponseError> {
        let declared = checked_length(&head)?;
        let mut state = lock(self);
        if state.output.is_none() {
            return Err(StartResponseError::ResponseFinished);
        }
        if state.framing.is_some() {
            return Err(match error {
                Some(_) => StartResponseError::HeadersSent,
                None => StartResponseError::AlreadyStarted,
            });
        }
        if state.head.is_some() && error.is_none() {
            return Err(StartResponseError::AlreadyStarted);
        }
        state.head = Some(head);
        state.declared = declared;
        Ok(())
    }

    fn write(&self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let mut state = lock(self);
        if state.output.is_none() {
            return Err(StartResponseError::ResponseFinished.into());
        }
        if state.returned {
            return Err(io::Error::other(
                "the write handle is closed once the app returned its body; yield the bytes from the body",
            ));
        }
        if state.head.is_none() {
            return Err(StartResponseError::NotStarted.into());
        }
        let room = match state.framing {
            Some(Framing::Length(n)) => Some(n - state.sent),
            _ => None,
        };
        // The legacy write handle cannot pause: it waits for the client (SPEC
        // WRITE rules), holding the app's thread.
        state
            .send(data)
            .and_then(|_| state.flush())
            .map_err(|failure| io::Error::other(failure.to_string()))?;
        // The framing may have been chosen by this very write.
        let room = room.or(match state.framing {
            Some(Framing::Length(n)) => Some(n),
            _ => None,
        });
        match room {
            Some(room) if data.len() as u64 > room => Err(io::Error::other(format!(
                "the write goes beyond the Content-Length: only {room} more bytes were allowed"
            ))),
            _ => Ok(()),
        }
    }
}

/// Locks the state even after a panic elsewhere poisoned it: the state stays
/// consistent because every change is a single assignment.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The message of a caught panic, for logs.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// An [`Output`] that keeps everything in memory: the head, the framing and the body
/// bytes (not encoded). The test client uses it; servers can use it in their tests.
#[derive(Debug, Default)]
pub struct MemoryOutput {
    /// The head sent, with the framing chosen.
    pub head: Option<(ResponseHead, Framing)>,
    /// Whether the exchange asked the head to announce `Connection: close`.
    pub close: bool,
    /// The body bytes sent, unframed.
    pub body: Vec<u8>,
    /// Whether `finish` was called (the body ended properly).
    pub finished: bool,
}

impl MemoryOutput {
    /// The body as `Bytes`.
    pub fn body_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(&self.body)
    }
}

impl Output for MemoryOutput {
    fn send_head(&mut self, head: &ResponseHead, framing: Framing, close: bool) -> io::Result<()> {
        self.head = Some((head.clone(), framing));
        self.close = close;
        Ok(())
    }

    fn send_body(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    fn finish(&mut self, _framing: Framing) -> io::Result<()> {
        self.finished = true;
        Ok(())
    }
}
