//! In-process tests of the bridge, one or more per PEP 3333 point, with the Python
//! apps of `tests/apps/pep3333.py`; wire-level behaviour is the conformance kit's.

use std::io::{self, BufReader, Read, Write};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use gateway_spec::exchange::{run, MemoryOutput, Output};
use gateway_spec::framing::Framing;
use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::{App, BodyError, ClientFault, Input, ResponseHead, StartResponse};
use gateway_wsgi::{attach_for_life, is_attached_for_life, AppTarget, WsgiApp, WsgiConfig};
use http::{HeaderValue, Method, StatusCode, Version};
use pyo3::prelude::*;
use serde_json::Value;

fn apps_dir() -> String {
    format!("{}/tests/apps", env!("CARGO_MANIFEST_DIR"))
}

/// An app of pep3333.py; the module is loaded once so that `probe` sees its STATE.
fn app(attr: &str) -> WsgiApp {
    static LOADED: OnceLock<()> = OnceLock::new();
    LOADED.get_or_init(|| {
        let target = AppTarget::parse(&format!("{}/pep3333.py:hello", apps_dir())).unwrap();
        WsgiApp::load(&target, WsgiConfig::default()).expect("pep3333.py loads");
    });
    let target = AppTarget::parse(&format!("pep3333:{attr}")).unwrap();
    WsgiApp::load(&target, WsgiConfig::default()).expect("the app loads")
}

fn validated(attr: &str) -> WsgiApp {
    app("hello");
    let target = AppTarget::parse(&format!("{}/validated.py:{attr}", apps_dir())).unwrap();
    WsgiApp::load(&target, WsgiConfig::default()).expect("validated.py loads")
}

fn json(response: &TestResponse) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} {}", response.status, response.text()))
}

fn probe(key: &str) -> Value {
    json(
        &TestClient::new(app("probe"))
            .get(&format!("/?key={key}"))
            .send(),
    )
}

fn send_environ(
    app: &WsgiApp,
    environ: gateway_spec::Environ,
) -> (MemoryOutput, gateway_spec::exchange::Outcome) {
    run(app, environ, MemoryOutput::default())
}

