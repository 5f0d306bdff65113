//! The test client applies the framing rules a server applies: these tests pin each
//! one down (HEAD, 204/304, Content-Length, chunking, close on every path).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use gateway_spec::exchange::Failure;
use gateway_spec::framing::Framing;
use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::{AppError, Body, Environ, StartResponse, StartResponseError};
use http::{HeaderMap, HeaderValue, StatusCode, Version};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

fn text_app(
    status: StatusCode,
    body: &'static str,
) -> impl Fn(Environ, StartResponse) -> Result<Body, AppError> + Send + Sync {
    move |_, start| {
        start.call(status, headers(&[("content-type", "text/plain")]))?;
        Ok(Body::from(body))
    }
}

/// Asserts the exchange saw no failure: an app that failed after its bytes went out
/// would pass on the bytes alone.
fn ok(response: &TestResponse) {
    assert_eq!(response.outcome.failure, None, "body {:?}", response.text());
}

fn chunks(parts: &'static [&'static str]) -> Body {
    Body::try_from_chunks(parts.iter().map(|p| Ok(Bytes::from_static(p.as_bytes()))))
}

#[test]
fn head_sends_no_body_but_the_length_a_get_would_have() {
    let client = TestClient::new(text_app(StatusCode::OK, "Hello, World!"));
    let response = client.head("/").send();
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.is_empty());
    assert_eq!(response.framing, Framing::NoBody);
    assert_eq!(response.headers["content-length"], "13");
    assert!(response.is_complete());
    ok(&response);
}

#[test]
fn no_content_and_not_modified_carry_no_body() {
    for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
        let response = TestClient::new(text_app(status, "ignored")).get("/").send();
        assert_eq!(response.status, status);
        assert!(response.body.is_empty(), "{status}");
        assert_eq!(response.framing, Framing::NoBody);
        ok(&response);
    }
    let response = TestClient::new(text_app(StatusCode::NO_CONTENT, ""))
        .get("/")
        .send();
    assert!(response.headers.get("content-length").is_none());
    ok(&response);
}

#[test]
fn app_content_length_is_kept_and_honoured() {
    let app = |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, headers(&[("content-length", "5")]))?;
        Ok(chunks(&["he", "llo"]))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.headers["content-length"], "5");
    assert_eq!(response.framing, Framing::Length(5));
    assert_eq!(response.body, "hello");
    assert!(response.is_complete());
    assert!(!response.outcome.must_close);
    ok(&response);
}

#[test]
fn body_longer_than_content_length_is_cut_and_the_connection_closed() {
    let app = |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, headers(&[("content-length", "3")]))?;
        Ok(chunks(&["ab", "cdef"]))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.body, "abc");
    assert!(response.outcome.must_close);
}

#[test]
fn body_shorter_than_content_length_closes_the_connection() {
    let app = |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, headers(&[("content-length", "10")]))?;
        Ok(Body::from("short"))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.body, "short");
    assert!(!response.is_complete());
    assert!(response.outcome.must_close);
    assert!(
        matches!(response.outcome.failure, Some(Failure::Contract(ref m)) if m.contains("announced 10")),
        "{:?}",
        response.outcome.failure
    );
}

#[test]
fn unknown_length_is_chunked_on_http11_and_chunks_concatenate() {
    let app = |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(chunks(&["one ", "", "two ", "three"]))
    };
    let client = TestClient::new(app);
    let response = client.get("/").send();
    assert_eq!(response.framing, Framing::Chunked);
    assert_eq!(response.headers["transfer-encoding"], "chunked");
    assert_eq!(response.body, "one two three");
    ok(&response);
    let response = client.get("/").version(Version::HTTP_10).send();
    assert_eq!(response.framing, Framing::CloseDelimited);
    assert_eq!(response.headers["connection"], "close");
    assert!(response.outcome.must_close);
    assert_eq!(response.body, "one two three");
    ok(&response);
}

