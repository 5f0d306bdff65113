//! The total bound on bodies buffered in the connection table (LIMIT-17): a body
//! that finds it spent is not buffered but streams, and shares come back.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::Config;
use support::{start_with, WAIT};

/// Says which client's request reached it (the query string) as soon as it is
/// called, before it reads the body, then answers the body's length.
#[derive(Clone)]
struct Called(Arc<Mutex<Sender<String>>>);

impl gateway_spec::App for Called {
    fn call(&self, mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        let who = environ.query_string.clone();
        let _ = self.0.lock().unwrap().send(who);
        let mut body = Vec::new();
        environ.input.read_to_end(&mut body)?;
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from(format!("{} bytes", body.len())))
    }
}

/// A client that sent its head and half of a 4-byte body.
fn half_sent(addr: SocketAddr, who: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!("POST /?{who} HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// Sends the rest of the body and reads the answer up to its end.
fn finish(mut stream: TcpStream) -> String {
    stream.write_all(b"cd").unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    while !answer.ends_with(b"bytes") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Nothing reaches the app within a short look (a buffered body's request is not
/// called before its body is complete, so this cannot be a race).
fn nothing_called(calls: &Receiver<String>) -> Option<String> {
    calls.recv_timeout(Duration::from_millis(300)).ok()
}

#[test]
fn a_body_beyond_the_total_bound_streams_and_shares_come_back() {
    let (tx, calls) = channel();
    // Room for one 4-byte body, not two; two workers, so the streaming one
    // leaves one free.
    let config = Config {
        workers: 2,
        body_buffer_total_bytes: 6,
        ..Config::default()
    };
    let server = start_with(Called(Arc::new(Mutex::new(tx))), config);
    let a = half_sent(server.local_addr(), "a");
    let b = half_sent(server.local_addr(), "b");
    // Whichever head came second found 2 bytes left: its request went to a worker
    // with half its body, and the app was called.
    let streamed = calls
        .recv_timeout(WAIT)
        .expect("the request beyond the total bound reached the app at once");
    assert!(streamed == "a" || streamed == "b", "{streamed}");
    assert_eq!(
        nothing_called(&calls),
        None,
        "the other body is buffered: its app waits for all of it"
    );
    let (buffered, streaming) = if streamed == "a" { (b, a) } else { (a, b) };
    assert!(finish(streaming).ends_with("\r\n\r\n4 bytes"));
    assert!(finish(buffered).ends_with("\r\n\r\n4 bytes"));
    let buffered_call = calls.recv_timeout(WAIT).expect("the buffered one ran");
    assert_ne!(buffered_call, streamed);
    // Both shares are back: two more bodies, one after the other, are each
    // buffered in full before their app runs.
    for who in ["c", "d"] {
        let client = half_sent(server.local_addr(), who);
        assert_eq!(nothing_called(&calls), None, "{who} was not buffered");
        assert!(finish(client).ends_with("\r\n\r\n4 bytes"));
        assert_eq!(calls.recv_timeout(WAIT).as_deref(), Ok(who));
    }
    server.stop();
}
