//! FAIL-10 to FAIL-14 through the exchange and the test client: a body the client
//! broke is answered 400, 408 or 413 with a close, never 500, whatever the app did.

use std::io::Read;
use std::sync::{Arc, Mutex};

use gateway_spec::exchange::{run, Failure, MemoryOutput};
use gateway_spec::framing::Framing;
use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::validate::Validator;
use gateway_spec::{AppError, Body, BodyError, ClientFault, Environ, Input, StartResponse};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

/// Reads the whole body and propagates a read error, as most apps do.
fn read_all(mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    let mut body = Vec::new();
    environ.input.read_to_end(&mut body)?;
    start.call(StatusCode::OK, HeaderMap::new())?;
    Ok(Body::from(body))
}

fn post_failing<A: gateway_spec::App>(app: A, fault: ClientFault) -> TestResponse {
    TestClient::new(app)
        .post("/")
        .chunked()
        .body("partial")
        .body_then_error(BodyError::new(fault, format!("the client did {fault:?}")))
        .send()
}

fn assert_client_error(response: &TestResponse, status: StatusCode, fault: ClientFault) {
    assert_eq!(response.status, status, "body {:?}", response.text());
    assert_eq!(response.headers["connection"], "close");
    assert!(response.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        response.framing,
        Framing::Length(response.body.len() as u64)
    );
    assert_eq!(response.text(), format!("the client did {fault:?}\n"));
    assert!(response.is_complete());
    assert!(response.outcome.must_close);
    assert_eq!(
        response.outcome.client_error().map(BodyError::fault),
        Some(fault)
    );
}

#[test]
fn each_client_fault_gets_its_status_and_a_close() {
    for (fault, status) in [
        (ClientFault::Malformed, StatusCode::BAD_REQUEST),
        (ClientFault::CutShort, StatusCode::BAD_REQUEST),
        (ClientFault::TooSlow, StatusCode::REQUEST_TIMEOUT),
        (ClientFault::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let response = post_failing(read_all, fault);
        assert_client_error(&response, status, fault);
    }
}

#[test]
fn a_panic_or_a_missing_start_response_after_the_fault_is_the_clients_too() {
    let panics = |mut environ: Environ, _: StartResponse| -> Result<Body, AppError> {
        let mut body = Vec::new();
        environ
            .input
            .read_to_end(&mut body)
            .expect("the body reads");
        unreachable!("the read above fails");
    };
    let response = post_failing(panics, ClientFault::Malformed);
    assert_client_error(&response, StatusCode::BAD_REQUEST, ClientFault::Malformed);

    let never_starts = |mut environ: Environ, _: StartResponse| -> Result<Body, AppError> {
        let _ = environ.input.read_to_end(&mut Vec::new());
        Ok(Body::from("orphan bytes"))
    };
    let response = post_failing(never_starts, ClientFault::TooLarge);
    assert_client_error(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        ClientFault::TooLarge,
    );
}

#[test]
fn an_app_that_answers_the_fault_itself_keeps_its_answer_and_the_connection_closes() {
    let catches = |mut environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        let read = environ.input.read_to_end(&mut Vec::new());
        let mut headers = HeaderMap::new();
        headers.insert("x-caught", HeaderValue::from_static("yes"));
        start.call(StatusCode::UNPROCESSABLE_ENTITY, headers)?;
        Ok(Body::from(format!("caught: {}", read.is_err())))
    };
    let response = post_failing(catches, ClientFault::CutShort);
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers["x-caught"], "yes");
    assert_eq!(response.text(), "caught: true");
    assert_eq!(response.headers["connection"], "close");
    assert!(response.is_complete());
    assert!(response.outcome.must_close);
    assert_eq!(response.outcome.failure, None);
}

#[test]
fn a_fault_after_the_headers_went_out_aborts_the_response() {
    let streams = |environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        let mut input = environ.input;
        let mut first = true;
        Ok(Body::try_from_chunks(std::iter::from_fn(move || {
            if std::mem::take(&mut first) {
                return Some(Ok("started".into()));
            }
            let mut buf = [0; 64];
            match input.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => Some(Ok(bytes::Bytes::copy_from_slice(&buf[..n]))),
                Err(e) => Some(Err(e.into())),
            }
        })))
    };
    let response = post_failing(streams, ClientFault::TooSlow);
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.text().starts_with("started"));
    assert!(!response.is_complete());
    assert!(response.outcome.must_close);
    assert_eq!(
        response.outcome.client_error().map(BodyError::fault),
        Some(ClientFault::TooSlow)
    );
}