#[test]
fn environ_values_are_native_strings_and_every_wsgi_key_is_there() {
    let client = TestClient::new(app("environ_app"));
    let (mut environ, _) = client
        .get("/caf%C3%A9?q=1")
        .header("x-plain", "ascii")
        .remote_addr("127.0.0.1:4567".parse().unwrap())
        .environ();
    environ
        .headers
        .insert("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
    environ.version = Version::HTTP_10;
    let (output, outcome) = send_environ(client.app(), environ);
    assert_eq!(outcome.failure, None);
    let value: Value = serde_json::from_slice(&output.body).unwrap();
    let env = &value["environ"];
    let str_of = |k: &str| {
        env[k]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{k} missing: {env}"))
            .to_owned()
    };
    assert_eq!(str_of("PATH_INFO"), "/caf\u{c3}\u{a9}");
    assert_eq!(str_of("HTTP_X_LATIN"), "caf\u{e9}");
    assert_eq!(str_of("HTTP_X_PLAIN"), "ascii");
    assert_eq!(str_of("SERVER_PROTOCOL"), "HTTP/1.0");
    assert_eq!(str_of("QUERY_STRING"), "q=1");
    assert_eq!(str_of("REQUEST_METHOD"), "GET");
    assert_eq!(str_of("REMOTE_ADDR"), "127.0.0.1");
    assert_eq!(str_of("REMOTE_PORT"), "4567");
    assert_eq!(str_of("REQUEST_URI"), "/caf%C3%A9?q=1");
    assert_eq!(str_of("wsgi.url_scheme"), "http");
    for key in ["SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT"] {
        assert_eq!(env[key]["type"], "str", "{key}");
    }
    assert_eq!(env["wsgi.version"]["value"], "(1, 0)");
    for (key, expected) in [
        ("wsgi.multithread", "True"),
        ("wsgi.multiprocess", "False"),
        ("wsgi.run_once", "False"),
        ("wsgi.input_terminated", "True"),
    ] {
        assert_eq!(env[key]["value"], expected, "{key}");
    }
    assert_eq!(env["wsgi.input"]["type"], "Input");
    assert_eq!(env["wsgi.errors"]["type"], "Errors");
    assert_eq!(env["wsgi.file_wrapper"]["type"], "type");
    assert_eq!(value["key_types"], serde_json::json!(["str"]));
    // Nothing of os.environ (the app itself set HTTP_LEAKED_FROM_OS there).
    assert_eq!(value["leaked"], serde_json::json!([]));
    assert!(env.get("HTTP_LEAKED_FROM_OS").is_none());
}

fn input_ops(ops: &str, body: &'static str) -> Value {
    let client = TestClient::new(app("input_app"));
    json(&client.post(&format!("/?ops={ops}")).body(body).send())
}

#[test]
fn input_reads_share_one_buffer_in_every_form() {
    let body = "line1\nline2\nline3\n";
    assert_eq!(
        input_ops("readline,readline,read", body),
        serde_json::json!(["line1\n", "line2\n", "line3\n"])
    );
    assert_eq!(
        input_ops("read-3,readline,read-100,read", body),
        serde_json::json!(["lin", "e1\n", "line2\nline3\n", ""])
    );
    assert_eq!(
        input_ops("readline-3,readline-100", body),
        serde_json::json!(["lin", "e1\n"])
    );
    assert_eq!(
        input_ops("readlines", body),
        serde_json::json!([["line1\n", "line2\n", "line3\n"]])
    );
    assert_eq!(
        input_ops("readlines-7,read", body),
        serde_json::json!([["line1\n", "line2\n"], "line3\n"])
    );
    assert_eq!(
        input_ops("readline,iter", body),
        serde_json::json!(["line1\n", ["line2\n", "line3\n"]])
    );
    assert_eq!(
        input_ops("read,read,readline,readlines", body),
        serde_json::json!([body, "", "", []])
    );
}

#[test]
fn a_chunked_body_ends_without_content_length() {
    let client = TestClient::new(app("input_app"));
    let value = json(&client.post("/?ops=read").chunked().body("abc").send());
    assert_eq!(value, serde_json::json!(["abc"]));
}

#[test]
fn a_body_cut_short_raises_in_python() {
    let client = TestClient::new(app("input_app"));
    let cut = BodyError::new(ClientFault::Malformed, "the client closed mid-body");
    let response = client
        .post("/?ops=read")
        .chunked()
        .body("ab")
        .body_then_error(cut)
        .send();
    // The app caught the exception and answered; the exchange still blames the client.
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(json(&response), serde_json::json!(["raised OSError"]));
    assert_eq!(response.headers["connection"], "close");
}

/// A request body that arrives only when the test says so.
struct Gate(mpsc::Receiver<Vec<u8>>);

impl Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.recv() {
            Ok(data) => {
                buf[..data.len()].copy_from_slice(&data);
                Ok(data.len())
            }
            Err(_) => Ok(0),
        }
    }
}

#[test]
fn the_gil_is_released_while_a_read_waits_for_the_client() {
    let slow = app("slow_input_app");
    let (feed, gate) = mpsc::channel();
    let (mut environ, _) = TestClient::new(slow.clone()).post("/").chunked().environ();
    environ.input = Input::new(BufReader::new(Gate(gate)));
    let waiting = std::thread::spawn(move || send_environ(&slow, environ));
    // While that request's read blocks, another Python thread must run Python.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(TestClient::new(app("hello")).get("/").send().text());
    });
    let hello = finished.recv_timeout(Duration::from_secs(20));
    feed.send(b"late body".to_vec()).unwrap();
    drop(feed);
    assert_eq!(
        hello.as_deref(),
        Ok("Hello, World!"),
        "a blocked read held the GIL"
    );
    let (output, _) = waiting.join().unwrap();
    assert_eq!(output.body, b"late body");
}

#[test]
fn a_lazy_start_response_in_a_generator_is_honoured() {
    let response = TestClient::new(app("lazy_app")).get("/").send();
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.headers["x-lazy"], "yes");
    assert_eq!(response.body, "lazy body");
    assert_eq!(response.framing, Framing::Chunked);
}

#[test]
fn exc_info_replaces_the_head_before_it_went_out() {
    let response = TestClient::new(app("exc_before_app")).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.reason, "Oops");
    assert_eq!(response.body, "replaced");
    assert_eq!(response.outcome.failure, None);
}

#[test]
fn exc_info_after_the_head_re_raises_the_same_exception_and_aborts() {
    let response = TestClient::new(app("exc_after_app"))
        .get("/?key=exc_after")
        .send();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "first");
    assert!(!response.is_complete());
    assert!(response.outcome.must_close);
    assert_eq!(
        probe("exc_after"),
        serde_json::json!({"same": true, "has_tb": true})
    );
    assert!(
        response.errors.contains("ValueError: after the head"),
        "{}",
        response.errors
    );
}

