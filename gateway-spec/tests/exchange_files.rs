//! The exchange's file fast path (`Output::send_file`): the same bytes and outcome as
//! plain reads of the body, every FRAME rule applied, pausable between two sends.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gateway_spec::exchange::{run, start, MemoryOutput, Outcome, Output, Progress, SendFileError};
use gateway_spec::framing::Framing;
use gateway_spec::{Body, Environ, ResponseHead, StartResponse};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

const LEN: usize = 100_003;

fn pattern() -> Vec<u8> {
    (0..LEN).map(|i| (i % 251) as u8).collect()
}

fn file_with(bytes: &[u8]) -> File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file.rewind().unwrap();
    file
}

/// An output with a file path that takes at most `budget` file bytes per call and is
/// then backed up, as a socket whose client reads slowly; it reads the file itself,
/// as `sendfile` would, so the file's position moves.
struct FileWire {
    body: Vec<u8>,
    framing: Option<Framing>,
    budget: usize,
    backed_up: bool,
    file_calls: usize,
    /// Refuse the file path, as an output or a file without one does.
    unsupported: bool,
}

impl FileWire {
    fn new(budget: usize) -> Self {
        Self {
            body: Vec::new(),
            framing: None,
            budget,
            backed_up: false,
            file_calls: 0,
            unsupported: false,
        }
    }
}

impl Output for FileWire {
    fn send_head(&mut self, _: &ResponseHead, framing: Framing, _: bool) -> io::Result<()> {
        self.framing = Some(framing);
        Ok(())
    }
    fn send_body(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.body.extend_from_slice(chunk);
        Ok(())
    }
    fn finish(&mut self, _: Framing) -> io::Result<()> {
        Ok(())
    }
    fn is_backed_up(&self) -> bool {
        self.backed_up
    }
    fn flush(&mut self) -> io::Result<()> {
        self.backed_up = false;
        Ok(())
    }
    fn send_file(&mut self, file: &mut File, len: u64) -> Result<u64, SendFileError> {
        assert!(
            !self.backed_up,
            "a file part was sent on a backed-up output"
        );
        self.file_calls += 1;
        if self.unsupported {
            return Err(SendFileError::Unsupported);
        }
        let want = (len as usize).min(self.budget);
        let mut part = vec![0; want];
        let n = file.read(&mut part).map_err(SendFileError::File)?;
        self.body.extend_from_slice(&part[..n]);
        self.backed_up = n == self.budget;
        Ok(n as u64)
    }
}

/// An app answering `body()` under `headers`, counting the body's closes.
fn app(
    headers: HeaderMap,
    body: impl Fn() -> Body + Send + Sync + 'static,
    closed: Arc<AtomicUsize>,
) -> impl gateway_spec::App {
    move |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, headers.clone())?;
        let closed = closed.clone();
        Ok(body().on_close(move || {
            closed.fetch_add(1, Ordering::SeqCst);
        }))
    }
}

/// Drives a pausable exchange to its end, draining the output at every pause;
/// returns the output, the outcome and the number of pauses.
fn drive(
    app: &dyn gateway_spec::App,
    method: Method,
    wire: FileWire,
) -> (FileWire, Outcome, usize) {
    let mut progress = start(app, Environ::new(method, "/").unwrap(), wire);
    let mut pauses = 0;
    loop {
        match progress {
            Progress::Done(wire, outcome) => return (wire, outcome, pauses),
            Progress::Paused(paused) => {
                pauses += 1;
                paused.with_output(|wire| wire.backed_up = false);
                progress = paused.resume();
            }
        }
    }
}

/// What plain reads of the same body send, through the in-memory output.
fn plain(app: &dyn gateway_spec::App, method: Method) -> (MemoryOutput, Outcome) {
    run(
        app,
        Environ::new(method, "/").unwrap(),
        MemoryOutput::default(),
    )
}

