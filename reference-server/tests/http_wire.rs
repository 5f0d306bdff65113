//! The reference server over real loopback sockets: framing, keep-alive, pipelining,
//! 100-continue, unread bodies, failures, limits, timeouts and graceful shutdown.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::Config;
use support::{connect, exchange, start, start_with, Reader};

/// A small app with one route per behaviour under test; counts its calls.
#[derive(Clone, Default)]
struct TestApp {
    calls: Arc<AtomicUsize>,
}

impl gateway_spec::App for TestApp {
    fn call(&self, mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        let path = environ.path_info_str();
        match path.as_str() {
            "/echo" => {
                let mut body = Vec::new();
                environ.input.read_to_end(&mut body)?;
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from(body))
            }
            "/ignore" => {
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from("ignored"))
            }
            "/panic-before" => panic!("failure before the headers"),
            "/panic-after" => {
                start.call(StatusCode::OK, headers)?;
                let mut step = 0;
                Ok(Body::try_from_chunks(std::iter::from_fn(move || {
                    step += 1;
                    match step {
                        1 => Some(Ok(Bytes::from("partial "))),
                        _ => panic!("failure after the headers"),
                    }
                })))
            }
            "/stream" => {
                start.call(StatusCode::OK, headers)?;
                Ok(Body::try_from_chunks(
                    ["a", "b", "c"].map(|s| Ok(Bytes::from(s))),
                ))
            }
            "/sleep" => {
                std::thread::sleep(Duration::from_millis(400));
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from("slept"))
            }
            _ => {
                start.call(StatusCode::OK, headers)?;
                Ok(Body::from(format!("Hello, {path}")))
            }
        }
    }
}

#[test]
fn keep_alive_connection_serves_several_requests() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    for i in 0..3 {
        reader.send(format!("GET /n{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        let response = reader.response("GET").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), format!("Hello, /n{i}"));
        assert_eq!(
            response.header("content-length"),
            Some(&*format!("{}", 9 + format!("{i}").len()))
        );
        assert!(response.header("date").is_some());
    }
    server.stop();
}

#[test]
fn pipelined_requests_in_one_write_are_answered_in_order() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(
        b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
          GET /third HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /first");
    assert_eq!(reader.response("POST").unwrap().text(), "hello");
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /third");
    server.stop();
}

#[test]
fn a_request_hidden_in_an_ignored_body_never_runs() {
    let app = TestApp::default();
    let calls = app.calls.clone();
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    let hidden = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    let request = format!(
        "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        hidden.len()
    );
    reader.send(request.as_bytes());
    reader.send(hidden);
    reader.send(b"GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reader.response("POST").unwrap().text(), "ignored");
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /after");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the hidden request must not reach the app"
    );
    server.stop();
}

#[test]
fn panic_before_headers_gives_500_and_the_connection_stays_usable() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET /panic-before HTTP/1.1\r\nHost: t\r\n\r\n");
    let response = reader.response("GET").unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.header("connection"), None);
    reader.send(b"GET /again HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /again");
    server.stop();
}

#[test]
fn panic_after_headers_aborts_the_response_without_a_final_chunk() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET /panic-after HTTP/1.1\r\nHost: t\r\n\r\n");
    let response = reader.response("GET").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "partial ");
    assert!(!response.complete, "a failed response must look truncated");
    assert!(reader.is_closed());
    // The worker survived: the server still answers.
    assert_eq!(
        exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").status,
        200
    );
    server.stop();
}

#[test]
fn streamed_body_is_chunked_and_http10_gets_close_delimited() {
    let server = start(TestApp::default());
    let response = exchange(
        server.local_addr(),
        b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.text(), "abc");
    assert!(response.complete);
    let response = exchange(server.local_addr(), b"GET /stream HTTP/1.0\r\n\r\n");
    assert_eq!(response.header("transfer-encoding"), None);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(response.text(), "abc");
    server.stop();
}

