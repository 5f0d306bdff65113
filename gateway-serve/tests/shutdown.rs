//! The `greeting` example, an app served by `gateway_serve::main`, under SIGTERM: an
//! in-flight request finishes, idle connections close at once, new ones are refused,
//! and the exit code says whether the graceful timeout had to cut requests.

mod support;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{connect, greeting_example, Reader, Served, Signal, WAIT};

/// Sends a slow request and waits until the app says it started.
fn slow_request_in_flight(served: &mut Served, ms: u64) -> Reader {
    let mut slow = Reader::new(connect(served.addr));
    slow.send(format!("GET /slow?ms={ms} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    served.wait_for_log("slow request started");
    slow
}

#[test]
fn the_example_answers_and_sigterm_lets_an_in_flight_request_finish() {
    let mut served = Served::start(&greeting_example(), &[]);
    let mut idle = Reader::new(connect(served.addr));
    idle.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    let hello = idle.response("GET").expect("an answer");
    assert_eq!(hello.status, 200);
    assert_eq!(hello.text(), "Hello from an app of your own!\n");

    let mut slow = slow_request_in_flight(&mut served, 1000);
    served.signal(Signal::TERM);
    assert!(
        idle.is_closed(),
        "idle keep-alive connections close at once"
    );
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect(served.addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still accepted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = slow
        .response("GET")
        .expect("the in-flight request is answered");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(served.wait_exit().code(), Some(0));
}

#[test]
fn the_graceful_timeout_cuts_a_long_request_and_exits_three() {
    let mut served = Served::start(&greeting_example(), &["--graceful-timeout", "300ms"]);
    let _slow = slow_request_in_flight(&mut served, 10_000);
    served.signal(Signal::TERM);
    assert_eq!(served.wait_exit().code(), Some(3));
    let log = served.log();
    assert!(
        log.iter()
            .any(|l| l.contains("cutting the in-flight request GET /slow")),
        "{log:?}"
    );
}

#[test]
fn a_second_sigterm_stops_at_once_with_130() {
    let mut served = Served::start(&greeting_example(), &[]);
    let _slow = slow_request_in_flight(&mut served, 10_000);
    served.signal(Signal::TERM);
    served.wait_for_log("stopping gracefully");
    served.signal(Signal::TERM);
    assert_eq!(served.wait_exit().code(), Some(130));
}