#[test]
fn a_paused_file_body_resumes_where_it_stopped_and_sends_what_reads_would() {
    let bytes = pattern();
    let closed = Arc::new(AtomicUsize::new(0));
    let source = bytes.clone();
    let app = app(
        HeaderMap::new(),
        move || Body::file(file_with(&source)).unwrap(),
        closed.clone(),
    );
    let (wire, outcome, pauses) = drive(&app, Method::GET, FileWire::new(4096));
    assert!(wire.body == bytes);
    assert_eq!(wire.framing, Some(Framing::Length(LEN as u64)));
    assert_eq!(
        pauses,
        LEN / 4096,
        "the exchange did not pause at each full output"
    );
    assert!(wire.file_calls > 1);
    let (memory, plain_outcome) = plain(&app, Method::GET);
    assert!(memory.body == bytes);
    assert_eq!(outcome, plain_outcome);
    assert_eq!(closed.load(Ordering::SeqCst), 2);
}

#[test]
fn a_file_range_sends_its_span_from_the_file_path() {
    let bytes = pattern();
    let source = bytes.clone();
    let app = app(
        HeaderMap::new(),
        move || Body::file_range(file_with(&source), 10_007, 50_000).unwrap(),
        Arc::new(AtomicUsize::new(0)),
    );
    let (wire, outcome, _) = drive(&app, Method::GET, FileWire::new(8192));
    assert!(wire.body == bytes[10_007..60_007]);
    assert!(outcome.complete && !outcome.must_close);
    assert_eq!(outcome.body_bytes, 50_000);
}

#[test]
fn head_sends_no_file_byte() {
    let source = pattern();
    let app = app(
        HeaderMap::new(),
        move || Body::file_range(file_with(&source), 0, LEN as u64).unwrap(),
        Arc::new(AtomicUsize::new(0)),
    );
    let (wire, outcome, _) = drive(&app, Method::HEAD, FileWire::new(8192));
    assert!(wire.body.is_empty());
    assert_eq!(wire.file_calls, 0);
    assert_eq!(wire.framing, Some(Framing::NoBody));
    assert!(outcome.complete && !outcome.must_close);
}

#[test]
fn the_apps_shorter_content_length_caps_the_file_and_closes() {
    let bytes = pattern();
    let source = bytes.clone();
    let mut headers = HeaderMap::new();
    headers.insert("content-length", HeaderValue::from(1000));
    let app = app(
        headers,
        move || Body::file_range(file_with(&source), 0, LEN as u64).unwrap(),
        Arc::new(AtomicUsize::new(0)),
    );
    let (wire, outcome, _) = drive(&app, Method::GET, FileWire::new(LEN));
    assert!(wire.body == bytes[..1000]);
    assert!(outcome.complete);
    assert!(
        outcome.must_close,
        "an excess over Content-Length keeps the connection"
    );
    assert_eq!(outcome.body_bytes, 1000);
}

#[test]
fn a_file_shorter_than_its_length_ends_the_response_short_as_reads_do() {
    let source = pattern();
    // The body's span is taken, then the file loses its second half.
    let app = app(
        HeaderMap::new(),
        move || {
            let file = file_with(&source);
            let body = Body::file_range(file.try_clone().unwrap(), 0, LEN as u64).unwrap();
            file.set_len(LEN as u64 / 2).unwrap();
            body
        },
        Arc::new(AtomicUsize::new(0)),
    );
    let (wire, outcome, _) = drive(&app, Method::GET, FileWire::new(4096));
    assert_eq!(wire.body.len(), LEN / 2);
    assert!(!outcome.complete && outcome.must_close);
    let (_, plain_outcome) = plain(&app, Method::GET);
    assert_eq!(outcome, plain_outcome);
}

#[test]
fn an_output_without_a_file_path_gets_the_file_read_through_the_body() {
    let bytes = pattern();
    let source = bytes.clone();
    let app = app(
        HeaderMap::new(),
        move || Body::file_range(file_with(&source), 0, LEN as u64).unwrap(),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut wire = FileWire::new(4096);
    wire.unsupported = true;
    let (wire, outcome, _) = drive(&app, Method::GET, wire);
    assert!(wire.body == bytes);
    assert_eq!(wire.file_calls, 1, "the refused file path was tried again");
    assert!(outcome.complete && !outcome.must_close);
}