#[test]
fn known_length_body_gets_a_content_length() {
    let response = TestClient::new(text_app(StatusCode::OK, "four"))
        .get("/")
        .send();
    assert_eq!(response.headers["content-length"], "4");
    assert_eq!(response.framing, Framing::Length(4));
    assert_eq!(response.body, "four");
    ok(&response);
}

fn counting_app(
    closes: Arc<AtomicUsize>,
    mode: &'static str,
) -> impl Fn(Environ, StartResponse) -> Result<Body, AppError> + Send + Sync {
    move |_, start| {
        let closes = closes.clone();
        let on_close = move || {
            closes.fetch_add(1, Ordering::SeqCst);
        };
        match mode {
            "error-before-body" => {
                let body = Body::from("x").on_close(on_close);
                drop(body);
                Err("refused".into())
            }
            _ => {
                start.call(StatusCode::OK, HeaderMap::new())?;
                let mut step = 0;
                Ok(Body::try_from_chunks(std::iter::from_fn(move || {
                    step += 1;
                    match (mode, step) {
                        (_, 1) => Some(Ok(Bytes::from("first"))),
                        ("panic", 2) => panic!("body failed mid-stream"),
                        ("error", 2) => Some(Err("body failed".into())),
                        _ => None,
                    }
                }))
                .on_close(on_close))
            }
        }
    }
}

#[test]
fn close_runs_once_on_every_path_including_panics() {
    for mode in ["normal", "panic", "error", "error-before-body"] {
        let closes = Arc::new(AtomicUsize::new(0));
        let response = TestClient::new(counting_app(closes.clone(), mode))
            .get("/")
            .send();
        assert_eq!(closes.load(Ordering::SeqCst), 1, "mode {mode}");
        let failure = &response.outcome.failure;
        match mode {
            "normal" => {
                assert!(response.is_complete());
                assert_eq!(response.body, "first");
                ok(&response);
            }
            "error-before-body" => {
                assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
                assert!(matches!(failure, Some(Failure::AppError(_))), "{failure:?}");
            }
            "panic" | "error" => {
                // The headers went out with "first": the response is aborted.
                assert_eq!(response.status, StatusCode::OK);
                assert!(!response.is_complete(), "mode {mode}");
                assert!(response.outcome.must_close);
                let expected = match mode {
                    "panic" => matches!(failure, Some(Failure::Panic(_))),
                    _ => matches!(failure, Some(Failure::AppError(_))),
                };
                assert!(expected, "mode {mode}: {failure:?}");
            }
            other => panic!("no expectation for mode {other}"),
        }
    }
}

#[test]
fn panic_before_headers_yields_500_and_a_usable_connection() {
    let app = |_: Environ, _: StartResponse| -> Result<Body, AppError> { panic!("boom") };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.is_complete());
    assert!(!response.outcome.must_close);
    assert!(matches!(response.outcome.failure, Some(Failure::Panic(ref m)) if m == "boom"));
}

#[test]
fn panic_after_start_response_but_before_body_still_yields_500() {
    let app = |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        panic!("late but before any byte")
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        matches!(response.outcome.failure, Some(Failure::Panic(ref m)) if m == "late but before any byte"),
        "{:?}",
        response.outcome.failure
    );
}

#[test]
fn start_response_in_the_first_iteration_is_honoured() {
    let app = |_: Environ, start: StartResponse| {
        let mut started = false;
        Ok(Body::try_from_chunks(std::iter::from_fn(move || {
            if started {
                return None;
            }
            started = true;
            if let Err(e) = start.call(StatusCode::ACCEPTED, HeaderMap::new()) {
                return Some(Err(e.into()));
            }
            Some(Ok(Bytes::from("lazy")))
        })))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::ACCEPTED);
    assert_eq!(response.body, "lazy");
    ok(&response);
}

#[test]
fn start_response_again_with_error_replaces_the_head_before_any_body() {
    let app = |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, headers(&[("x-first", "1")]))?;
        let error = std::io::Error::other("lookup failed");
        start.call_with_error(StatusCode::SERVICE_UNAVAILABLE, HeaderMap::new(), &error)?;
        Ok(Body::from("try later"))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers.get("x-first").is_none());
    assert_eq!(response.body, "try later");
    ok(&response);
}