#[test]
fn a_second_start_response_without_exc_info_raises() {
    let response = TestClient::new(app("twice_app")).get("/").send();
    assert_eq!(response.body, "raised RuntimeError");
}

#[test]
fn write_bytes_go_out_before_the_iterable() {
    let response = TestClient::new(app("write_app")).get("/").send();
    assert_eq!(response.body, "written then returned");
    assert_eq!(response.outcome.failure, None);
}

#[test]
fn bad_status_and_headers_are_refused_with_a_500() {
    let client = TestClient::new(app("bad_header_app"));
    for (kind, error) in [
        ("nonlatin", "ValueError"),
        ("crlf", "ValueError"),
        ("bytes", "TypeError"),
        ("tuple", "TypeError"),
        ("badstatus", "ValueError"),
    ] {
        let response = client.get(&format!("/?kind={kind}")).send();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR, "{kind}");
        assert!(
            response.errors.contains(error),
            "{kind}: {}",
            response.errors
        );
        assert!(response.headers.get("x-injected").is_none());
    }
    let response = client.get("/?kind=latin").send();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["x-latin"].as_bytes(), b"caf\xe9");
}

#[test]
fn a_one_element_list_gets_a_content_length_and_longer_ones_are_chunked() {
    let client = TestClient::new(app("list_app"));
    let one = client.get("/?n=1").send();
    assert_eq!(one.framing, Framing::Length(6));
    assert_eq!(one.headers["content-length"], "6");
    let three = client.get("/?n=3").send();
    assert_eq!(three.framing, Framing::Chunked);
    assert_eq!(three.body, "part0 part1 part2 ");
}

#[test]
fn an_empty_first_chunk_does_not_send_the_head() {
    let response = TestClient::new(app("empty_first_app")).get("/").send();
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body, "after an empty chunk");
}

#[test]
fn close_runs_exactly_once_at_a_normal_end_and_after_an_error() {
    let client = TestClient::new(app("closing_app"));
    let normal = client.get("/?key=close_normal").send();
    assert_eq!(
        normal.body,
        "a".repeat(10) + &"b".repeat(10) + &"c".repeat(10)
    );
    assert_eq!(probe("close_normal"), 1);
    let failed = client.get("/?key=close_error&fail_at=1").send();
    assert!(!failed.is_complete());
    assert!(
        failed.errors.contains("mid-body failure"),
        "{}",
        failed.errors
    );
    assert_eq!(probe("close_error"), 1);
    let before_head = client.get("/?key=close_error0&fail_at=0").send();
    assert_eq!(before_head.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(probe("close_error0"), 1);
}

/// An output whose client is gone once the head went out.
struct Gone;

impl Output for Gone {
    fn send_head(&mut self, _: &ResponseHead, _: Framing, _: bool) -> io::Result<()> {
        Ok(())
    }
    fn send_body(&mut self, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "client gone"))
    }
    fn finish(&mut self, _: Framing) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn close_runs_exactly_once_when_the_client_is_gone_or_the_body_is_dropped() {
    let closing = app("closing_app");
    let (environ, _) = TestClient::new(closing.clone())
        .get("/?key=close_gone")
        .environ();
    let (_, outcome) = run(&closing, environ, Gone);
    assert!(!outcome.complete);
    assert_eq!(probe("close_gone"), 1);
    // A server shutting down drops a body it never pulled.
    let (environ, _) = TestClient::new(closing.clone())
        .get("/?key=close_dropped")
        .environ();
    let sink = TestSink::shared();
    let body = closing.call(environ, StartResponse::new(sink)).unwrap();
    assert_eq!(probe("close_dropped"), 0);
    drop(body);
    assert_eq!(probe("close_dropped"), 1);
}

/// A start_response sink that accepts everything.
struct TestSink;

impl TestSink {
    fn shared() -> std::sync::Arc<dyn gateway_spec::StartResponseSink> {
        std::sync::Arc::new(TestSink)
    }
}

