//! Checks of request parsing (SPEC.md section 11.1): the shape of every rejection,
//! and the raw request corpus of `fixtures/requests`, one check per group.

use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fixtures::corpus::{corpus_dir, load_dir, AfterLast, Case};
use fixtures::raw_client::{Reader, Response};
use gateway_spec::exchange::panic_message;
use gateway_spec::target::{latin1, percent_decode};
use serde_json::Value;

use crate::check::{ensure, expect_sane_framing, expect_status, truncate, Check, Outcome};
use crate::target::Target;

fn rejections_are_short_plain_and_close(target: &Target) -> Outcome {
    let mut reader = target.reader();
    reader.send(b"GET /req/reject HTTP/1.1\r\nHost: c\r\nBad Name: x\r\n\r\nGET /req/after-reject HTTP/1.1\r\nHost: c\r\n\r\n");
    let response = reader
        .response("GET")
        .ok_or("no response to a malformed request")?;
    expect_status(&response, 400)?;
    ensure(response.header("connection") == Some("close"), || {
        "no Connection: close".into()
    })?;
    ensure(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        || format!("Content-Type {:?}", response.header("content-type")),
    )?;
    ensure(
        response.header("content-length").is_some() && response.complete,
        || "the rejection has no Content-Length".into(),
    )?;
    ensure(
        !response.body.is_empty() && response.body.len() < 1024,
        || format!("the rejection body is {} bytes", response.body.len()),
    )?;
    ensure(reader.is_closed(), || {
        "the connection stayed open after a rejection".into()
    })?;
    ensure(target.seen("/req/reject")? == 0, || {
        "the rejected request reached the app".into()
    })?;
    ensure(target.seen("/req/after-reject")? == 0, || {
        "a request after a rejected one reached the app".into()
    })
}

/// The SPEC.md rules each corpus group observes.
pub const CORPUS_GROUPS: &[(&str, &[&str])] = &[
    (
        "request-line",
        &["REQ-1", "REQ-2", "REQ-4", "REQ-5", "REQ-7"],
    ),
    (
        "headers",
        &["REQ-16", "REQ-17", "REQ-18", "REQ-19", "REQ-20"],
    ),
    ("host", &["REQ-21", "REQ-22"]),
    (
        "content-length",
        &["REQ-24", "REQ-25", "REQ-26", "REQ-28", "REQ-35"],
    ),
    (
        "transfer-encoding",
        &["REQ-29", "REQ-30", "REQ-31", "REQ-32"],
    ),
    ("smuggling", &["REQ-2", "REQ-24", "REQ-29", "CONN-7"]),
    (
        "chunked",
        &["REQ-36", "REQ-37", "REQ-38", "REQ-39", "INPUT-3"],
    ),
    (
        "target",
        &[
            "REQ-11", "REQ-12", "REQ-13", "REQ-14", "REQ-15", "REQ-40", "REQ-41", "ENV-5", "ENV-14",
        ],
    ),
    ("version", &["REQ-8", "REQ-9"]),
    ("limits", &["LIMIT-2", "LIMIT-3", "LIMIT-4", "REQ-35"]),
    ("pipelining", &["CONN-5"]),
    ("keep-alive", &["CONN-1", "CONN-2", "CONN-3"]),
    ("valid", &["ENV-3", "ENV-17", "ENV-31"]),
];

/// Corpus cases that observe a rule other than their group's: each is left out of
/// its group's check and judged by a check of its own that names only its rules
/// (`corpus_cases_apart!` below), so that a SHOULD-level case fails no MUST rule.
pub const CORPUS_CASES_APART: &[(&str, &[&str])] = &[
    // `HTTP/1.2`: served as HTTP/1.1 or refused with 505 (REQ-10, a SHOULD).
    ("version/003-higher-minor", &["REQ-10"]),
];

/// Corpus cases count app calls per path, and many share a path (`/`): groups run
/// one at a time even when the test harness runs checks in parallel.
static CORPUS_LOCK: Mutex<()> = Mutex::new(());

/// Runs every corpus case of `group` but those judged apart
/// ([`CORPUS_CASES_APART`]); fails listing each case that failed, with its raw
/// bytes.
pub fn run_group(target: &Target, group: &str) -> Outcome {
    run_cases(target, &format!("group {group}"), |case| {
        case.name.split('/').next() == Some(group)
            && !CORPUS_CASES_APART
                .iter()
                .any(|(name, _)| *name == case.name)
    })
}

/// Runs the corpus case `name` alone.
pub fn run_one(target: &Target, name: &str) -> Outcome {
    run_cases(target, &format!("case {name}"), |case| case.name == name)
}

