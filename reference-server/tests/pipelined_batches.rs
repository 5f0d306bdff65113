//! Pipelined batches, whose small responses wait in the connection's buffer for the
//! next one to carry them: every answer still arrives, in order, whatever ends the
//! batch (the buffer's end, a partial request, a refusal, a close, a panic).

mod support;

use std::time::Duration;

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::Config;
use support::{connect, start, start_with, Reader};

/// `/n/<id>` answers `<id>`; `/stream` answers three chunks of unknown length;
/// `/panic` panics before its head.
fn app(environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    let path = environ.path_info_str();
    if path == "/panic" {
        panic!("a failure in the middle of a batch");
    }
    start.call(StatusCode::OK, HeaderMap::new())?;
    if path == "/stream" {
        return Ok(Body::try_from_chunks(
            ["one ", "two ", "three"].map(|s| Ok(Bytes::from(s))),
        ));
    }
    Ok(Body::from(path.trim_start_matches("/n/").to_owned()))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n")
}

#[test]
fn a_long_batch_gets_every_answer_in_order() {
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    // Far more than one held write's worth of responses, with streamed ones among
    // them.
    let paths: Vec<String> = (0..300)
        .map(|i| {
            if i % 25 == 7 {
                "/stream".to_owned()
            } else {
                format!("/n/{i}")
            }
        })
        .collect();
    let batch: String = paths.iter().map(|p| get(p)).collect();
    reader.send(batch.as_bytes());
    let answers: Vec<_> = paths
        .iter()
        .map(|_| reader.response("GET").expect("an answer").text())
        .collect();
    server.stop();
    for (path, answer) in paths.iter().zip(&answers) {
        let expected = if path == "/stream" {
            "one two three"
        } else {
            path.trim_start_matches("/n/")
        };
        assert_eq!(answer, expected, "the answer to {path}");
    }
}

#[test]
fn the_complete_requests_of_a_batch_are_answered_before_the_rest_arrives() {
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(format!("{}{}GET /n/3 HTTP/1.1\r\nHo", get("/n/1"), get("/n/2")).as_bytes());
    let first = reader.response("GET").expect("the first answer").text();
    let second = reader.response("GET").expect("the second answer").text();
    reader.send(b"st: t\r\n\r\n");
    let third = reader.response("GET").expect("the third answer").text();
    server.stop();
    assert_eq!([first, second, third], ["1", "2", "3"]);
}

#[test]
fn a_batch_ending_in_a_refused_request_gets_the_earlier_answers_first() {
    let config = Config {
        max_body_bytes: 10,
        ..Config::default()
    };
    let server = start_with(app, config);
    let mut reader = Reader::new(connect(server.local_addr()));
    let oversized =
        "POST /n/x HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n01234567890123456789";
    reader.send(format!("{}{}{oversized}", get("/n/1"), get("/n/2")).as_bytes());
    let answers: Vec<_> = ["GET", "GET", "POST"]
        .into_iter()
        .map(|method| reader.response(method).expect("an answer"))
        .collect();
    let closed = reader.is_closed();
    server.stop();
    assert_eq!(answers[0].text(), "1");
    assert_eq!(answers[1].text(), "2");
    assert_eq!(answers[2].status, 413);
    assert!(closed, "the refusal ends the connection");
}

#[test]
fn a_batch_ending_in_a_close_gets_every_answer_before_the_end() {
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    let last = "GET /n/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    // A request after the close is never answered.
    reader.send(format!("{}{}{last}{}", get("/n/1"), get("/n/2"), get("/n/4")).as_bytes());
    let answers: Vec<_> = (0..3)
        .map(|_| reader.response("GET").expect("an answer").text())
        .collect();
    let closed = reader.is_closed();
    server.stop();
    assert_eq!(answers, ["1", "2", "3"]);
    assert!(
        closed,
        "the connection ends after the answer that said close"
    );
}

#[test]
fn a_panic_in_the_middle_of_a_batch_keeps_the_answers_around_it() {
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    reader.send(format!("{}{}{}", get("/n/1"), get("/panic"), get("/n/3")).as_bytes());
    let first = reader.response("GET").expect("the first answer");
    let failed = reader.response("GET").expect("the failed request's answer");
    let third = reader.response("GET").expect("the third answer");
    server.stop();
    assert_eq!(first.text(), "1");
    assert_eq!(failed.status, 500);
    assert_eq!(third.text(), "3");
}

#[test]
fn a_client_that_reads_late_still_gets_a_long_batch() {
    let server = start(app);
    let mut reader = Reader::new(connect(server.local_addr()));
    let batch: String = (0..2000).map(|i| get(&format!("/n/{i}"))).collect();
    reader.send(batch.as_bytes());
    // Responses pile up in the socket while the client reads nothing.
    std::thread::sleep(Duration::from_millis(300));
    let answers: Vec<_> = (0..2000)
        .map(|_| reader.response("GET").expect("an answer").text())
        .collect();
    server.stop();
    let expected: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
    assert_eq!(answers, expected);
}
