//! Checks of the response (SPEC.md sections 8 to 11.2): when headers go out, what
//! the app may and may not set, and how the server frames each kind of body.

use std::io::Read;
use std::time::Duration;

use crate::check::{ensure, expect_sane_framing, expect_status, Check, Outcome};
use crate::target::{unique, Target};

fn get_on(target: &Target, path: &str) -> fixtures::raw_client::Response {
    target.get(path)
}

fn app_hop_by_hop_headers_never_reach_the_wire(target: &Target) -> Outcome {
    for (name, value) in [
        ("Connection", "x-app-value"),
        ("Transfer-Encoding", "x-app-value"),
        ("Keep-Alive", "timeout=999"),
        ("Upgrade", "x-app-value"),
    ] {
        let response = get_on(
            target,
            &format!("/fixture/hop-by-hop?name={name}&value={value}"),
        );
        ensure(
            !response
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value),
            || format!("the app's {name}: {value} reached the wire"),
        )?;
        expect_sane_framing(&response)?;
    }
    Ok(())
}

fn repeated_headers_stay_separate_and_ordered(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/multi-header");
    expect_status(&response, 200)?;
    let cookies: Vec<&str> = response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    ensure(cookies == ["a=1", "b=2"], || {
        format!("Set-Cookie lines: {cookies:?}")
    })
}

fn headers_wait_for_the_first_non_empty_chunk(target: &Target) -> Outcome {
    // The app recorded 200 and yielded only an empty chunk before failing: nothing
    // went out yet, so the client must get a clean 500.
    let response = get_on(target, "/fixture/empty-then-error");
    expect_status(&response, 500)?;
    let response = get_on(target, "/fixture/empty-chunks");
    expect_status(&response, 200)?;
    ensure(response.text() == "ab" && response.complete, || {
        format!("empty chunks changed the body: {:?}", response.text())
    })
}

fn start_response_may_come_from_the_body(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/lazy-start");
    expect_status(&response, 200)?;
    ensure(response.text() == "lazy", || {
        format!("body {:?}", response.text())
    })
}

fn a_body_without_start_response_is_a_500(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/no-start");
    expect_status(&response, 500)?;
    ensure(!response.text().contains("oops"), || {
        "the orphan body was sent".into()
    })
}

fn start_response_with_error_replaces_everything(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/replace");
    expect_status(&response, 500)?;
    ensure(response.header("x-first").is_none(), || {
        "X-First survived".into()
    })?;
    ensure(response.header("x-second") == Some("1"), || {
        "X-Second is missing".into()
    })?;
    ensure(response.text() == "replaced", || {
        format!(
            "body {:?} (the first Content-Length must not survive)",
            response.text()
        )
    })
}

fn the_write_handle_sends_before_the_body(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/write");
    expect_status(&response, 200)?;
    ensure(response.text() == "written-body", || {
        format!("body {:?}", response.text())
    })
}

fn body_octets_are_sent_unchanged(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/bytes");
    expect_status(&response, 200)?;
    let expected: Vec<u8> = (0..=255).collect();
    ensure(response.body == expected, || {
        "the 256 octet values came back changed".into()
    })
}

fn a_file_body_is_the_files_bytes(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/file");
    expect_status(&response, 200)?;
    expect_sane_framing(&response)?;
    let expected: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    ensure(response.body.len() == expected.len(), || {
        format!("file body of {} bytes, expected 65536", response.body.len())
    })?;
    ensure(response.body == expected, || {
        "the file body differs from the file".into()
    })?;
    let head = target.exchange(b"HEAD /fixture/file HTTP/1.1\r\nHost: c\r\n\r\n");
    ensure(head.body.is_empty(), || {
        "HEAD of a file carried a body".into()
    })
}

fn chunks_go_out_before_the_next_is_pulled(target: &Target) -> Outcome {
    let id = unique("stream");
    let mut reader = target.reader();
    reader.send(
        format!("GET /fixture/chunks?n=4&delay_ms=400&id={id} HTTP/1.1\r\nHost: c\r\n\r\n")
            .as_bytes(),
    );
    // Read the head and the first chunk's bytes as they arrive.
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("aaaaa") {
        let n = reader.stream.read(&mut buf).map_err(|e| e.to_string())?;
        ensure(n > 0, || {
            "the connection closed before the first chunk".into()
        })?;
        seen.extend_from_slice(&buf[..n]);
    }
    let pulled = target.pulled(&id)?;
    // A server that serves one connection at a time answers the counter only
    // after the stream ended: then nothing can be concluded from it.
    reader
        .stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let _ = reader.stream.read_to_end(&mut rest);
    seen.extend_from_slice(&rest);
    if seen.ends_with(b"0\r\n\r\n") && pulled >= 4 {
        return Err(SKIP.to_owned());
    }
    ensure(pulled < 4, || {
        format!("the first chunk arrived only after all {pulled} chunks were pulled")
    })
}

/// The message of a check that could not conclude (see `Check::judge`).
const SKIP: &str = "skip: the server answered the pull counter only after the stream ended \
                    (one connection at a time), so the order cannot be observed";