#[test]
fn chunked_request_body_reaches_the_app_decoded() {
    let server = start(TestApp::default());
    let response = exchange(
        server.local_addr(),
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: y\r\n\r\n",
    );
    assert_eq!(response.text(), "hello world");
}

#[test]
fn head_response_has_headers_but_no_body() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = reader.response("HEAD").unwrap();
    assert_eq!(head.header("content-length"), Some("9"));
    assert!(head.body.is_empty());
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /y");
    server.stop();
}

#[test]
fn continue_is_sent_on_the_first_read_only() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let interim = reader.response("POST").unwrap();
    assert_eq!(interim.status, 100);
    reader.send(b"ping");
    assert_eq!(reader.response("POST").unwrap().text(), "ping");

    // An app that answers without reading never asks for the body; the
    // connection then closes because the body will never come.
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(
        b"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let response = reader.response("POST").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(reader.is_closed());
    server.stop();
}

#[test]
fn malformed_requests_get_their_status_and_a_close_and_never_reach_the_app() {
    let app = TestApp::default();
    let calls = app.calls.clone();
    let server = start(app);
    let cases: [(&[u8], u16); 8] = [
        (b"GET / HTTP/1.1\nHost: t\n\n", 400),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000000\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400),
    ];
    for (request, status) in cases {
        let mut reader = Reader::new(connect(server.local_addr()));
        reader.send(request);
        let response = reader.response("GET").unwrap();
        assert_eq!(
            response.status,
            status,
            "{}",
            String::from_utf8_lossy(request)
        );
        assert_eq!(response.header("connection"), Some("close"));
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(reader.is_closed());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop();
}

#[test]
fn limits_answer_414_and_431() {
    let server = start(TestApp::default());
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
    assert_eq!(
        exchange(server.local_addr(), long_target.as_bytes()).status,
        414
    );
    let many = format!(
        "GET / HTTP/1.1\r\nHost: t\r\n{}\r\n",
        "X-A: b\r\n".repeat(101)
    );
    assert_eq!(exchange(server.local_addr(), many.as_bytes()).status, 431);
    server.stop();
}