/// Runs the corpus cases `selected` picks, in name order; fails listing each case
/// that failed, with its raw bytes. `what` names the selection when it is empty.
fn run_cases(target: &Target, what: &str, selected: impl Fn(&Case) -> bool) -> Outcome {
    let _one_group_at_a_time = CORPUS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let cases = load_dir(&corpus_dir()).map_err(|e| e.to_string())?;
    let cases: Vec<Case> = cases.into_iter().filter(|c| selected(c)).collect();
    ensure(!cases.is_empty(), || format!("the corpus has no {what}"))?;
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let outcome = std::panic::catch_unwind(|| run_case(target, case))
                .unwrap_or_else(|panic| Err(panic_message(&*panic)));
            outcome.err().map(|why| {
                format!(
                    "{} ({}): {why}\n    request: {:?}",
                    case.name,
                    case.cite,
                    truncate(&String::from_utf8_lossy(&case.request))
                )
            })
        })
        .collect();
    ensure(failures.is_empty(), || {
        format!(
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        )
    })
}

/// The decoded path of the first request line, when it is in origin-form.
fn first_path(request: &[u8]) -> Option<String> {
    let line_end = request.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&request[..line_end]).ok()?;
    let target = line.split(' ').nth(1)?;
    let path = target.split('?').next()?;
    // A path too long for a request line of its own cannot be asked about.
    (path.starts_with('/') && path.len() < 1024).then(|| latin1(&percent_decode(path.as_bytes())))
}

/// The methods of the requests in `request`, in order: the token that starts the
/// bytes and each token that follows an empty line and precedes a space. A body
/// could fool this; the corpus's bodies do not.
fn request_methods(request: &[u8]) -> Vec<String> {
    let method_at = |at: usize| {
        let rest = &request[at..];
        let end = rest.iter().position(|&b| b == b' ')?;
        let token = &rest[..end];
        (!token.is_empty() && token.iter().all(|b| b.is_ascii_uppercase()))
            .then(|| String::from_utf8_lossy(token).into_owned())
    };
    let mut methods: Vec<String> = method_at(0).into_iter().collect();
    let mut from = 0;
    while let Some(i) = request[from..].windows(4).position(|w| w == b"\r\n\r\n") {
        from += i + 4;
        if from < request.len() {
            methods.extend(method_at(from));
        }
    }
    methods
}

/// How long a case's connection may stay silent before the suite stops waiting for
/// more from the server ([`settle`]).
const SETTLE_QUIET: Duration = Duration::from_secs(1);

/// How long [`settle`] waits for the server at most.
const SETTLE_MAX: Duration = Duration::from_secs(5);

/// Finishes with a case's connection, whatever the case's outcome, so that whatever
/// the server still does with the case's bytes (a pipelined request left unread when
/// an assertion failed, say) happens before the case's own app-call counts are read,
/// never during the next case. After a failed exchange the server may still be
/// answering requests on the connection: the suite first reads (discarding) until it
/// is silent for [`SETTLE_QUIET`]. Then it half-closes its sending side (nothing
/// more will come) and reads until the server closes the connection or is silent for
/// [`SETTLE_QUIET`]. All of it takes [`SETTLE_MAX`] at most. A case that passed has
/// read every response it expects and, for `connection: close`, the close, so this
/// costs it one round trip.
fn settle(stream: &mut TcpStream, exchange_failed: bool) {
    let deadline = Instant::now() + SETTLE_MAX;
    let mut discard = [0u8; 16 * 1024];
    // Reads until EOF (true), or silence, an error or the deadline (false).
    let mut drain = |stream: &mut TcpStream| loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero()
            || stream
                .set_read_timeout(Some(left.min(SETTLE_QUIET)))
                .is_err()
        {
            return false;
        }
        match stream.read(&mut discard) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(_) => return false, // reset, or silent for SETTLE_QUIET
        }
    };
    if exchange_failed && drain(stream) {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    drain(stream);
}

/// Runs one case: its exchange, then [`settle`], then (for `app_calls: 0`) the
/// app-call counts, which are checked whatever the exchange concluded, so that a
/// request the server ran for this case is charged to this case.
fn run_case(target: &Target, case: &Case) -> Outcome {
    let counted: Vec<String> = match case.app_calls {
        Some(0) => ["/smuggled".to_owned()]
            .into_iter()
            .chain(first_path(&case.request))
            .collect(),
        _ => Vec::new(),
    };
    let before: Vec<u64> = counted
        .iter()
        .map(|p| target.seen(p))
        .collect::<Result<_, _>>()?;
    let mut reader = target.reader();
    // A read timeout of the raw client panics; the connection is settled anyway.
    let exchanged = std::panic::catch_unwind(AssertUnwindSafe(|| exchange_case(&mut reader, case)))
        .unwrap_or_else(|panic| Err(panic_message(&*panic)));
    settle(&mut reader.stream, exchanged.is_err());
    let mut ran_apps = Vec::new();
    for (path, before) in counted.iter().zip(before) {
        let after = target.seen(path)?;
        if after != before {
            ran_apps.push(format!(
                "the app ran {} time(s) for {path}; expected none",
                after.saturating_sub(before)
            ));
        }
    }
    match (exchanged, ran_apps.is_empty()) {
        (Ok(()), true) => Ok(()),
        (Ok(()), false) => Err(ran_apps.join("; ")),
        (Err(why), true) => Err(why),
        (Err(why), false) => Err(format!("{why}; and {}", ran_apps.join("; "))),
    }
}