fn app_content_length_is_honoured_exactly(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/status?code=200&header=Content-Length:1");
    expect_status(&response, 200)?;
    ensure(
        response.header("content-length") == Some("1") && response.text() == "x",
        || {
            format!(
                "Content-Length {:?}, body {:?}",
                response.header("content-length"),
                response.text()
            )
        },
    )
}

fn excess_beyond_content_length_is_cut_and_never_pulled(target: &Target) -> Outcome {
    let id = unique("excess");
    let mut reader = target.reader();
    reader.send(format!("GET /fixture/cl-excess?id={id} HTTP/1.1\r\nHost: c\r\n\r\n").as_bytes());
    let response = reader.response("GET").ok_or("no response")?;
    ensure(response.text() == "abcde", || {
        format!("body {:?}", response.text())
    })?;
    ensure(reader.is_closed(), || {
        "the connection stayed open after an excess".into()
    })?;
    let pulled = target.pulled(&id)?;
    ensure(pulled == 2, || {
        format!("{pulled} chunks pulled, expected 2")
    })
}

fn a_short_body_closes_without_padding(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(b"GET /fixture/cl-short HTTP/1.1\r\nHost: c\r\n\r\n");
    let response = reader.response("GET").ok_or("no response")?;
    ensure(!response.complete && response.text() == "abcde", || {
        format!(
            "body {:?}, complete: {}",
            response.text(),
            response.complete
        )
    })?;
    ensure(reader.is_closed(), || "the connection stayed open".into())
}

fn a_known_length_gets_a_content_length(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/known-length");
    ensure(response.header("content-length") == Some("5"), || {
        format!("Content-Length {:?}", response.header("content-length"))
    })?;
    ensure(response.text() == "hello", || {
        format!("body {:?}", response.text())
    })
}

fn unknown_length_is_chunked_on_1_1_and_close_delimited_on_1_0(target: &Target) -> Outcome {
    let response = get_on(target, "/fixture/chunks?n=3&size=4");
    expect_sane_framing(&response)?;
    ensure(
        response.header("transfer-encoding") == Some("chunked") && response.complete,
        || "an HTTP/1.1 body of unknown length must be chunked with a final chunk".into(),
    )?;
    ensure(response.text() == "aaaabbbbcccc", || {
        format!("body {:?}", response.text())
    })?;
    let mut reader = target.reader();
    reader.send(b"GET /fixture/chunks?n=3&size=4 HTTP/1.0\r\n\r\n");
    let response = reader.response("GET").ok_or("no response")?;
    ensure(response.header("transfer-encoding").is_none(), || {
        "HTTP/1.0 got chunked".into()
    })?;
    ensure(response.text() == "aaaabbbbcccc", || {
        format!("body {:?}", response.text())
    })
}

fn head_has_no_body_and_keeps_the_connection(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(
        b"HEAD /fixture/chunks HTTP/1.1\r\nHost: c\r\n\r\nHEAD /resp/head HTTP/1.1\r\nHost: c\r\n\r\n\
          GET /resp/after-head HTTP/1.1\r\nHost: c\r\n\r\n",
    );
    for _ in 0..2 {
        let head = reader.response("HEAD").ok_or("no response to HEAD")?;
        expect_status(&head, 200)?;
        ensure(head.body.is_empty(), || "HEAD carried body bytes".into())?;
    }
    let after = reader.response("GET").ok_or("no response after HEAD")?;
    ensure(after.text().contains("/resp/after-head"), || {
        format!("the request after HEAD saw {:?}", after.text())
    })
}

fn no_content_and_not_modified_carry_nothing(target: &Target) -> Outcome {
    for code in [204, 304] {
        let mut reader = target.reader();
        reader.send(
            format!(
                "GET /fixture/status?code={code} HTTP/1.1\r\nHost: c\r\n\r\nGET /resp/after-{code} HTTP/1.1\r\nHost: c\r\n\r\n"
            )
            .as_bytes(),
        );
        let response = reader.response("GET").ok_or("no response")?;
        expect_status(&response, code)?;
        ensure(response.header("transfer-encoding").is_none(), || {
            format!("{code} carried Transfer-Encoding")
        })?;
        if code == 204 {
            ensure(response.header("content-length").is_none(), || {
                "204 carried Content-Length".into()
            })?;
        }
        // A body byte would be read as the start of the next response.
        let next = reader.response("GET").ok_or("no response after it")?;
        expect_status(&next, 200)?;
    }
    Ok(())
}

fn status_line_and_reason_phrase(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(b"GET /fixture/reason HTTP/1.1\r\nHost: c\r\n\r\n");
    let mut first = [0u8; 25];
    std::io::Read::read_exact(&mut reader.stream, &mut first).map_err(|e| e.to_string())?;
    ensure(first.starts_with(b"HTTP/1.1 200 Fine Thanks\r"), || {
        format!("status line starts {:?}", String::from_utf8_lossy(&first))
    })?;
    let mut reader = target.reader();
    reader.send(b"GET /resp/v10 HTTP/1.0\r\n\r\n");
    let mut first = [0u8; 17];
    std::io::Read::read_exact(&mut reader.stream, &mut first).map_err(|e| e.to_string())?;
    ensure(
        first.starts_with(b"HTTP/1.0 200 OK\r\n") || first.starts_with(b"HTTP/1.1 200 OK\r\n"),
        || format!("status line starts {:?}", String::from_utf8_lossy(&first)),
    )
}

