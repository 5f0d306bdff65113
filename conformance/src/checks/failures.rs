//! Checks of error handling (SPEC.md section 12): failures before the headers give a
//! clean 500, after them an aborted response; close runs and workers survive.

use crate::check::{ensure, expect_status, Check, Outcome};
use crate::target::{unique, Target};

fn failures_before_headers_give_a_plain_500(target: &Target) -> Outcome {
    for path in [
        "/fixture/panic-before",
        "/fixture/panic-before?start=1",
        "/fixture/error-before",
        "/fixture/error-before?start=1",
        "/fixture/panic-in-body",
    ] {
        let response = target.get(path);
        expect_status(&response, 500)?;
        ensure(response.header("x-before").is_none(), || {
            format!("{path}: the app's header survived")
        })?;
        ensure(
            response
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/plain")),
            || format!("{path}: Content-Type {:?}", response.header("content-type")),
        )?;
        ensure(
            response.header("content-length").is_some() && response.complete,
            || format!("{path}: the 500 has no Content-Length"),
        )?;
    }
    Ok(())
}

fn the_connection_survives_a_500(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"GET /fixture/panic-before HTTP/1.1\r\nHost: c\r\n\r\nGET /fail/after-500 HTTP/1.1\r\nHost: c\r\n\r\n",
    );
    expect_status(&reader.response("GET").ok_or("no 500")?, 500)?;
    let next = reader
        .response("GET")
        .ok_or("the connection closed after a 500")?;
    ensure(next.text().contains("/fail/after-500"), || {
        format!("next saw {:?}", next.text())
    })
}

fn failures_after_headers_abort_the_response(target: &Target) -> Outcome {
    for (path, chunked) in [
        ("/fixture/panic-after?cl=0", true),
        ("/fixture/panic-after?cl=1", false),
        ("/fixture/error-after?cl=0", true),
        ("/fixture/error-after?cl=1", false),
    ] {
        let mut reader = target.reader();
        reader.send(format!("GET {path} HTTP/1.1\r\nHost: c\r\n\r\n").as_bytes());
        let response = reader.response("GET").ok_or("no response")?;
        expect_status(&response, 200)?;
        ensure(!response.complete, || {
            format!("{path}: the failed response looks complete")
        })?;
        ensure(response.text() == "partial", || {
            format!(
                "{path}: body {:?}; no error text may follow the headers",
                response.text()
            )
        })?;
        ensure(
            response.header("transfer-encoding").is_some() == chunked,
            || format!("{path}: unexpected framing"),
        )?;
        ensure(reader.is_closed(), || {
            format!("{path}: the connection stayed open")
        })?;
    }
    Ok(())
}

fn a_body_error_before_any_byte_is_a_500(target: &Target) -> Outcome {
    expect_status(&target.get("/fixture/panic-in-body"), 500)
}

fn close_runs_once_on_every_path(target: &Target) -> Outcome {
    for route in [
        "chunks?n=2",
        "panic-after?cl=0",
        "error-after?cl=1",
        "cl-excess",
        "file",
    ] {
        let id = unique("close");
        let separator = if route.contains('?') { '&' } else { '?' };
        let mut reader = target.reader();
        reader.send(
            format!("GET /fixture/{route}{separator}id={id} HTTP/1.1\r\nHost: c\r\n\r\n")
                .as_bytes(),
        );
        let _ = reader.response("GET");
        drop(reader);
        let closed = wait_for_count(|| target.closed(&id), 1)?;
        ensure(closed == 1, || {
            format!("{route}: the body was closed {closed} times")
        })?;
    }
    Ok(())
}

fn a_client_gone_stops_the_body(target: &Target) -> Outcome {
    let id = unique("gone");
    let mut reader = target.reader();
    reader.send(
        format!(
            "GET /fixture/chunks?n=200&size=65536&delay_ms=20&id={id} HTTP/1.1\r\nHost: c\r\n\r\n"
        )
        .as_bytes(),
    );
    let mut first = [0u8; 64];
    std::io::Read::read(&mut reader.stream, &mut first).map_err(|e| e.to_string())?;
    drop(reader);
    let closed = wait_for_count(|| target.closed(&id), 1)?;
    ensure(closed == 1, || {
        "the body of a departed client was not closed".into()
    })?;
    let pulled = target.pulled(&id)?;
    ensure(pulled < 200, || {
        "the server pulled the whole body for a departed client".into()
    })
}

fn workers_survive_many_panics(target: &Target) -> Outcome {
    for _ in 0..64 {
        expect_status(&target.get("/fixture/panic-before"), 500)?;
    }
    let response = target.get("/fail/alive");
    expect_status(&response, 200)
}

/// Polls a counter until it reaches `want` (close may run just after the response),
/// for at most a few seconds; returns the last value.
fn wait_for_count(read: impl Fn() -> Result<u64, String>, want: u64) -> Result<u64, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let value = read()?;
        if value >= want || std::time::Instant::now() > deadline {
            return Ok(value);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The error handling checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "failures_before_headers_give_a_plain_500",
        rules: &["FAIL-1"],
        run: failures_before_headers_give_a_plain_500,
    },
    Check {
        name: "the_connection_survives_a_500",
        rules: &["FAIL-2"],
        run: the_connection_survives_a_500,
    },
    Check {
        name: "failures_after_headers_abort_the_response",
        rules: &["FAIL-4", "FAIL-5", "BODY-10"],
        run: failures_after_headers_abort_the_response,
    },
    Check {
        name: "a_body_error_before_any_byte_is_a_500",
        rules: &["BODY-10", "FAIL-1"],
        run: a_body_error_before_any_byte_is_a_500,
    },
    Check {
        name: "close_runs_once_on_every_path",
        rules: &["BODY-3", "FAIL-8"],
        run: close_runs_once_on_every_path,
    },
    Check {
        name: "a_client_gone_stops_the_body",
        rules: &["BODY-4"],
        run: a_client_gone_stops_the_body,
    },
    Check {
        name: "workers_survive_many_panics",
        rules: &["SRV-2", "FAIL-8"],
        run: workers_survive_many_panics,
    },
];
