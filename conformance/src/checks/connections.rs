//! Checks of connection management (SPEC.md section 11.3): persistence, close,
//! pipelining, unread bodies and the lazy `100 Continue`.

use fixtures::raw_client::Reader;

use crate::check::{ensure, expect_status, Check, Outcome};
use crate::target::Target;

fn http11_connections_persist(target: &Target) -> Outcome {
    let mut reader = target.reader();
    for i in 0..3 {
        reader.send(format!("GET /conn/p{i} HTTP/1.1\r\nHost: c\r\n\r\n").as_bytes());
        let response = reader.response("GET").ok_or("the connection closed")?;
        expect_status(&response, 200)?;
    }
    Ok(())
}

fn connection_close_is_the_last_request(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"GET /conn/close HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n\
          GET /conn/after-close HTTP/1.1\r\nHost: c\r\n\r\n",
    );
    let response = reader.response("GET").ok_or("no response")?;
    expect_status(&response, 200)?;
    ensure(response.header("connection") == Some("close"), || {
        "no Connection: close".into()
    })?;
    ensure(reader.is_closed(), || "the connection stayed open".into())?;
    ensure(target.seen("/conn/after-close")? == 0, || {
        "a request after Connection: close was processed".into()
    })
}

fn http10_closes_unless_kept_alive(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(b"GET /conn/v10 HTTP/1.0\r\n\r\n");
    expect_status(&reader.response("GET").ok_or("no response")?, 200)?;
    ensure(reader.is_closed(), || {
        "HTTP/1.0 without keep-alive stayed open".into()
    })
}

fn pipelined_requests_are_answered_in_order(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"GET /conn/one HTTP/1.1\r\nHost: c\r\n\r\n\
          POST /conn/two HTTP/1.1\r\nHost: c\r\nContent-Length: 3\r\n\r\nabc\
          GET /conn/three HTTP/1.1\r\nHost: c\r\n\r\n",
    );
    for (method, path) in [
        ("GET", "/conn/one"),
        ("POST", "/conn/two"),
        ("GET", "/conn/three"),
    ] {
        let response = reader
            .response(method)
            .ok_or("a pipelined response is missing")?;
        ensure(
            response
                .text()
                .contains(&format!("\"path_info\":\"{path}\"")),
            || format!("expected the answer to {path}, got {:?}", response.text()),
        )?;
    }
    Ok(())
}

fn unread_bodies_are_never_parsed_as_requests(target: &Target) -> Outcome {
    let hidden = "GET /conn/hidden HTTP/1.1\r\nHost: c\r\n\r\n";
    let mut reader = target.reader();
    reader.send(
        format!(
            "POST /fixture/ignore-body HTTP/1.1\r\nHost: c\r\nContent-Length: {}\r\n\r\n{hidden}\
             GET /conn/after-ignored HTTP/1.1\r\nHost: c\r\n\r\n",
            hidden.len()
        )
        .as_bytes(),
    );
    expect_status(&reader.response("POST").ok_or("no response")?, 200)?;
    if let Some(next) = reader.response("GET") {
        ensure(next.text().contains("/conn/after-ignored"), || {
            format!("the next request saw {:?}", next.text())
        })?;
    }
    ensure(target.seen("/conn/hidden")? == 0, || {
        "the request hidden in the body ran".into()
    })
}

fn a_body_too_big_to_drain_closes_with_notice(target: &Target) -> Outcome {
    let mut reader = target.reader();
    // 10 MB announced, little sent: the server cannot drain it within any sane
    // bound, so it must close (and say so when it can).
    reader.send(
        b"POST /fixture/ignore-body HTTP/1.1\r\nHost: c\r\nContent-Length: 10000000\r\n\r\nabc",
    );
    let response = reader.response("POST").ok_or("no response")?;
    expect_status(&response, 200)?;
    ensure(reader.is_closed(), || {
        "the connection stayed open with an undrained body".into()
    })
}