fn date_is_added_and_the_apps_is_kept(target: &Target) -> Outcome {
    let response = get_on(target, "/resp/date");
    let date = response.header("date").ok_or("no Date header")?;
    ensure(
        date.len() == 29 && date.ends_with(" GMT") && date.as_bytes()[3] == b',',
        || format!("Date {date:?} is not an IMF-fixdate"),
    )?;
    let response = get_on(target, "/fixture/date");
    ensure(
        response.header("date") == Some("Sun, 06 Nov 1994 08:49:37 GMT"),
        || format!("the app's Date became {:?}", response.header("date")),
    )
}

fn head_announces_the_length_a_get_would(target: &Target) -> Outcome {
    let head = target.exchange(b"HEAD /fixture/known-length HTTP/1.1\r\nHost: c\r\n\r\n");
    expect_status(&head, 200)?;
    ensure(head.header("content-length") == Some("5"), || {
        format!(
            "HEAD announced Content-Length {:?}, GET sends 5",
            head.header("content-length")
        )
    })
}

/// The response checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "app_hop_by_hop_headers_never_reach_the_wire",
        rules: &["START-5", "FRAME-16"],
        run: app_hop_by_hop_headers_never_reach_the_wire,
    },
    Check {
        name: "repeated_headers_stay_separate_and_ordered",
        rules: &["START-9"],
        run: repeated_headers_stay_separate_and_ordered,
    },
    Check {
        name: "headers_wait_for_the_first_non_empty_chunk",
        rules: &["START-10", "START-11", "FRAME-9"],
        run: headers_wait_for_the_first_non_empty_chunk,
    },
    Check {
        name: "start_response_may_come_from_the_body",
        rules: &["START-12"],
        run: start_response_may_come_from_the_body,
    },
    Check {
        name: "a_body_without_start_response_is_a_500",
        rules: &["START-13", "FAIL-3"],
        run: a_body_without_start_response_is_a_500,
    },
    Check {
        name: "start_response_with_error_replaces_everything",
        rules: &["START-15"],
        run: start_response_with_error_replaces_everything,
    },
    Check {
        name: "the_write_handle_sends_before_the_body",
        rules: &["WRITE-2", "WRITE-3"],
        run: the_write_handle_sends_before_the_body,
    },
    Check {
        name: "body_octets_are_sent_unchanged",
        rules: &["BODY-2"],
        run: body_octets_are_sent_unchanged,
    },
    Check {
        name: "a_file_body_is_the_files_bytes",
        rules: &["FILE-1", "FILE-2"],
        run: a_file_body_is_the_files_bytes,
    },
    Check {
        name: "chunks_go_out_before_the_next_is_pulled",
        rules: &["STREAM-1"],
        run: chunks_go_out_before_the_next_is_pulled,
    },
    Check {
        name: "app_content_length_is_honoured_exactly",
        rules: &["FRAME-3"],
        run: app_content_length_is_honoured_exactly,
    },
    Check {
        name: "excess_beyond_content_length_is_cut_and_never_pulled",
        rules: &["FRAME-4", "BODY-9"],
        run: excess_beyond_content_length_is_cut_and_never_pulled,
    },
    Check {
        name: "a_short_body_closes_without_padding",
        rules: &["FRAME-5"],
        run: a_short_body_closes_without_padding,
    },
    Check {
        name: "a_known_length_gets_a_content_length",
        rules: &["FRAME-6"],
        run: a_known_length_gets_a_content_length,
    },
    Check {
        name: "unknown_length_is_chunked_on_1_1_and_close_delimited_on_1_0",
        rules: &["FRAME-7", "FRAME-8"],
        run: unknown_length_is_chunked_on_1_1_and_close_delimited_on_1_0,
    },
    Check {
        name: "head_has_no_body_and_keeps_the_connection",
        rules: &["FRAME-10"],
        run: head_has_no_body_and_keeps_the_connection,
    },
    Check {
        name: "head_announces_the_length_a_get_would",
        rules: &["FRAME-11"],
        run: head_announces_the_length_a_get_would,
    },
    Check {
        name: "no_content_and_not_modified_carry_nothing",
        rules: &["FRAME-12"],
        run: no_content_and_not_modified_carry_nothing,
    },
    Check {
        name: "status_line_and_reason_phrase",
        rules: &["FRAME-1", "FRAME-2"],
        run: status_line_and_reason_phrase,
    },
    Check {
        name: "date_is_added_and_the_apps_is_kept",
        rules: &["FRAME-14"],
        run: date_is_added_and_the_apps_is_kept,
    },
];