#[test]
fn a_read_error_that_is_not_the_clients_is_still_a_500() {
    struct DiskFull;
    impl Read for DiskFull {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the spool file is corrupt",
            ))
        }
    }
    let mut environ = Environ::new(Method::POST, "/").unwrap();
    environ.input = Input::new(std::io::BufReader::new(DiskFull));
    let (output, outcome) = run(&read_all, environ, MemoryOutput::default());
    let (head, _) = output.head.expect("a head went out");
    assert_eq!(head.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!output.close);
    assert!(matches!(outcome.failure, Some(Failure::AppError(_))));
}

#[test]
fn a_client_gone_before_its_answer_still_counts_as_a_client_error() {
    struct Gone;
    impl gateway_spec::exchange::Output for Gone {
        fn send_head(
            &mut self,
            _: &gateway_spec::ResponseHead,
            _: Framing,
            _: bool,
        ) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn send_body(&mut self, _: &[u8]) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn finish(&mut self, _: Framing) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }
    let (environ, _) = TestClient::new(read_all)
        .post("/")
        .body("abc")
        .body_then_error(BodyError::new(ClientFault::CutShort, "closed early"))
        .environ();
    let (_, outcome) = run(&read_all, environ, Gone);
    assert_eq!(outcome.status, Some(StatusCode::BAD_REQUEST));
    assert!(!outcome.complete);
    assert!(outcome.must_close);
    assert_eq!(
        outcome.client_error().map(BodyError::fault),
        Some(ClientFault::CutShort)
    );
}

#[test]
fn the_input_remembers_the_fault_the_app_swallowed() {
    let record = Arc::new(Mutex::new(None));
    let seen = record.clone();
    let swallows = move |mut environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        let error = environ.input.read_to_end(&mut Vec::new()).err();
        *seen.lock().unwrap() = Some((
            error.map(|e| e.kind()),
            environ.input.client_error().map(BodyError::fault),
        ));
        start.call(StatusCode::OK, HeaderMap::new())?;
        Ok(Body::empty())
    };
    let response = post_failing(swallows, ClientFault::Malformed);
    // The app answered for itself: its answer stands, with a close (FAIL-11).
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.outcome.failure, None);
    assert_eq!(response.headers["connection"], "close");
    let (kind, fault) = record.lock().unwrap().take().expect("the app ran");
    assert_eq!(kind, Some(std::io::ErrorKind::InvalidData));
    assert_eq!(fault, Some(ClientFault::Malformed));
}

/// Announces the request's Content-Length and streams the body back, ending quietly
/// at the first read error: an app that is correct as long as the client is.
fn mirror(environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    let declared = environ.content_length.unwrap_or(0);
    headers.insert("content-length", HeaderValue::from(declared));
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    start.call(StatusCode::OK, headers)?;
    let mut input = environ.input;
    Ok(Body::try_from_chunks(std::iter::from_fn(move || {
        let mut buf = [0; 4];
        match input.read(&mut buf) {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(Ok(bytes::Bytes::copy_from_slice(&buf[..n]))),
        }
    })))
}

fn declare_length(environ: &mut Environ, n: u64) {
    environ.content_length = Some(n);
    environ
        .headers
        .insert("content-length", HeaderValue::from(n));
}

#[test]
fn the_validator_blames_no_app_for_a_body_the_client_cut() {
    let validator = Validator::new(mirror);
    let report = validator.report();
    let client = TestClient::new(validator);
    // Content-Length 10, but only 5 octets arrive and the read fails.
    let (mut environ, _) = client
        .post("/")
        .body("12345")
        .body_then_error(BodyError::new(ClientFault::CutShort, "closed early"))
        .environ();
    declare_length(&mut environ, 10);
    let (_, outcome) = run(client.app(), environ, MemoryOutput::default());
    assert!(!outcome.complete);
    assert_eq!(
        outcome.client_error().map(BodyError::fault),
        Some(ClientFault::CutShort)
    );
    assert!(report.is_clean(), "violations: {:?}", report.violations());

    // The same short body without a client fault is the app's violation.
    let (mut environ, _) = client.post("/").body("12345").environ();
    declare_length(&mut environ, 10);
    let (_, outcome) = run(client.app(), environ, MemoryOutput::default());
    assert!(
        matches!(outcome.failure, Some(Failure::Contract(_))),
        "{:?}",
        outcome.failure
    );
    assert_eq!(report.rules(), ["APP-13"]);
}