fn continue_goes_out_only_when_the_app_reads(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(b"POST /conn/expect HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let interim = reader.response("POST").ok_or("no 100 Continue")?;
    expect_status(&interim, 100)?;
    reader.send(b"ping");
    let response = reader.response("POST").ok_or("no final response")?;
    ensure(response.text().contains("\"body_length\":4"), || {
        format!("{:?}", response.text())
    })?;

    let mut reader = target.reader();
    reader.send(
        b"POST /fixture/ignore-body HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let response = reader.response("POST").ok_or("no response")?;
    ensure(response.status == 200, || {
        format!(
            "an app that does not read got status {} first",
            response.status
        )
    })?;
    ensure(response.header("connection") == Some("close"), || {
        "the body will never come: the response must close".into()
    })?;
    ensure(reader.is_closed(), || "the connection stayed open".into())
}

fn expect_on_http10_is_ignored(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"POST /conn/expect10 HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok",
    );
    let response = reader.response("POST").ok_or("no response")?;
    expect_status(&response, 200)?;
    ensure(response.text().contains("\"body_length\":2"), || {
        format!("{:?}", response.text())
    })
}

fn unknown_expectations_get_417(target: &Target) -> Outcome {
    let path = crate::target::unique("/conn/expect-unknown");
    let response = target.exchange(
        format!("POST {path} HTTP/1.1\r\nHost: c\r\nExpect: fly\r\nContent-Length: 2\r\n\r\nhi")
            .as_bytes(),
    );
    expect_status(&response, 417)?;
    ensure(target.seen(&path)? == 0, || {
        "the app ran for an unmet expectation".into()
    })
}

/// A new connection that sends `bytes` and then closes its sending side.
fn send_then_half_close(target: &Target, bytes: &[u8]) -> Result<Reader, String> {
    let mut reader = target.reader();
    reader.send(bytes);
    reader
        .stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    Ok(reader)
}

fn half_closed_clients_get_answers_then_the_close(target: &Target) -> Outcome {
    let mut reader =
        send_then_half_close(target, b"GET /conn/half-closed HTTP/1.1\r\nHost: c\r\n\r\n")?;
    let response = reader
        .response("GET")
        .ok_or("no answer to a request sent before a half-close")?;
    expect_status(&response, 200)?;
    ensure(reader.is_closed(), || {
        "the connection stayed open after the answer".into()
    })?;

    let mut reader = send_then_half_close(target, b"GET /conn/half-head HTTP/1.1\r\nHost: c\r\n")?;
    ensure(reader.is_closed(), || {
        "a connection whose client half-closed mid-head stayed open".into()
    })
}

/// The connection checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "http11_connections_persist",
        rules: &["CONN-1"],
        run: http11_connections_persist,
    },
    Check {
        name: "connection_close_is_the_last_request",
        rules: &["CONN-2", "FRAME-17"],
        run: connection_close_is_the_last_request,
    },
    Check {
        name: "http10_closes_unless_kept_alive",
        rules: &["CONN-3"],
        run: http10_closes_unless_kept_alive,
    },
    Check {
        name: "pipelined_requests_are_answered_in_order",
        rules: &["CONN-5"],
        run: pipelined_requests_are_answered_in_order,
    },
    Check {
        name: "unread_bodies_are_never_parsed_as_requests",
        rules: &["CONN-7", "REQ-2"],
        run: unread_bodies_are_never_parsed_as_requests,
    },
    Check {
        name: "a_body_too_big_to_drain_closes_with_notice",
        rules: &["CONN-8", "CONN-12"],
        run: a_body_too_big_to_drain_closes_with_notice,
    },
    Check {
        name: "continue_goes_out_only_when_the_app_reads",
        rules: &["CONN-9", "CONN-10", "CONN-12"],
        run: continue_goes_out_only_when_the_app_reads,
    },
    Check {
        name: "unknown_expectations_get_417",
        rules: &["REQ-23"],
        run: unknown_expectations_get_417,
    },
    Check {
        name: "half_closed_clients_get_answers_then_the_close",
        rules: &["CONN-15"],
        run: half_closed_clients_get_answers_then_the_close,
    },
    Check {
        name: "expect_on_http10_is_ignored",
        rules: &["CONN-13"],
        run: expect_on_http10_is_ignored,
    },
];
