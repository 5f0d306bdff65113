//! Every validator check, provoked once by a misbehaving app or server, and a correct
//! app that passes them all: each check can fail, and none fires without cause.

use std::io::Write as _;

use bytes::Bytes;
use gateway_spec::exchange::{run, MemoryOutput, Outcome};
use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::validate::{rules, Side, Validator};
use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};

type TestApp = fn(Environ, StartResponse) -> Result<Body, AppError>;

fn plain() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    headers
}

fn with(name: &'static str, value: &'static str) -> HeaderMap {
    let mut headers = plain();
    headers.append(name, HeaderValue::from_static(value));
    headers
}

/// Runs `app` under the validator through the test client; returns the rules broken.
fn app_violations(app: impl App) -> Vec<&'static str> {
    let validator = Validator::new(app);
    let report = validator.report();
    let response = TestClient::new(validator).get("/").send();
    drop(response);
    report.check_bodies_closed();
    report.rules()
}

/// Asserts the exchange saw no failure: an app that failed after its bytes went out
/// would pass on the bytes alone.
fn ok(response: &TestResponse) {
    assert_eq!(response.outcome.failure, None, "body {:?}", response.text());
}

fn chunk(text: &'static str) -> Result<Bytes, AppError> {
    Ok(Bytes::from_static(text.as_bytes()))
}

const APP_CASES: &[(&str, TestApp)] = &[
    (rules::HOP_BY_HOP, |_, start| {
        let _ = start.call(StatusCode::OK, with("connection", "keep-alive"));
        start.call(StatusCode::OK, plain())?;
        Ok(Body::from("x"))
    }),
    (rules::STATUS_RANGE, |_, start| {
        let _ = start.call(StatusCode::CONTINUE, plain());
        Ok(Body::empty())
    }),
    (rules::REASON_PHRASE, |_, start| {
        let _ = start.call_with_reason(StatusCode::OK, "OK\r\nX-Evil: 1", plain());
        Ok(Body::empty())
    }),
    (rules::CONTENT_LENGTH_SYNTAX, |_, start| {
        let _ = start.call(StatusCode::OK, with("content-length", "0x10"));
        Ok(Body::empty())
    }),
    (rules::HEADER_WHITESPACE, |_, start| {
        start.call(StatusCode::OK, with("x-padded", " value"))?;
        Ok(Body::from("x"))
    }),
    (rules::CONTENT_TYPE_PRESENT, |_, start| {
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from("untyped"))
    }),
    (rules::SECOND_CALL, |_, start| {
        start.call(StatusCode::OK, plain())?;
        let _ = start.call(StatusCode::NOT_FOUND, plain());
        Ok(Body::from("x"))
    }),
    (rules::ERROR_AFTER_HEADERS, |_, start| {
        let mut write = start.call(StatusCode::OK, plain())?;
        write.write_all(b"committed")?;
        let error = std::io::Error::other("late failure");
        let _ignored = start.call_with_error(StatusCode::INTERNAL_SERVER_ERROR, plain(), &error);
        Ok(Body::empty())
    }),
    (rules::START_BEFORE_BODY, |_, _| {
        Ok(Body::from("no start_response"))
    }),
    (rules::WRITE_AFTER_RETURN, |_, start| {
        let mut write = start.call(StatusCode::OK, plain())?;
        let mut done = false;
        Ok(Body::try_from_chunks(std::iter::from_fn(move || {
            if done {
                return None;
            }
            done = true;
            let _ = write.write_all(b"late write");
            Some(chunk("body"))
        })))
    }),
    (rules::NO_BODY_STATUS, |_, start| {
        start.call(StatusCode::NOT_MODIFIED, plain())?;
        Ok(Body::from("should be empty"))
    }),
    (rules::NO_BODY_STATUS, |_, start| {
        start.call(StatusCode::NO_CONTENT, plain())?;
        Ok(Body::empty())
    }),
    (rules::BODY_MATCHES_CONTENT_LENGTH, |_, start| {
        start.call(StatusCode::OK, with("content-length", "10"))?;
        Ok(Body::try_from_chunks([chunk("four")]))
    }),
    (rules::BODY_MATCHES_CONTENT_LENGTH, |_, start| {
        start.call(StatusCode::OK, with("content-length", "2"))?;
        Ok(Body::try_from_chunks([chunk("four")]))
    }),
    (rules::BODY_MATCHES_LEN, |_, start| {
        start.call(StatusCode::OK, plain())?;
        Ok(Body::try_from_chunks([chunk("four")]).with_len(9))
    }),
    (rules::LENGTHS_AGREE, |_, start| {
        start.call(StatusCode::OK, with("content-length", "4"))?;
        Ok(Body::try_from_chunks([chunk("four")]).with_len(5))
    }),
];