#[test]
fn start_response_after_headers_went_out_is_refused() {
    // The app's view is carried out and judged here: a panic inside the app would be
    // caught by the exchange and prove nothing.
    let refusals = Arc::new(Mutex::new(None));
    let seen = refusals.clone();
    let app = move |_: Environ, start: StartResponse| {
        use std::io::Write;
        let mut write = start.call(StatusCode::OK, HeaderMap::new())?;
        write.write_all(b"sent")?;
        let error = std::io::Error::other("too late");
        let again =
            start.call_with_error(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), &error);
        let plain = start.call(StatusCode::OK, HeaderMap::new());
        *seen.lock().unwrap() = Some((again.err(), plain.err()));
        Ok(Body::empty())
    };
    let response = TestClient::new(app).get("/").send();
    let (again, plain) = refusals.lock().unwrap().take().expect("the app ran");
    assert_eq!(again, Some(StartResponseError::HeadersSent));
    assert_eq!(plain, Some(StartResponseError::AlreadyStarted));
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "sent");
    assert_eq!(response.framing, Framing::Chunked);
    assert!(response.is_complete());
    assert_eq!(response.outcome.failure, None);
}

#[test]
fn legacy_write_before_the_body_comes_first() {
    let app = |_: Environ, start: StartResponse| {
        use std::io::Write;
        let mut write = start.call(StatusCode::OK, headers(&[("content-type", "text/plain")]))?;
        write.write_all(b"written ")?;
        Ok(Body::from("returned"))
    };
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.body, "written returned");
    ok(&response);
}

#[test]
fn app_that_never_calls_start_response_gets_500() {
    let app = |_: Environ, _: StartResponse| Ok(Body::from("orphan bytes"));
    let response = TestClient::new(app).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(matches!(
        response.outcome.failure,
        Some(Failure::Contract(_))
    ));
}

#[test]
fn hop_by_hop_header_is_refused_by_start_response() {
    let refusal = Arc::new(Mutex::new(None));
    let seen = refusal.clone();
    let app = move |_: Environ, start: StartResponse| {
        let refused = start.call(StatusCode::OK, headers(&[("transfer-encoding", "chunked")]));
        *seen.lock().unwrap() = Some(refused.err());
        Err("hop-by-hop refused".into())
    };
    let response = TestClient::new(app).get("/").send();
    let refused = refusal.lock().unwrap().take().expect("the app ran");
    assert!(
        matches!(refused, Some(StartResponseError::HopByHopHeader(ref name)) if name == "transfer-encoding"),
        "start_response answered {refused:?}"
    );
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers.get("transfer-encoding").is_none());
}

#[test]
fn request_side_environ_is_well_formed() {
    let app = |mut environ: Environ, start: StartResponse| {
        use std::io::Read;
        let mut body = Vec::new();
        environ.input.read_to_end(&mut body)?;
        let summary = format!(
            "{} {} {} {:?} {}",
            environ.var("SERVER_NAME").unwrap(),
            environ.var("SERVER_PORT").unwrap(),
            environ.var("CONTENT_LENGTH").unwrap_or_default(),
            environ.var("HTTP_TRANSFER_ENCODING"),
            String::from_utf8_lossy(&body),
        );
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::from(summary))
    };
    let client = TestClient::new(app);
    let response = client
        .post("/")
        .header("host", "example.test:8080")
        .body("abc")
        .send();
    assert_eq!(response.text(), "example.test 8080 3 None abc");
    ok(&response);
    let response = client.post("/").chunked().body("xyz").send();
    assert_eq!(response.text(), "localhost 80  Some(\"chunked\") xyz");
    ok(&response);
}

#[test]
fn response_converts_to_an_http_response() {
    let response = TestClient::new(text_app(StatusCode::CREATED, "made"))
        .get("/")
        .send();
    ok(&response);
    let http = response.into_http();
    assert_eq!(http.status(), StatusCode::CREATED);
    assert_eq!(http.headers()["content-type"], "text/plain");
    assert_eq!(http.body(), "made");
}
