//! Checks of failures the client caused (SPEC.md section 12.1): a body broken, cut
//! short, too slow or too large is answered 400, 408 or 413 with a close, never 500.

use fixtures::raw_client::{Reader, WAIT};

use crate::check::{ensure, expect_status, Check, Outcome};
use crate::target::{unique, Target};

/// Reads the answer to a broken POST and checks it is `status` in the shape of a
/// rejection (REQ-1), followed by the close.
fn expect_client_error(reader: &mut Reader, status: u16, what: &str) -> Outcome {
    let response = reader
        .response("POST")
        .ok_or_else(|| format!("{what}: no response before the close"))?;
    expect_status(&response, status).map_err(|e| format!("{what}: {e}"))?;
    ensure(response.header("connection") == Some("close"), || {
        format!("{what}: the {status} has no Connection: close")
    })?;
    ensure(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        || format!("{what}: Content-Type {:?}", response.header("content-type")),
    )?;
    ensure(
        response.header("content-length").is_some() && response.complete,
        || format!("{what}: the {status} has no Content-Length"),
    )?;
    ensure(reader.is_closed(), || {
        format!("{what}: the connection stayed open after the {status}")
    })
}

/// The app ran at most once for `path`: the server answered, it did not retry.
fn ran_at_most_once(target: &Target, path: &str) -> Outcome {
    let seen = target.seen(path)?;
    ensure(seen <= 1, || format!("the app ran {seen} times for {path}"))
}

fn a_malformed_chunk_is_answered_400_and_closes(target: &Target) -> Outcome {
    let path = format!("/ce/{}", unique("badchunk"));
    let smuggled = format!("/ce/{}", unique("smuggled"));
    let mut reader = target.reader();
    reader.send(
        format!(
            "POST {path} HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n\
             3\r\nabc\r\nzz\r\nGET {smuggled} HTTP/1.1\r\nHost: c\r\n\r\n"
        )
        .as_bytes(),
    );
    expect_client_error(&mut reader, 400, "a malformed chunk size")?;
    ran_at_most_once(target, &path)?;
    ensure(target.seen(&smuggled)? == 0, || {
        "a request hidden in a malformed chunked body ran".into()
    })
}

fn a_body_cut_short_is_answered_400(target: &Target) -> Outcome {
    let path = format!("/ce/{}", unique("cut"));
    let mut reader = target.reader();
    reader.send(
        format!("POST {path} HTTP/1.1\r\nHost: c\r\nContent-Length: 100\r\n\r\nonly this much")
            .as_bytes(),
    );
    // The client stops sending but still listens (a half-close, CONN-15).
    reader
        .stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    expect_client_error(&mut reader, 400, "a body cut short")?;
    ran_at_most_once(target, &path)
}

fn a_chunked_body_cut_short_is_answered_400(target: &Target) -> Outcome {
    let path = format!("/ce/{}", unique("cut-chunked"));
    let mut reader = target.reader();
    reader.send(
        format!(
            "POST {path} HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        )
        .as_bytes(),
    );
    reader
        .stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    expect_client_error(&mut reader, 400, "a chunked body without its last chunk")?;
    ran_at_most_once(target, &path)
}

fn a_body_too_slow_is_answered_408(target: &Target) -> Outcome {
    let path = format!("/ce/{}", unique("slow"));
    let mut reader = target.reader();
    // Every wait is bounded: the target's body timeout, then the usual margin.
    let bound = target.body_timeout + WAIT;
    reader
        .stream
        .set_read_timeout(Some(bound))
        .map_err(|e| e.to_string())?;
    reader.send(
        format!("POST {path} HTTP/1.1\r\nHost: c\r\nContent-Length: 10\r\n\r\nabc").as_bytes(),
    );
    expect_client_error(
        &mut reader,
        408,
        &format!(
            "a body that stalls (the target's body timeout is taken as {:?}; set CONFORMANCE_BODY_TIMEOUT)",
            target.body_timeout
        ),
    )?;
    ran_at_most_once(target, &path)
}

fn a_chunked_body_over_the_limit_is_answered_413(target: &Target) -> Outcome {
    let path = format!("/ce/{}", unique("large"));
    let mut reader = target.reader();
    // One chunk announcing one octet more than the limit: the size alone decides.
    let size = target.max_body.saturating_add(1);
    reader.send(
        format!(
            "POST {path} HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n{size:x}\r\nsome data"
        )
        .as_bytes(),
    );
    expect_client_error(
        &mut reader,
        413,
        &format!(
            "a chunk announcing {size} octets (the target's limit is taken as {}; set CONFORMANCE_MAX_BODY)",
            target.max_body
        ),
    )?;
    ran_at_most_once(target, &path)
}

fn an_app_that_catches_a_body_error_keeps_its_answer(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"POST /fixture/catch-input-error HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n+5\r\nhello\r\n0\r\n\r\n",
    );
    let response = reader.response("POST").ok_or("no response")?;
    expect_status(&response, 200)?;
    ensure(response.text() == "caught", || {
        format!("the app's own answer was replaced by {:?}", response.text())
    })?;
    ensure(response.header("connection") == Some("close"), || {
        "the app's answer after a broken body has no Connection: close".into()
    })?;
    ensure(reader.is_closed(), || {
        "the connection stayed open after a broken body".into()
    })
}

/// The client-error checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "a_malformed_chunk_is_answered_400_and_closes",
        rules: &["FAIL-10", "INPUT-6", "REQ-36", "REQ-2"],
        run: a_malformed_chunk_is_answered_400_and_closes,
    },
    Check {
        name: "a_body_cut_short_is_answered_400",
        rules: &["FAIL-10", "INPUT-5"],
        run: a_body_cut_short_is_answered_400,
    },
    Check {
        name: "a_chunked_body_cut_short_is_answered_400",
        rules: &["FAIL-10", "INPUT-5"],
        run: a_chunked_body_cut_short_is_answered_400,
    },
    Check {
        name: "a_body_too_slow_is_answered_408",
        rules: &["FAIL-10", "INPUT-7", "LIMIT-10"],
        run: a_body_too_slow_is_answered_408,
    },
    Check {
        name: "a_chunked_body_over_the_limit_is_answered_413",
        rules: &["FAIL-10", "LIMIT-5", "LIMIT-6"],
        run: a_chunked_body_over_the_limit_is_answered_413,
    },
    Check {
        name: "an_app_that_catches_a_body_error_keeps_its_answer",
        rules: &["FAIL-11"],
        run: an_app_that_catches_a_body_error_keeps_its_answer,
    },
];