#[test]
fn each_app_side_check_fires_on_its_violation() {
    for (rule, app) in APP_CASES {
        let found = app_violations(*app);
        assert!(found.contains(rule), "expected {rule}, got {found:?}");
    }
}

#[test]
fn every_validator_rule_has_a_provoking_case() {
    let server_rules: Vec<&str> = server_cases().into_iter().map(|(rule, _)| rule).collect();
    for rule in rules::ALL {
        // BODY_CLOSED: a_body_the_server_never_closes_is_reported.
        let provoked = APP_CASES.iter().any(|(r, _)| *r == rule)
            || server_rules.contains(&rule)
            || rule == rules::BODY_CLOSED;
        assert!(
            provoked,
            "validator rule {rule} has no test that provokes it"
        );
    }
}

/// A correct app that uses every feature: lazy start, legacy write, Content-Length,
/// 204, reading the input.
fn correct_app(mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    use std::io::Read;
    let mut input = Vec::new();
    environ.input.read_to_end(&mut input)?;
    match environ.path_info.as_slice() {
        b"/write" => {
            let mut write = start.call(StatusCode::OK, with("content-length", "11"))?;
            write.write_all(b"hello ")?;
            Ok(Body::from("world"))
        }
        b"/empty" => {
            start.call(StatusCode::NO_CONTENT, HeaderMap::new())?;
            Ok(Body::empty())
        }
        b"/lazy" => {
            let mut first = true;
            Ok(Body::try_from_chunks(std::iter::from_fn(move || {
                if !first {
                    return None;
                }
                first = false;
                if let Err(e) = start.call(StatusCode::OK, plain()) {
                    return Some(Err(e.into()));
                }
                Some(chunk("lazy"))
            })))
        }
        b"/recover" => {
            start.call(StatusCode::OK, plain())?;
            let error = std::io::Error::other("changed my mind");
            start.call_with_error(StatusCode::SERVICE_UNAVAILABLE, plain(), &error)?;
            Ok(Body::from("later"))
        }
        _ => {
            start.call(StatusCode::OK, plain())?;
            Ok(Body::from(input))
        }
    }
}

#[test]
fn a_correct_app_passes_every_check() {
    let validator = Validator::new(correct_app);
    let report = validator.report();
    let client = TestClient::new(validator);
    for (path, status, body) in [
        ("/", StatusCode::OK, "payload"),
        ("/write", StatusCode::OK, "hello world"),
        ("/empty", StatusCode::NO_CONTENT, ""),
        ("/lazy", StatusCode::OK, "lazy"),
        ("/recover", StatusCode::SERVICE_UNAVAILABLE, "later"),
    ] {
        let response = client.post(path).body("payload").send();
        assert_eq!(
            (response.status, response.text()),
            (status, body.into()),
            "{path}"
        );
        assert!(response.is_complete(), "{path}");
        ok(&response);
    }
    let head = client.head("/write").send();
    assert_eq!(head.headers["content-length"], "11");
    assert!(head.body.is_empty());
    ok(&head);
    let old = client.get("/").version(Version::HTTP_10).send();
    assert_eq!(old.status, StatusCode::OK);
    ok(&old);
    assert!(report.is_clean(), "{:?}", report.violations());
}