#[test]
fn idle_keep_alive_connections_do_not_hold_workers() {
    let config = Config {
        workers: 4,
        ..Config::default()
    };
    let server = start_with(TestApp::default(), config);
    let mut idle = Vec::new();
    for _ in 0..200 {
        let mut reader = Reader::new(connect(server.local_addr()));
        reader.send(b"GET /warm HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(reader.response("GET").unwrap().status, 200);
        idle.push(reader);
    }
    // 200 idle keep-alive connections, 4 workers: a new client is still served.
    let response = exchange(server.local_addr(), b"GET /new HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(response.text(), "Hello, /new");
    // And half-sent heads do not hold workers either.
    for reader in idle.iter_mut().take(50) {
        reader.send(b"GET /slow HTTP/1.1\r\nHo");
    }
    let response = exchange(
        server.local_addr(),
        b"GET /new2 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(response.text(), "Hello, /new2");
    server.stop();
}

#[test]
fn a_full_queue_answers_503_at_once() {
    let config = Config {
        workers: 1,
        queue_depth: 1,
        ..Config::default()
    };
    let server = start_with(TestApp::default(), config);
    let addr = server.local_addr();
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let mut reader = Reader::new(connect(addr));
            reader.send(b"GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
            std::thread::sleep(Duration::from_millis(50));
            reader
        })
        .collect();
    let response = exchange(addr, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(response.status, 503);
    assert_eq!(response.header("connection"), Some("close"));
    for mut reader in busy {
        assert_eq!(reader.response("GET").unwrap().text(), "slept");
    }
    server.stop();
}

#[test]
fn a_slow_head_is_cut_at_the_head_deadline() {
    let config = Config {
        head_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let server = start_with(TestApp::default(), config);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET / HTTP/1.1\r\n");
    assert!(reader.is_closed(), "the slow client must be disconnected");
    server.stop();
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_its_timeout() {
    let config = Config {
        keep_alive_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let server = start_with(TestApp::default(), config);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reader.response("GET").unwrap().status, 200);
    assert!(reader.is_closed());
    server.stop();
}

#[test]
fn graceful_stop_finishes_in_flight_requests_and_refuses_new_ones() {
    let server = start(TestApp::default());
    let addr = server.local_addr();
    let mut in_flight = Reader::new(connect(addr));
    in_flight.send(b"GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut idle = Reader::new(connect(addr));
    idle.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(idle.response("GET").unwrap().status, 200);
    let deadline = Instant::now() + support::WAIT;
    while server.in_flight() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.shutdown();
    assert!(idle.is_closed(), "idle connections close at once");
    let response = in_flight.response("GET").unwrap();
    assert_eq!(response.text(), "slept");
    assert_eq!(response.header("connection"), Some("close"));
    let report = server.join();
    assert_eq!(report.aborted, 0);
    assert!(
        TcpStream::connect(addr).is_err(),
        "no new connections after the stop"
    );
}

#[test]
fn a_partial_head_followed_by_the_clients_close_is_closed_at_once() {
    // The end of input arrives with the last bytes, in one edge: the server must
    // still notice it, or the socket stays in CLOSE-WAIT until the head deadline.
    let server = start(TestApp::default());
    for _ in 0..20 {
        let mut reader = Reader::new(connect(server.local_addr()));
        reader.send(b"GET /half HTTP/1.1\r\nHost: t\r\n");
        reader.stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(
            reader.is_closed(),
            "the server kept a half-closed connection open"
        );
    }
    server.stop();
}

#[test]
fn a_request_followed_by_a_half_close_is_answered_then_closed() {
    let server = start(TestApp::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET /last HTTP/1.1\r\nHost: t\r\n\r\n");
    reader.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(reader.response("GET").unwrap().text(), "Hello, /last");
    assert!(reader.is_closed());
    server.stop();
}

/// Holds every `/block` request until the test opens the gate.
#[derive(Default, Clone)]
struct GateApp {
    gate: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    blocked: Arc<AtomicUsize>,
}

impl GateApp {
    fn open(&self) {
        *self.gate.0.lock().unwrap() = true;
        self.gate.1.notify_all();
    }
}

impl gateway_spec::App for GateApp {
    fn call(&self, environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        if environ.path_info == b"/block" {
            self.blocked.fetch_add(1, Ordering::SeqCst);
            let (lock, opened) = &*self.gate;
            let guard = lock.lock().unwrap();
            // Bounded, so that a failing test cannot hang.
            let _ = opened
                .wait_timeout_while(guard, support::WAIT * 2, |open| !*open)
                .unwrap();
        }
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from("done"))
    }
}

#[test]
fn workers_held_up_in_the_app_pass_their_turn_and_a_ready_client_is_served() {
    // As many blocked requests as there are turns to wait on the poller (one per
    // core), and one worker more to take over.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let app = GateApp::default();
    let config = Config {
        workers: cores + 1,
        ..Config::default()
    };
    let server = start_with(app.clone(), config);
    let addr = server.local_addr();
    let blocked: Vec<Reader> = (0..cores)
        .map(|_| {
            let mut reader = Reader::new(connect(addr));
            reader.send(b"GET /block HTTP/1.1\r\nHost: t\r\n\r\n");
            reader
        })
        .collect();
    let deadline = Instant::now() + support::WAIT;
    while app.blocked.load(Ordering::SeqCst) < cores {
        assert!(Instant::now() < deadline, "the blocking requests never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    let response = exchange(addr, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        response.status, 200,
        "served while every turn-holder was blocked"
    );
    assert_eq!(
        app.blocked.load(Ordering::SeqCst),
        cores,
        "and they still are"
    );
    app.open();
    for mut reader in blocked {
        assert_eq!(reader.response("GET").unwrap().text(), "done");
    }
    server.stop();
}
