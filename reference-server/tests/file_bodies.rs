//! File bodies over real loopback sockets: the `sendfile` path sends the bytes plain
//! reads would (FILE-1..FILE-6), parks like any response while the client is slow.

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};
use reference_server::{sendfile_bytes, AccessLog, Config, Server, ServerHandle};
use support::{connect, exchange, start_with, Reader, WAIT};

/// A few MiB, a multiple of no buffer size.
const FILE_LEN: usize = 3 * 1024 * 1024 + 12_345;
/// More than the loopback socket buffers hold, so that a client that does not read
/// makes the response park.
const BIG_LEN: usize = 64 * 1024 * 1024;
/// The span `/range` answers.
const RANGE: (u64, u64) = (1_000_003, 777_777);
/// The Content-Length `/short` declares, below the file's length.
const SHORT_LEN: usize = 1000;

/// The `sendfile` count is the whole process's: the tests of this file run one at a
/// time, so that each can assert exactly how many bytes took that path.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first `len` of bytes that differ along the file, so that a shifted or
/// repeated span shows; made once, every file is a prefix of them.
fn pattern(len: usize) -> &'static [u8] {
    static PATTERN: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes = PATTERN.get_or_init(|| {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..BIG_LEN)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    });
    &bytes[..len]
}

/// The files the app serves, in a directory removed at the end of the test.
struct Files {
    _dir: tempfile::TempDir,
    small: PathBuf,
    big: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.bin");
        let big = dir.path().join("big.bin");
        std::fs::write(&small, pattern(FILE_LEN)).unwrap();
        std::fs::write(&big, pattern(BIG_LEN)).unwrap();
        Self {
            _dir: dir,
            small,
            big,
        }
    }
}

/// `/file`, `/big`: the file as `Body::file`; `/plain`: the same file iterated by a
/// middleware, so read through user space; `/range`: a `Body::file_range` in the
/// middle; `/short`: the file under a shorter Content-Length of the app's;
/// anything else says hello. Every close is counted.
#[derive(Clone)]
struct FileApp {
    small: PathBuf,
    big: PathBuf,
    closed: Arc<AtomicUsize>,
}