#[test]
fn violations_go_to_the_errors_stream_with_their_rule() {
    let response = TestClient::new(Validator::new(|_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from("untyped"))
    }))
    .get("/")
    .send();
    assert!(
        response.errors.contains("[START-8] app:"),
        "{}",
        response.errors
    );
    // The validator reports; it does not change the exchange.
    assert_eq!(response.body, "untyped");
    ok(&response);
}

fn hello(_: Environ, start: StartResponse) -> Result<Body, AppError> {
    start.call(StatusCode::OK, plain())?;
    Ok(Body::from("hi"))
}

/// How a broken server spoils an environ.
type Breakage = Box<dyn FnOnce(&mut Environ)>;

/// Runs the validator with an environ a broken server built; returns the rules
/// broken and how the exchange ended.
fn server_run(broken: impl FnOnce(&mut Environ)) -> (Vec<(&'static str, Side)>, Outcome) {
    let validator = Validator::new(hello as TestApp);
    let report = validator.report();
    let mut environ = Environ::new(Method::GET, "/x").unwrap();
    environ.errors = gateway_spec::ErrorStream::new(std::io::sink());
    broken(&mut environ);
    let (_, outcome) = run(&validator, environ, MemoryOutput::default());
    let violations = report
        .violations()
        .into_iter()
        .map(|v| (v.rule, v.side))
        .collect();
    (violations, outcome)
}

#[test]
fn each_server_side_check_fires_on_a_broken_environ() {
    for (rule, broken) in server_cases() {
        let (found, _) = server_run(broken);
        assert!(
            found.contains(&(rule, Side::Server)),
            "expected {rule}, got {found:?}"
        );
    }
}

/// One broken environ per server-side check.
fn server_cases() -> Vec<(&'static str, Breakage)> {
    vec![
        (
            rules::SCRIPT_NAME_FORM,
            Box::new(|e| e.script_name = b"/".to_vec()),
        ),
        (
            rules::SCRIPT_NAME_FORM,
            Box::new(|e| e.script_name = b"app".to_vec()),
        ),
        (
            rules::PATH_INFO_FORM,
            Box::new(|e| e.path_info = b"x".to_vec()),
        ),
        (rules::PATH_NOT_EMPTY, Box::new(|e| e.path_info.clear())),
        (rules::SERVER_NAME_SET, Box::new(|e| e.server_name.clear())),
        (
            rules::PROTOCOL_VERSION,
            Box::new(|e| e.version = Version::HTTP_2),
        ),
        (
            rules::CONTENT_LENGTH_AGREES,
            Box::new(|e| {
                e.content_length = Some(5);
                e.headers
                    .insert("content-length", HeaderValue::from_static("6"));
            }),
        ),
        (
            rules::NO_UNDERSCORE_HEADERS,
            Box::new(|e| {
                e.headers
                    .insert("x_forwarded_for", HeaderValue::from_static("1.2.3.4"));
            }),
        ),
    ]
}

#[test]
fn a_well_formed_environ_passes_the_server_checks() {
    let (found, outcome) = server_run(|e| {
        e.script_name = b"/app".to_vec();
        e.content_length = Some(0);
        e.headers
            .insert("content-length", HeaderValue::from_static("0"));
    });
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.status, Some(StatusCode::OK));
}

#[test]
fn a_body_the_server_never_closes_is_reported() {
    let validator = Validator::new(hello as TestApp);
    let report = validator.report();
    // A server that takes the body and leaks it, never closing it.
    let environ = Environ::new(Method::GET, "/").unwrap();
    let body = validator
        .call(
            environ,
            StartResponse::new(std::sync::Arc::new(NullResponder)),
        )
        .unwrap();
    std::mem::forget(body);
    report.check_bodies_closed();
    assert_eq!(report.rules(), vec![rules::BODY_CLOSED]);
    assert_eq!(report.violations()[0].side, Side::Server);
}

struct NullResponder;

impl gateway_spec::StartResponseSink for NullResponder {
    fn start(
        &self,
        _: gateway_spec::ResponseHead,
        _: Option<&(dyn std::error::Error + 'static)>,
    ) -> Result<(), gateway_spec::StartResponseError> {
        Ok(())
    }

    fn write(&self, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}
