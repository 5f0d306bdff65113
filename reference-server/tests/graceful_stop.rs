//! What a graceful stop does with requests that had arrived but were not yet being
//! served (SRV-8): they are answered, never reset, wherever they were waiting.

mod support;

use std::time::Duration;

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::Config;
use support::{connect, start_with, Reader};

/// Answers with the request's path.
fn echo_path(environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    start.call(StatusCode::OK, HeaderMap::new())?;
    let path = String::from_utf8_lossy(&environ.path_info).into_owned();
    Ok(Body::from(format!("served {path}")))
}

/// Whether the server sent nothing (and did not close) within `wait`.
fn nothing_within(reader: &Reader, wait: Duration) -> bool {
    reader.stream.set_read_timeout(Some(wait)).unwrap();
    let quiet = reader.stream.peek(&mut [0u8; 1]).is_err();
    reader.stream.set_read_timeout(Some(support::WAIT)).unwrap();
    quiet
}

#[test]
fn a_request_sent_on_a_connection_still_in_the_listen_backlog_is_served() {
    // At the connection limit the server accepts nothing: the second client's
    // connection waits in the kernel's backlog, its request with it.
    let config = Config {
        max_connections: 1,
        ..Config::default()
    };
    let server = start_with(echo_path, config);
    let mut first = Reader::new(connect(server.local_addr()));
    first.send(b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(first.response("GET").unwrap().text(), "served /first");
    let mut waiting = Reader::new(connect(server.local_addr()));
    waiting.send(b"GET /waiting HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(
        nothing_within(&waiting, Duration::from_millis(200)),
        "at the limit, the server must not take the second connection"
    );

    server.shutdown();
    let response = waiting.response("GET").expect("an answer, not a reset");
    assert_eq!(response.text(), "served /waiting");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(first.is_closed(), "the idle connection closes");
    assert_eq!(server.join().aborted, 0);
}

#[test]
fn a_keep_alive_request_sent_just_before_the_stop_is_served() {
    // Whether a worker or the stop reads it first, a request in the socket when
    // the stop is asked for is answered.
    let server = start_with(echo_path, Config::default());
    let mut readers: Vec<Reader> = (0..8)
        .map(|_| {
            let mut reader = Reader::new(connect(server.local_addr()));
            reader.send(b"GET /warm HTTP/1.1\r\nHost: t\r\n\r\n");
            assert_eq!(reader.response("GET").unwrap().status, 200);
            reader
        })
        .collect();
    for reader in &mut readers {
        reader.send(b"GET /late HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    server.shutdown();
    for reader in &mut readers {
        let response = reader.response("GET").expect("an answer, not a reset");
        assert_eq!(response.text(), "served /late");
        // A worker may have served it before the stop was asked for (then without
        // `Connection: close`); either way the connection ends.
        assert!(reader.is_closed());
    }
    assert_eq!(server.join().aborted, 0);
}

#[test]
fn a_request_whose_body_is_still_arriving_is_answered_503() {
    let server = start_with(echo_path, Config::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nfirst ten.");
    server.shutdown();
    let response = reader.response("POST").expect("an answer, not a reset");
    assert_eq!(response.status, 503);
    assert!(
        response.text().contains("stopping"),
        "the answer says why: {}",
        response.text()
    );
    assert_eq!(server.join().aborted, 0);
}

#[test]
fn a_partial_head_at_the_stop_is_closed_without_an_answer() {
    let server = start_with(echo_path, Config::default());
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(b"GET /half HTTP/1.1\r\nHost:");
    server.shutdown();
    assert!(
        reader.is_closed(),
        "nothing to answer: the connection closes"
    );
    assert_eq!(server.join().aborted, 0);
}
