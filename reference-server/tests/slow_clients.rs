//! Slow clients over real loopback sockets: a trickled body and a client that never
//! reads hold no worker, and each is cut at its minimum rate (LIMIT-14..16).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::Config;
use support::{exchange, start_with, WAIT};

/// `/echo` reads the body and answers its length; `/large` streams 64 MiB in
/// 64 KiB chunks and counts its closes; anything else says hello.
#[derive(Clone, Default)]
struct App {
    closed: Arc<AtomicUsize>,
}

impl gateway_spec::App for App {
    fn call(&self, mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        let headers = HeaderMap::new();
        match environ.path_info_str().as_str() {
            "/echo" => {
                let mut body = Vec::new();
                environ.input.read_to_end(&mut body)?;
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from(format!("{} bytes", body.len())))
            }
            "/large" => {
                start.call(StatusCode::OK, headers)?;
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let closed = self.closed.clone();
                Ok(
                    Body::try_from_chunks((0..1024).map(move |_| Ok(chunk.clone()))).on_close(
                        move || {
                            closed.fetch_add(1, Ordering::SeqCst);
                        },
                    ),
                )
            }
            _ => {
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from("hello"))
            }
        }
    }
}

/// One worker, and a short grace, so that one slow client would be enough to block
/// every other if it held the worker.
fn one_worker() -> Config {
    Config {
        workers: 1,
        min_rate_grace: Duration::from_secs(1),
        ..Config::default()
    }
}

/// A fresh request that must be answered although the only worker would be taken
/// if slow clients held workers.
fn hello_is_answered(addr: std::net::SocketAddr) {
    let response = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
}

#[test]
fn a_trickled_body_holds_no_worker_and_reaches_the_app_whole() {
    let server = start_with(App::default(), one_worker());
    let mut slow = TcpStream::connect(server.local_addr()).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
        .unwrap();
    // The body is half there: a worker serving it would be stuck in the read.
    hello_is_answered(server.local_addr());
    slow.write_all(b"cd").unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    while !answer.ends_with(b"4 bytes") {
        let n = slow.read(&mut buf).expect("the echo answers");
        assert!(
            n > 0,
            "closed early: {:?}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    server.stop();
}

#[test]
fn a_body_slower_than_the_minimum_rate_gets_408_after_the_grace() {
    let server = start_with(App::default(), one_worker());
    let mut slow = TcpStream::connect(server.local_addr()).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nab")
        .unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer)
        .expect("answered, then closed");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    assert!(answer.contains("minimum rate"), "{answer:?}");
    server.stop();
}

#[test]
fn a_client_that_never_reads_holds_no_worker_and_is_cut() {
    let app = App::default();
    let closed = app.closed.clone();
    let server = start_with(app, one_worker());
    let mut slow = TcpStream::connect(server.local_addr()).unwrap();
    slow.write_all(b"GET /large HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // 64 MiB cannot fit in the socket buffers: the response is parked.
    hello_is_answered(server.local_addr());
    hello_is_answered(server.local_addr());
    // Past the grace, at 0 bytes/s, the response is cut and its body closed.
    let deadline = Instant::now() + WAIT;
    while closed.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the slow reader was never cut");
        std::thread::sleep(Duration::from_millis(50));
    }
    slow.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(got < 64 << 20, "the whole response came: {got} bytes");
    server.stop();
}

#[test]
fn a_slow_but_steady_reader_gets_the_whole_response() {
    let server = start_with(App::default(), one_worker());
    let mut reader = TcpStream::connect(server.local_addr()).unwrap();
    reader.set_read_timeout(Some(WAIT)).unwrap();
    reader
        .write_all(b"GET /large HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => panic!("after {got} bytes: {e}"),
        }
        if got < 4 << 20 {
            // Slow at first, so that the response is parked and resumed many times.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert!(got > 64 << 20, "{got} bytes: head and 64 MiB body expected");
    server.stop();
}
