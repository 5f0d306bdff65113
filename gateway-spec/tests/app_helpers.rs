//! The app author's helpers through the test client and the validator: response
//! shortcuts, header lists, `map_head`, `Body::from_chunks` and `collect`.

use std::sync::{Arc, Mutex};

use gateway_spec::framing::Framing;
use gateway_spec::map_head::map_head;
use gateway_spec::testing::TestClient;
use gateway_spec::validate::Validator;
use gateway_spec::{App, AppError, Body, Environ, HeaderError, StartResponse, StartResponseError};
use http::{HeaderValue, StatusCode};

/// Runs `app` behind the validator for one GET of `/`, asserting a clean report.
fn get_validated(app: impl App) -> gateway_spec::testing::TestResponse {
    let validator = Validator::new(app);
    let report = validator.report();
    let response = TestClient::new(validator).get("/").send();
    assert!(report.is_clean(), "{:?}", report.violations());
    response
}

#[test]
fn each_shortcut_sets_its_status_type_and_length() {
    type Shortcut = fn(&StartResponse) -> Result<Body, StartResponseError>;
    let cases: [(Shortcut, StatusCode, &str, &str); 5] = [
        (
            |s| s.text(StatusCode::OK, "hi"),
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "hi",
        ),
        (
            |s| s.html(StatusCode::ACCEPTED, "<b>"),
            StatusCode::ACCEPTED,
            "text/html; charset=utf-8",
            "<b>",
        ),
        (
            |s| s.json(StatusCode::CREATED, "{}"),
            StatusCode::CREATED,
            "application/json",
            "{}",
        ),
        (
            |s| s.reply(StatusCode::IM_A_TEAPOT, "text/csv", "a,b"),
            StatusCode::IM_A_TEAPOT,
            "text/csv",
            "a,b",
        ),
        (
            |s| s.redirect(StatusCode::FOUND, "/x"),
            StatusCode::FOUND,
            "text/plain; charset=utf-8",
            "See /x\n",
        ),
    ];
    for (shortcut, status, content_type, body) in cases {
        let app = move |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
            Ok(shortcut(&start_response)?)
        };
        let response = get_validated(app);
        assert_eq!(response.outcome.failure, None);
        assert_eq!(response.status, status);
        assert_eq!(response.headers["content-type"], content_type);
        assert_eq!(response.body, body);
        assert_eq!(response.framing, Framing::Length(body.len() as u64));
    }
}

#[test]
fn a_location_with_a_line_break_is_an_error_not_an_injected_header() {
    let seen: Arc<Mutex<Option<StartResponseError>>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = move |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        let result = start_response.redirect(StatusCode::FOUND, "/x\r\nSet-Cookie: a=1");
        let error = result.expect_err("the location holds CR LF");
        *record.lock().unwrap() = Some(error.clone());
        Err(error.into())
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!response.headers.contains_key("set-cookie"));
    assert_eq!(
        seen.lock().unwrap().take(),
        Some(StartResponseError::InvalidHeader(
            HeaderError::InvalidValue {
                name: "location".into()
            }
        ))
    );
}

#[test]
fn respond_still_refuses_hop_by_hop_headers() {
    let seen: Arc<Mutex<Option<StartResponseError>>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = move |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        let error = start_response
            .respond(StatusCode::OK, [("connection", "close")])
            .expect_err("connection belongs to the server");
        *record.lock().unwrap() = Some(error);
        Ok(start_response.text(StatusCode::OK, "fine")?)
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.outcome.failure, None);
    assert_eq!(response.body, "fine");
    assert!(matches!(
        seen.lock().unwrap().take(),
        Some(StartResponseError::HopByHopHeader(_))
    ));
}

#[test]
fn map_head_output_is_checked_like_any_head() {
    let inner = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        Ok(start_response.text(StatusCode::OK, "hi")?)
    };
    let app = map_head(inner, |head| {
        head.headers
            .insert("transfer-encoding", HeaderValue::from_static("chunked"));
    });
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.outcome.failure.is_some());
}

#[test]
fn map_head_passes_a_validator_and_sees_every_head() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&heads);
    let inner = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        Ok(start_response.json(StatusCode::OK, "[]")?)
    };
    let app = map_head(inner, move |head| {
        record.lock().unwrap().push(head.status);
        head.headers
            .insert("cache-control", HeaderValue::from_static("no-store"));
    });
    let response = get_validated(app);
    assert_eq!(response.outcome.failure, None);
    assert_eq!(response.headers["cache-control"], "no-store");
    assert_eq!(*heads.lock().unwrap(), [StatusCode::OK]);
}

#[test]
fn from_chunks_is_chunked_and_collect_has_a_length() {
    let lazy = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        start_response.respond(StatusCode::OK, [("content-type", "text/plain")])?;
        Ok(Body::from_chunks((1..=3).map(|n| format!("{n};"))))
    };
    let response = get_validated(lazy);
    assert_eq!(response.outcome.failure, None);
    assert_eq!(response.framing, Framing::Chunked);
    assert_eq!(response.body, "1;2;3;");

    let collected = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        start_response.respond(StatusCode::OK, [("content-type", "text/plain")])?;
        Ok((1..=3).map(|n| format!("{n};")).collect())
    };
    let response = get_validated(collected);
    assert_eq!(response.framing, Framing::Length(6));
    assert_eq!(response.body, "1;2;3;");
}

#[test]
fn a_failing_chunk_from_try_from_chunks_is_an_app_failure() {
    let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        start_response.respond(StatusCode::OK, ())?;
        let chunks: Vec<Result<&'static str, AppError>> = vec![Err("the source broke".into())];
        Ok(Body::try_from_chunks(chunks))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.outcome.failure.is_some());
}
