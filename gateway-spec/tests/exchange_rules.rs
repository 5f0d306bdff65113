//! Rules of `server::run` that only show in-process: what the legacy write handle and
//! `start_response` answer once the response is cut, finished or the client gone.

use std::io::{self, Write as _};
use std::sync::{Arc, Mutex};

use gateway_spec::exchange::{run, Failure, MemoryOutput, Output};
use gateway_spec::framing::Framing;
use gateway_spec::{AppError, Body, Environ, ResponseHead, StartResponse, StartResponseError};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

fn environ() -> Environ {
    Environ::new(Method::GET, "/").unwrap()
}

#[test]
fn write_beyond_content_length_is_cut_and_refused() {
    let result = Arc::new(Mutex::new(None));
    let seen = result.clone();
    let app = move |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("4"));
        let mut write = start.call(StatusCode::OK, headers)?;
        *seen.lock().unwrap() = Some(write.write(b"toolong").map_err(|e| e.to_string()));
        Ok(Body::empty())
    };
    let (output, outcome) = run(&app, environ(), MemoryOutput::default());
    assert_eq!(output.body, b"tool");
    assert!(outcome.must_close);
    let write_result = result.lock().unwrap().clone().unwrap();
    assert!(write_result
        .unwrap_err()
        .contains("beyond the Content-Length"));
}

#[test]
fn calls_after_the_response_finished_are_refused() {
    let kept = Arc::new(Mutex::new(None));
    let keep = kept.clone();
    let app = move |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        *keep.lock().unwrap() = Some(start);
        Ok(Body::from("done"))
    };
    let (output, outcome) = run(&app, environ(), MemoryOutput::default());
    assert_eq!(outcome.failure, None);
    assert_eq!(output.body, b"done");
    let start = kept.lock().unwrap().take().expect("the app ran");
    let error = io::Error::other("late");
    assert_eq!(
        start
            .call_with_error(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), &error)
            .unwrap_err(),
        StartResponseError::ResponseFinished
    );
    assert!(start.write_handle().write(b"late").is_err());
}

#[test]
fn write_after_the_app_returned_is_refused() {
    let app = |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut write = start.call(StatusCode::OK, HeaderMap::new())?;
        let mut once = true;
        Ok(Body::try_from_chunks(std::iter::from_fn(move || {
            if !std::mem::take(&mut once) {
                return None;
            }
            Some(match write.write_all(b"late") {
                Ok(()) => Ok("write accepted".to_owned()),
                Err(e) => Ok(e.to_string()),
            })
        })))
    };
    let (output, outcome) = run(&app, environ(), MemoryOutput::default());
    assert!(String::from_utf8_lossy(&output.body).contains("write handle is closed"));
    assert_eq!(outcome.failure, None);
}

/// An output whose client is gone: every send fails.
struct GoneClient;

impl Output for GoneClient {
    fn send_head(&mut self, _: &ResponseHead, _: Framing, _: bool) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn send_body(&mut self, _: &[u8]) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn finish(&mut self, _: Framing) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn write_to_a_gone_client_returns_an_error() {
    // The write's result is carried out of the app: an assertion inside it would be
    // a panic the exchange catches, with the same outcome either way.
    let result = Arc::new(Mutex::new(None));
    let seen = result.clone();
    let app = move |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut write = start.call(StatusCode::OK, HeaderMap::new())?;
        *seen.lock().unwrap() = Some(write.write_all(b"anyone there?").map_err(|e| e.to_string()));
        Ok(Body::empty())
    };
    let (_, outcome) = run(&app, environ(), GoneClient);
    let write = result.lock().unwrap().take().expect("the app ran");
    assert!(write.unwrap_err().contains("went away"));
    assert!(matches!(outcome.failure, Some(Failure::ClientGone(_))));
    assert!(outcome.must_close);
    assert!(!outcome.complete);
}

#[test]
fn a_gone_client_stops_the_body_within_one_chunk_and_closes_it() {
    let pulled = Arc::new(Mutex::new(0));
    let closed = Arc::new(Mutex::new(false));
    let (p, c) = (pulled.clone(), closed.clone());
    let app = move |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        let p = p.clone();
        let c = c.clone();
        Ok(Body::try_from_chunks(std::iter::repeat_with(move || {
            *p.lock().unwrap() += 1;
            Ok::<_, AppError>("chunk")
        }))
        .on_close(move || *c.lock().unwrap() = true))
    };
    let (_, outcome) = run(&app, environ(), GoneClient);
    assert_eq!(*pulled.lock().unwrap(), 1);
    assert!(*closed.lock().unwrap());
    assert!(matches!(outcome.failure, Some(Failure::ClientGone(_))));
}

#[test]
fn an_error_response_is_framed_by_its_own_length_not_the_apps() {
    // The app declared 5 bytes, then failed before sending any: the 500 that
    // replaces its response announces the 500's own body.
    let app = |_: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("5"));
        start.call(StatusCode::OK, headers)?;
        Err("the database went away".into())
    };
    let (output, outcome) = run(&app, environ(), MemoryOutput::default());
    let (head, framing) = output.head.clone().expect("an error head was sent");
    assert_eq!(head.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(framing, Framing::Length(output.body.len() as u64));
    assert_eq!(
        head.headers["content-length"],
        output.body.len().to_string().as_str()
    );
    assert!(output.body.len() != 5, "{:?}", output.body);
    assert!(outcome.complete);
}