impl gateway_spec::StartResponseSink for TestSink {
    fn start(
        &self,
        _: ResponseHead,
        _: Option<&(dyn std::error::Error + 'static)>,
    ) -> Result<(), gateway_spec::StartResponseError> {
        Ok(())
    }
    fn write(&self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_python_exception_before_the_head_is_a_500_with_the_traceback_logged() {
    let response = TestClient::new(app("raise_app")).get("/").send();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.errors.contains("Traceback"), "{}", response.errors);
    assert!(
        response.errors.contains("ZeroDivisionError"),
        "{}",
        response.errors
    );
    assert!(matches!(
        response.outcome.failure,
        Some(gateway_spec::exchange::Failure::AppError(_))
    ));
}

#[test]
fn file_wrapper_over_a_real_file_takes_the_file_fast_path_and_is_closed() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    file.write_all(&data).unwrap();
    let path = file.path().display().to_string();
    let files = app("file_app");
    let (environ, _) = TestClient::new(files.clone())
        .get(&format!("/?key=fw_fast&path={path}&skip=10"))
        .environ();
    let sink = TestSink::shared();
    let mut body = files.call(environ, StartResponse::new(sink)).unwrap();
    assert!(body.is_file(), "{body:?}");
    assert_eq!(body.len(), Some(data.len() as u64 - 10));
    let mut sent = Vec::new();
    body.file_parts().unwrap().0.read_to_end(&mut sent).unwrap();
    assert_eq!(sent, data[10..]);
    body.close();
    let closed = TestClient::new(app("file_closed"))
        .get("/?key=fw_fast")
        .send();
    assert_eq!(json(&closed), Value::Bool(true));
    let whole = TestClient::new(files.clone())
        .get(&format!("/?key=fw_whole&path={path}"))
        .send();
    assert_eq!(whole.body, data);
    assert_eq!(whole.framing, Framing::Length(data.len() as u64));
}

#[test]
fn file_wrapper_over_a_bytesio_is_read_in_blocks_and_closed() {
    let response = TestClient::new(app("file_app"))
        .get("/?key=fw_bytesio&kind=bytesio")
        .send();
    assert_eq!(response.body, "from a BytesIO ".repeat(1000));
    assert_eq!(response.outcome.failure, None);
    let closed = TestClient::new(app("file_closed"))
        .get("/?key=fw_bytesio")
        .send();
    assert_eq!(json(&closed), Value::Bool(true));
}

#[test]
fn threading_local_survives_between_requests_on_one_python_thread() {
    app("hello");
    let target = AppTarget::parse("pep3333:local_app").unwrap();
    let config = WsgiConfig {
        threads: 1,
        ..WsgiConfig::default()
    };
    let client = TestClient::new(WsgiApp::load(&target, config).unwrap());
    let first = json(&client.get("/").send());
    let second = json(&client.get("/").send());
    assert_eq!(first["thread"], second["thread"]);
    assert_eq!(
        second["count"].as_i64(),
        first["count"].as_i64().map(|n| n + 1)
    );
}

/// `threading.get_ident()` of the calling thread, as Python sees it.
fn python_thread_ident() -> u64 {
    Python::attach(|py| {
        py.import("threading")
            .and_then(|t| t.call_method0("get_ident"))
            .and_then(|ident| ident.extract())
            .unwrap()
    })
}

#[test]
fn threading_local_survives_between_requests_on_a_thread_attached_for_life() {
    app("hello");
    let target = AppTarget::parse("pep3333:local_app").unwrap();
    let local = WsgiApp::load(&target, WsgiConfig::default()).unwrap();
    let (here, counts, threads) = std::thread::spawn(move || {
        attach_for_life(|| {
            assert!(is_attached_for_life());
            let client = TestClient::new(local);
            let answers: Vec<Value> = (0..3).map(|_| json(&client.get("/").send())).collect();
            let counts: Vec<i64> = answers
                .iter()
                .map(|a| a["count"].as_i64().unwrap())
                .collect();
            let threads: Vec<u64> = answers
                .iter()
                .map(|a| a["thread"].as_u64().unwrap())
                .collect();
            (python_thread_ident(), counts, threads)
        })
    })
    .join()
    .unwrap();
    assert!(!is_attached_for_life());
    // The app ran on the attached thread itself, not on a pool thread...
    assert_eq!(threads, vec![here; 3]);
    // ...with one thread state for the thread's life: its threading.local lived on.
    assert_eq!(counts, vec![1, 2, 3]);
}

#[test]
fn a_generator_started_on_one_attached_thread_goes_on_on_another_and_closes_once() {
    let stream = app("threaded_stream_app");
    let (environ, _) = TestClient::new(stream.clone())
        .get("/?key=hop&n=4")
        .environ();
    // The first thread lives on until the end, so that the second cannot reuse its
    // thread identifier.
    let (started, finished) = (mpsc::channel(), mpsc::channel::<()>());
    let first = {
        let stream = stream.clone();
        let (started, finished) = (started.0, finished.1);
        std::thread::spawn(move || {
            attach_for_life(move || {
                let body = stream.call(environ, StartResponse::new(TestSink::shared()));
                started
                    .send((python_thread_ident(), body.unwrap()))
                    .unwrap();
                let _ = finished.recv();
            })
        })
    };
    let (first_thread, body) = started.1.recv().unwrap();
    // The server parked the response; another worker resumes it.
    let (second_thread, chunks) = std::thread::spawn(move || {
        attach_for_life(|| {
            let mut body = body;
            let mut chunks = Vec::new();
            while let Some(chunk) = body.next_chunk() {
                chunks.extend_from_slice(&chunk.unwrap());
            }
            body.close();
            (python_thread_ident(), chunks)
        })
    })
    .join()
    .unwrap();
    drop(finished.0);
    first.join().unwrap();
    assert_eq!(chunks, b"chunk0 chunk1 chunk2 chunk3 ");
    let state = probe("hop");
    assert_eq!(state["closed"], 1);
    let threads: Vec<u64> = state["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect();
    assert_ne!(first_thread, second_thread);
    assert_eq!(
        threads,
        vec![first_thread, second_thread, second_thread, second_thread]
    );
}

#[test]
fn a_body_from_an_attached_thread_can_be_finished_on_a_thread_that_is_not() {
    let stream = app("threaded_stream_app");
    let (environ, _) = TestClient::new(stream.clone())
        .get("/?key=hop_out&n=3")
        .environ();
    let body = std::thread::spawn(move || {
        attach_for_life(|| {
            stream
                .call(environ, StartResponse::new(TestSink::shared()))
                .unwrap()
        })
    })
    .join()
    .unwrap();
    // As the supervisor cutting a slow client would: the pool takes over.
    let mut body = body;
    let mut chunks = Vec::new();
    while let Some(chunk) = body.next_chunk() {
        chunks.extend_from_slice(&chunk.unwrap());
    }
    drop(body);
    assert_eq!(chunks, b"chunk0 chunk1 chunk2 ");
    assert_eq!(probe("hop_out")["closed"], 1);
}

#[test]
fn buffer_chunked_gives_a_chunked_body_a_content_length() {
    app("hello");
    let target = AppTarget::parse("pep3333:environ_app").unwrap();
    let config = WsgiConfig {
        buffer_chunked: Some(8),
        ..WsgiConfig::default()
    };
    let client = TestClient::new(WsgiApp::load(&target, config).unwrap());
    let value = json(&client.post("/").chunked().body("12345").send());
    assert_eq!(value["environ"]["CONTENT_LENGTH"]["value"], "5");
    let too_big = client.post("/").chunked().body("123456789").send();
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn the_same_apps_under_wsgiref_validator_with_warnings_as_errors_raise_nothing() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"validated file body").unwrap();
    let path = file.path().display().to_string();
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("environ_app", "/".into(), None),
        ("lazy_app", "/".into(), Some("lazy body")),
        ("write_app", "/".into(), Some("written then returned")),
        ("list_app", "/?n=3".into(), Some("part0 part1 part2 ")),
        ("closing_app", "/?key=v_close".into(), None),
        (
            "file_app",
            format!("/?key=v_file&path={path}"),
            Some("validated file body"),
        ),
        ("hello", "/".into(), Some("Hello, World!")),
    ];
    for (attr, target, body) in cases {
        let response = TestClient::new(validated(attr)).get(&target).send();
        assert_eq!(
            response.outcome.failure, None,
            "{attr}: {}",
            response.errors
        );
        assert!(response.errors.is_empty(), "{attr}: {}", response.errors);
        assert!(
            response.status.as_u16() < 500,
            "{attr}: {}",
            response.status
        );
        if let Some(body) = body {
            assert_eq!(response.text(), body, "{attr}");
        }
    }
    let response = TestClient::new(validated("input_app"))
        .post("/")
        .body("one\ntwo\n")
        .send();
    assert_eq!(response.outcome.failure, None, "{}", response.errors);
    assert_eq!(response.body, "one\n|two\n");
    assert_eq!(probe("v_close"), 1);
    let head = TestClient::new(validated("hello"))
        .request(Method::HEAD, "/")
        .send();
    assert_eq!(head.outcome.failure, None, "{}", head.errors);
}