/// Sends the case's bytes on `reader` and checks its responses and what becomes of
/// the connection after the last one.
fn exchange_case(reader: &mut Reader, case: &Case) -> Outcome {
    let methods = request_methods(&case.request);
    // A server may answer and close before it read a huge request: the write
    // then fails, and the response already sent is what counts.
    let _ = std::io::Write::write_all(&mut reader.stream, &case.request);
    if case.half_close {
        // The client sends nothing more but still reads (CONN-15).
        let _ = reader.stream.shutdown(Shutdown::Write);
    }
    let mut echoes = case.echoes.iter();
    for (i, allowed) in case.statuses.iter().enumerate() {
        let method = methods
            .get(i)
            .or(methods.last())
            .cloned()
            .unwrap_or_default();
        let mut response = reader
            .response(&method)
            .ok_or_else(|| format!("response {} of {} is missing", i + 1, case.statuses.len()))?;
        while response.status == 100 {
            response = reader
                .response(&method)
                .ok_or("nothing after 100 Continue")?;
        }
        ensure(allowed.contains(&response.status), || {
            format!(
                "response {}: status {}, expected {allowed:?}; body {:?}",
                i + 1,
                response.status,
                truncate(&response.text())
            )
        })?;
        expect_sane_framing(&response)?;
        if (200..300).contains(&response.status) && method != "HEAD" {
            if let Some(expected) = echoes.next() {
                compare_echo(&response, expected)?;
            }
        }
    }
    match case.connection {
        AfterLast::KeepAlive => {
            reader.send(b"GET /corpus/probe HTTP/1.1\r\nHost: c\r\n\r\n");
            let probe = reader
                .response("GET")
                .ok_or("the connection closed; expected keep-alive")?;
            ensure(probe.status == 200, || {
                format!("the follow-up request got {}", probe.status)
            })?;
        }
        AfterLast::Close => {
            ensure(reader.is_closed(), || {
                "the connection stayed open; expected a close".into()
            })?;
        }
        AfterLast::Either => {}
    }
    Ok(())
}

fn compare_echo(response: &Response, expected: &Value) -> Outcome {
    let actual: Value = serde_json::from_slice(&response.body).map_err(|e| {
        format!(
            "the echo is not JSON ({e}): {:?}",
            truncate(&response.text())
        )
    })?;
    let Some(expected) = expected.as_object() else {
        return Ok(());
    };
    for (key, want) in expected {
        let got = &actual[key];
        let same = match (key.as_str(), want, got) {
            ("headers", Value::Object(want), Value::Object(got)) => {
                want.iter().all(|(k, v)| got.get(k) == Some(v))
            }
            (_, Value::Number(n), Value::String(s)) => n.to_string() == *s,
            _ => want == got,
        };
        ensure(same, || format!("echo {key} is {got}, expected {want}"))?;
    }
    Ok(())
}

macro_rules! corpus_checks {
    ($($name:ident => $group:literal, $index:literal;)*) => {
        $(
            fn $name(target: &Target) -> Outcome {
                run_group(target, $group)
            }
        )*
        /// The request checks: rejection shape, then one check per corpus group.
        pub const CHECKS: &[Check] = &[
            Check {
                name: "rejections_are_short_plain_and_close",
                rules: &["REQ-1", "REQ-2", "REQ-16", "FRAME-17"],
                run: rejections_are_short_plain_and_close,
            },
            $(
                Check {
                    name: stringify!($name),
                    rules: CORPUS_GROUPS[$index].1,
                    run: $name,
                },
            )*
            Check {
                name: "corpus_version_higher_minor",
                rules: CORPUS_CASES_APART[0].1,
                run: corpus_version_higher_minor,
            },
        ];
    };
}

/// `version/003-higher-minor`, judged apart from the `version` group
/// ([`CORPUS_CASES_APART`]).
fn corpus_version_higher_minor(target: &Target) -> Outcome {
    run_one(target, CORPUS_CASES_APART[0].0)
}

corpus_checks! {
    corpus_request_line => "request-line", 0;
    corpus_headers => "headers", 1;
    corpus_host => "host", 2;
    corpus_content_length => "content-length", 3;
    corpus_transfer_encoding => "transfer-encoding", 4;
    corpus_smuggling => "smuggling", 5;
    corpus_chunked => "chunked", 6;
    corpus_target => "target", 7;
    corpus_version => "version", 8;
    corpus_limits => "limits", 9;
    corpus_pipelining => "pipelining", 10;
    corpus_keep_alive => "keep-alive", 11;
    corpus_valid => "valid", 12;
}
