//! What operators rely on: a client that leaves mid-response frees its worker, the
//! Server header can be turned off, the access log records each request, and the
//! connection limit pauses accepting instead of failing.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::{AccessLog, Config, Server};
use support::{connect, exchange, start_with, Reader, WAIT};

/// `/endless` streams until the client goes away and counts closed bodies.
fn app(closed: Arc<AtomicUsize>) -> impl gateway_spec::App {
    move |environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        if environ.path_info == b"/endless" {
            let closed = closed.clone();
            return Ok(Body::try_from_chunks(std::iter::repeat_with(|| {
                std::thread::sleep(Duration::from_millis(5));
                Ok(Bytes::from(vec![b'x'; 64 * 1024]))
            }))
            .on_close(move || {
                closed.fetch_add(1, Ordering::SeqCst);
            }));
        }
        Ok(Body::from("ok"))
    }
}

#[test]
fn a_client_leaving_mid_response_frees_its_worker_and_closes_the_body() {
    let closed = Arc::new(AtomicUsize::new(0));
    let config = Config {
        workers: 1,
        ..Config::default()
    };
    let server = start_with(app(closed.clone()), config);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET /endless HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(100));
    drop(reader);
    let deadline = Instant::now() + WAIT;
    while closed.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the body was never closed");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The only worker is free again.
    let response = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(response.text(), "ok");
    server.stop();
}

#[test]
fn the_server_header_can_be_turned_off() {
    let closed = Arc::new(AtomicUsize::new(0));
    let server = start_with(app(closed.clone()), Config::default());
    let on = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(on
        .header("server")
        .unwrap()
        .starts_with("gateway-reference/"));
    server.stop();
    let config = Config {
        server_header: false,
        ..Config::default()
    };
    let server = start_with(app(closed), config);
    let off = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(off.header("server"), None);
    assert!(off.header("date").is_some());
    server.stop();
}

#[test]
fn the_access_log_records_each_request_in_combined_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Server::from_listener(listener)
        .access_log(AccessLog::file(&path).unwrap())
        .spawn(app(Arc::new(AtomicUsize::new(0))))
        .unwrap();
    exchange(
        server.local_addr(),
        b"GET /logged?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: probe/1\r\nReferer: http://r/\r\n\r\n",
    );
    server.stop();
    let log = std::fs::read_to_string(&path).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.starts_with("127.0.0.1 - - ["), "{log}");
    assert!(
        log.contains("] \"GET /logged?x=1 HTTP/1.1\" 200 2 \"http://r/\" \"probe/1\" "),
        "{log}"
    );
}

#[test]
fn the_connection_limit_pauses_accepting_until_a_connection_closes() {
    let config = Config {
        max_connections: 2,
        ..Config::default()
    };
    let server = start_with(app(Arc::new(AtomicUsize::new(0))), config);
    let addr = server.local_addr();
    let mut first = Reader::new(connect(addr));
    first.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(first.response("GET").unwrap().text(), "ok");
    let mut second = Reader::new(connect(addr));
    second.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(second.response("GET").unwrap().text(), "ok");
    // The third connection waits in the backlog: connected, but not answered.
    let mut third = Reader::new(connect(addr));
    third
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    third.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut probe = [0u8; 1];
    let waited = std::io::Read::read(&mut third.stream, &mut probe);
    assert!(
        waited.is_err(),
        "the third connection was served past the limit"
    );
    // Closing one lets it in.
    first.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(first.response("GET").unwrap().text(), "ok");
    drop(first);
    third.stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut third = Reader::new(third.stream);
    assert_eq!(third.response("GET").unwrap().text(), "ok");
    server.stop();
}

#[test]
fn a_client_that_stops_reading_is_cut_at_the_write_timeout() {
    let app = |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::try_from_chunks(
            std::iter::repeat_with(|| Ok(Bytes::from(vec![b'y'; 1 << 20]))).take(200),
        ))
    };
    let config = Config {
        workers: 1,
        write_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let server = start_with(app, config);
    let mut stalled = Reader::new(connect(server.local_addr()));
    stalled.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    // Never read: the socket buffers fill, the worker's write makes no progress.
    // The only worker must come free (the exchange's bounded wait is far above
    // the 300 ms write timeout, far below the 30 s default).
    let response = exchange(
        server.local_addr(),
        b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    drop(stalled);
    server.stop();
}

#[test]
fn a_body_that_stops_arriving_fails_the_read_at_the_body_timeout() {
    let app = |mut environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut environ.input, &mut body)?;
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from(body))
    };
    let config = Config {
        body_read_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let server = start_with(app, config);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
    let response = reader.response("POST").unwrap();
    // The read failed through the client's slowness: 408, never a 500 (FAIL-10).
    assert_eq!(response.status, 408, "the app's read must fail, not hang");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(reader.is_closed());
    server.stop();
}