impl FileApp {
    fn new(files: &Files) -> Self {
        Self {
            small: files.small.clone(),
            big: files.big.clone(),
            closed: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn counted(&self, body: Body) -> Body {
        let closed = self.closed.clone();
        body.on_close(move || {
            closed.fetch_add(1, Ordering::SeqCst);
        })
    }
}

impl gateway_spec::App for FileApp {
    fn call(&self, environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-test"),
        );
        let open = |path: &Path| File::open(path);
        let body = match environ.path_info_str().as_str() {
            "/file" => Body::file(open(&self.small)?)?,
            "/big" => Body::file(open(&self.big)?)?,
            "/plain" => {
                let file = Body::file(open(&self.small)?)?;
                let len = file.len().expect("a file body has a length");
                // What a middleware that looks at every chunk hands on (FILE-3).
                Body::try_from_chunks(file).with_len(len)
            }
            "/range" => Body::file_range(open(&self.small)?, RANGE.0, RANGE.1)?,
            "/short" => {
                headers.insert("content-length", HeaderValue::from(SHORT_LEN));
                Body::file(open(&self.small)?)?
            }
            _ => Body::from("hello"),
        };
        start.call(StatusCode::OK, headers)?;
        Ok(self.counted(body))
    }
}

/// One worker and a short grace: a slow client that held the worker would block
/// every other, and a client that takes nothing is cut soon.
fn one_worker() -> Config {
    Config {
        workers: 1,
        min_rate_grace: Duration::from_secs(1),
        ..Config::default()
    }
}

fn start_one_worker(app: FileApp, log: Option<&Path>) -> ServerHandle {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut server = Server::from_listener(listener).config(one_worker());
    if let Some(path) = log {
        server = server.access_log(AccessLog::file(path).unwrap());
    }
    server.spawn(app).unwrap()
}

/// Everything the server sends on a new connection for `request`, to its close.
fn raw_response(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    bytes
}

/// The response without its Date field, the only part that may differ between two.
fn without_date(response: &[u8]) -> Vec<u8> {
    let head_end = find(response, b"\r\n\r\n").expect("a complete head") + 4;
    let head = String::from_utf8(response[..head_end].to_vec()).unwrap();
    let mut kept: Vec<u8> = head
        .split_inclusive("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .collect::<String>()
        .into_bytes();
    kept.extend_from_slice(&response[head_end..]);
    kept
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a raw response into its head (as text) and its body.
fn split(response: &[u8]) -> (String, &[u8]) {
    let head_end = find(response, b"\r\n\r\n").expect("a complete head") + 4;
    (
        String::from_utf8_lossy(&response[..head_end]).into_owned(),
        &response[head_end..],
    )
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `request` and reads nothing, long enough for the server to fill the socket
/// buffers and park the response.
fn request_without_reading(addr: SocketAddr, request: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stream
}

fn hello_is_answered(addr: SocketAddr) {
    let response = exchange(
        addr,
        b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "hello");
}

#[test]
fn a_file_goes_out_with_sendfile_byte_for_byte_as_plain_reads_send_it() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let server = start_with(app, Config::default());
    let addr = server.local_addr();
    for version in ["HTTP/1.1", "HTTP/1.0"] {
        let request =
            |path: &str| format!("GET {path} {version}\r\nHost: t\r\nConnection: close\r\n\r\n");
        let before = sendfile_bytes();
        let fast = raw_response(addr, request("/file").as_bytes());
        let by_sendfile = sendfile_bytes() - before;
        let before = sendfile_bytes();
        let plain = raw_response(addr, request("/plain").as_bytes());
        let by_sendfile_plain = sendfile_bytes() - before;

        assert_eq!(
            by_sendfile, FILE_LEN as u64,
            "{version}: the file was not sent by sendfile"
        );
        assert_eq!(
            by_sendfile_plain, 0,
            "{version}: an iterated body took the file path"
        );
        let (head, body) = split(&fast);
        assert!(head.starts_with(&format!("{version} 200 ")), "{head}");
        assert!(
            head.contains(&format!("content-length: {FILE_LEN}\r\n")),
            "{head}"
        );
        assert!(
            body == pattern(FILE_LEN),
            "{version}: the body differs from the file"
        );
        assert!(
            without_date(&fast) == without_date(&plain),
            "{version}: the sendfile and plain responses differ:\n{head}\n{}",
            split(&plain).0
        );
    }
    wait_until("every body is closed", || {
        closed.load(Ordering::SeqCst) == 4
    });
    server.stop();
    assert_eq!(closed.load(Ordering::SeqCst), 4, "a body was closed twice");
}

#[test]
fn a_file_range_sends_exactly_its_span() {
    let _serial = serial();
    let files = Files::new();
    let server = start_with(FileApp::new(&files), Config::default());
    let before = sendfile_bytes();
    let response = exchange(
        server.local_addr(),
        b"GET /range HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let by_sendfile = sendfile_bytes() - before;
    let (offset, len) = (RANGE.0 as usize, RANGE.1 as usize);
    assert_eq!(
        response.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert!(response.complete);
    assert!(response.body == pattern(offset + len)[offset..]);
    assert_eq!(by_sendfile, RANGE.1);
    server.stop();
}

#[test]
fn head_of_a_file_announces_its_length_and_sends_no_byte_of_it() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let server = start_with(app, Config::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    let before = sendfile_bytes();
    reader.send(b"HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = reader.response("HEAD").expect("a response to HEAD");
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(FILE_LEN.to_string().as_str())
    );
    // A body byte after the head would be read as the start of the next response.
    reader.send(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reader.response("GET").unwrap().text(), "hello");
    assert_eq!(sendfile_bytes() - before, 0);
    wait_until("both bodies are closed", || {
        closed.load(Ordering::SeqCst) == 2
    });
    server.stop();
}

#[test]
fn a_content_length_shorter_than_the_file_sends_that_many_then_closes() {
    let _serial = serial();
    let files = Files::new();
    let server = start_with(FileApp::new(&files), Config::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    let before = sendfile_bytes();
    reader.send(b"GET /short HTTP/1.1\r\nHost: t\r\n\r\n");
    let response = reader.response("GET").unwrap();
    assert_eq!(
        response.header("content-length"),
        Some(SHORT_LEN.to_string().as_str())
    );
    assert!(response.complete);
    assert!(response.body == pattern(SHORT_LEN));
    // The body had more than announced: the connection ends (FRAME-4).
    assert!(
        reader.is_closed(),
        "the connection stayed open after an excess"
    );
    assert_eq!(sendfile_bytes() - before, SHORT_LEN as u64);
    server.stop();
}

#[test]
fn a_second_request_on_the_connection_is_served_after_a_file() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let server = start_with(app, Config::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    let before = sendfile_bytes();
    for _ in 0..2 {
        reader.send(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n");
        let response = reader.response("GET").unwrap();
        assert!(response.complete);
        assert!(response.body == pattern(FILE_LEN));
        assert_eq!(response.header("connection"), None);
    }
    reader.send(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reader.response("GET").unwrap().text(), "hello");
    assert_eq!(sendfile_bytes() - before, 2 * FILE_LEN as u64);
    wait_until("every body is closed", || {
        closed.load(Ordering::SeqCst) == 3
    });
    server.stop();
}

#[test]
fn a_slow_reader_of_a_file_holds_no_worker_and_gets_it_whole() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let server = start_one_worker(app, None);
    let addr = server.local_addr();
    let before = sendfile_bytes();
    let mut slow = request_without_reading(
        addr,
        b"GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    // The socket buffers hold a few MiB of the 64: the response waits, parked.
    let sent_while_parked = sendfile_bytes() - before;
    hello_is_answered(addr);
    hello_is_answered(addr);
    let mut response = Vec::with_capacity(BIG_LEN + 512);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match slow.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) => panic!("after {} bytes: {e}", response.len()),
        }
        if response.len() < 8 << 20 {
            // Slow at first, so that the response is parked and resumed many times.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let (head, body) = split(&response);
    assert!(
        head.contains(&format!("content-length: {BIG_LEN}\r\n")),
        "{head}"
    );
    assert_eq!(body.len(), BIG_LEN);
    assert!(body == pattern(BIG_LEN), "the body differs from the file");
    assert!(
        sent_while_parked < BIG_LEN as u64,
        "the whole file went out before the client read: nothing was parked"
    );
    assert_eq!(sendfile_bytes() - before, BIG_LEN as u64);
    wait_until("the bodies are closed", || {
        closed.load(Ordering::SeqCst) == 3
    });
    server.stop();
    assert_eq!(closed.load(Ordering::SeqCst), 3);
}

#[test]
fn a_file_that_shrinks_while_it_is_sent_ends_short_and_closes() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let server = start_one_worker(app, Some(&log));
    let mut slow =
        request_without_reading(server.local_addr(), b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    // Parked with a few MiB sent: the rest of the file goes away.
    let kept = BIG_LEN / 2;
    File::options()
        .write(true)
        .open(&files.big)
        .unwrap()
        .set_len(kept as u64)
        .unwrap();
    let mut response = Vec::new();
    slow.read_to_end(&mut response)
        .expect("the response ends with the connection");
    let (head, body) = split(&response);
    assert!(
        head.contains(&format!("content-length: {BIG_LEN}\r\n")),
        "{head}"
    );
    assert_eq!(
        body.len(),
        kept,
        "the shortfall was padded or cut elsewhere"
    );
    assert!(body == pattern(kept));
    wait_until("the body is closed", || closed.load(Ordering::SeqCst) == 1);
    server.stop();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains(&format!("\"GET /big HTTP/1.1\" 200 {kept} ")),
        "the access log miscounts the bytes: {log}"
    );
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}

#[test]
fn a_client_that_never_reads_a_file_is_cut_at_the_minimum_rate() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let server = start_one_worker(app, Some(&log));
    let addr = server.local_addr();
    let before = sendfile_bytes();
    let stalled = request_without_reading(addr, b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    hello_is_answered(addr);
    // Past the grace, at 0 bytes/s, the response is cut and its body closed.
    wait_until("the stalled response is cut", || {
        closed.load(Ordering::SeqCst) == 2
    });
    let sent = sendfile_bytes() - before;
    assert!(
        sent < BIG_LEN as u64,
        "the whole file went out: {sent} bytes"
    );
    server.stop();
    drop(stalled);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains(&format!("\"GET /big HTTP/1.1\" 200 {sent} ")),
        "the access log does not count what the client got ({sent} bytes): {log}"
    );
}

#[test]
fn a_parked_file_response_is_finished_during_a_graceful_stop() {
    let _serial = serial();
    let files = Files::new();
    let app = FileApp::new(&files);
    let closed = app.closed.clone();
    let server = start_one_worker(app, None);
    let mut slow =
        request_without_reading(server.local_addr(), b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    server.shutdown();
    let mut response = Vec::new();
    slow.read_to_end(&mut response)
        .expect("the response is finished, then the connection closed");
    let (_, body) = split(&response);
    assert_eq!(body.len(), BIG_LEN);
    assert!(body == pattern(BIG_LEN));
    assert_eq!(server.join().aborted, 0, "the stop cut the parked response");
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}
