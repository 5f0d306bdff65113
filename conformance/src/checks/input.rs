//! Checks of the input stream (SPEC.md section 6): the body ends where it ends,
//! whatever the framing. Broken bodies are `client_errors.rs`'s.

use sha2::{Digest, Sha256};

use crate::check::{ensure, expect_status, Check, Outcome};
use crate::target::{json_of, Target};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn body_ends_exactly_at_its_end(target: &Target) -> Outcome {
    let body = b"0123456789";
    let mut reader = target.reader();
    reader.send(b"POST /in/len HTTP/1.1\r\nHost: c\r\nContent-Length: 10\r\n\r\n");
    reader.send(body);
    reader
        .send(b"GET /in/none HTTP/1.1\r\nHost: c\r\n\r\nGET /in/after HTTP/1.1\r\nHost: c\r\n\r\n");
    let first = json_of(&reader.response("POST").ok_or("no response")?)?;
    ensure(first["body_length"] == 10, || {
        format!("body_length {}", first["body_length"])
    })?;
    ensure(first["body_sha256"] == sha256_hex(body), || {
        "body digest differs".into()
    })?;
    // No framing: an empty body, and what follows is the next request.
    let second = json_of(&reader.response("GET").ok_or("no second response")?)?;
    ensure(second["body_length"] == 0, || {
        format!("body_length {}", second["body_length"])
    })?;
    let third = json_of(&reader.response("GET").ok_or("no third response")?)?;
    ensure(third["path_info"] == "/in/after", || {
        format!("third request saw {third}")
    })
}

fn reads_after_eof_return_nothing_at_once(target: &Target) -> Outcome {
    let response = target.exchange(
        b"POST /fixture/read-after-eof HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\n\r\nabcd",
    );
    expect_status(&response, 200)?;
    let value = json_of(&response)?;
    ensure(value["body_length"] == 4, || format!("{value}"))?;
    ensure(value["after_eof"] == serde_json::json!([0, 0, 0]), || {
        format!("reads after EOF returned {}", value["after_eof"])
    })
}

fn chunked_body_arrives_decoded(target: &Target) -> Outcome {
    let response = target.exchange(
        b"POST /in/chunked HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n\
          3;name=value\r\nabc\r\n0A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    expect_status(&response, 200)?;
    let value = json_of(&response)?;
    ensure(value["body_length"] == 13, || format!("{value}"))?;
    ensure(value["body_sha256"] == sha256_hex(b"abc0123456789"), || {
        "the decoded body differs from the chunk data".into()
    })?;
    ensure(value["headers"].get("HTTP_X_TRAILER").is_none(), || {
        "a trailer field reached the app as a header".into()
    })
}

/// The input stream checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "body_ends_exactly_at_its_end",
        rules: &["INPUT-1", "INPUT-4", "REQ-33"],
        run: body_ends_exactly_at_its_end,
    },
    Check {
        name: "reads_after_eof_return_nothing_at_once",
        rules: &["INPUT-2"],
        run: reads_after_eof_return_nothing_at_once,
    },
    Check {
        name: "chunked_body_arrives_decoded",
        rules: &["INPUT-3", "REQ-38", "REQ-39"],
        run: chunked_body_arrives_decoded,
    },
];
