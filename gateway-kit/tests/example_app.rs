//! The kit demo (`examples/kit_demo`) tested in-process with the test client and
//! over a socket on the reference server, behind the validator both times.

#[path = "../examples/kit_demo/app.rs"]
mod app;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::validate::{Report, Validator};
use http::StatusCode;
use serde_json::{json, Value};

fn static_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/kit_demo/static")
}

fn client() -> (TestClient<Validator<gateway_kit::Mount>>, Report) {
    let validator = Validator::new(app::app(&static_dir()).unwrap());
    let report = validator.report();
    (TestClient::new(validator), report)
}

/// The JSON body of a clean exchange with `status`.
fn json_of(response: &TestResponse, status: StatusCode) -> Value {
    assert_eq!(response.outcome.failure, None, "{}", response.text());
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.headers["content-type"], "application/json");
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn the_api_greets_lists_and_finds_items() {
    let (client, report) = client();
    let hello = client.get("/api/hello?name=Ada%20L.").send();
    assert_eq!(
        json_of(&hello, StatusCode::OK),
        json!({ "greeting": "Hello, Ada L.!" })
    );
    let items = json_of(&client.get("/api/items").send(), StatusCode::OK);
    assert_eq!(items.as_array().map(Vec::len), Some(3));
    let teapot = json_of(&client.get("/api/items/2").send(), StatusCode::OK);
    assert_eq!(teapot, json!({ "id": 2, "name": "teapot" }));
    for missing in [
        "/api/items/9",
        "/api/items/x",
        "/api/items/2/more",
        "/api/nothing",
        "/nope",
    ] {
        let error = json_of(&client.get(missing).send(), StatusCode::NOT_FOUND);
        assert!(error["error"].is_string(), "{missing}");
    }
    assert!(report.is_clean(), "{:?}", report.violations());
}

#[test]
fn the_echo_endpoint_reads_a_form_and_refuses_other_bodies() {
    let (client, report) = client();
    let echoed = client
        .post("/api/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=ada&lang=en+GB")
        .send();
    assert_eq!(
        json_of(&echoed, StatusCode::OK),
        json!({ "user": "ada", "lang": "en GB" })
    );
    let refused = client
        .post("/api/echo")
        .header("content-type", "text/plain")
        .body("hi")
        .send();
    let error = json_of(&refused, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().contains("urlencoded"));
    let too_big = "x=".to_owned() + &"a".repeat(app::MAX_FORM as usize);
    let refused = client
        .post("/api/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(too_big)
        .send();
    json_of(&refused, StatusCode::BAD_REQUEST);
    assert!(report.is_clean(), "{:?}", report.violations());
}

#[test]
fn the_static_folder_and_the_home_redirect() {
    let (client, report) = client();
    let index = client.get("/static/").send();
    assert_eq!(index.outcome.failure, None);
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.headers["content-type"], "text/html");
    assert!(index.text().contains("gateway-kit demo"));
    let css = client
        .get("/static/style.css")
        .header("range", "bytes=0-3")
        .send();
    assert_eq!(css.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(css.body, "body");
    let bare = client.get("/static").send();
    assert_eq!(bare.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(bare.headers["location"], "http://localhost/static/");
    let home = client.get("/").send();
    assert_eq!(home.status, StatusCode::FOUND);
    assert_eq!(home.headers["location"], "http://localhost/static/");
    assert_eq!(
        client.get("/static/../app.rs").send().status,
        StatusCode::NOT_FOUND
    );
    assert!(report.is_clean(), "{:?}", report.violations());
}

/// One request over a fresh connection; the reply's status line, headers and body.
fn exchange(addr: SocketAddr, request: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .expect("the server closes within 10 s");
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(reply[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        reply[split + 4..].to_vec(),
    )
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: demo.test\r\n{extra}Connection: close\r\n\r\n")
}

#[test]
fn the_demo_serves_over_a_socket_on_the_reference_server() {
    let validator = Arc::new(Validator::new(app::app(&static_dir()).unwrap()));
    let report = validator.report();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = reference_server::Server::from_listener(listener);
    let handle = server.spawn(Arc::clone(&validator)).unwrap();
    let addr = handle.local_addr();

    let (status, head, body) = exchange(addr, &get("/api/hello?name=Ada", ""));
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let greeting: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(greeting, json!({ "greeting": "Hello, Ada!" }));

    let (status, head, body) = exchange(addr, &get("/static/style.css", "Range: bytes=5-\r\n"));
    assert_eq!(status, 206, "{head}");
    let css = std::fs::read(static_dir().join("style.css")).unwrap();
    assert_eq!(body, css[5..]);
    let etag = head
        .lines()
        .find_map(|line| line.strip_prefix("etag: "))
        .expect("an etag")
        .to_owned();

    let (status, head, body) = exchange(
        addr,
        &get("/static/style.css", &format!("If-None-Match: {etag}\r\n")),
    );
    assert_eq!(status, 304, "{head}");
    assert!(body.is_empty());

    let head_request = "HEAD /static/ HTTP/1.1\r\nHost: demo.test\r\nConnection: close\r\n\r\n";
    let (status, head, body) = exchange(addr, head_request);
    assert_eq!(status, 200, "{head}");
    let index_len = std::fs::metadata(static_dir().join("index.html"))
        .unwrap()
        .len();
    assert!(
        head.contains(&format!("content-length: {index_len}")),
        "{head}"
    );
    assert!(body.is_empty());

    let (status, head, _) = exchange(addr, &get("/", ""));
    assert_eq!(status, 302);
    assert!(
        head.contains("location: http://demo.test/static/"),
        "{head}"
    );

    handle.stop();
    assert!(report.is_clean(), "{:?}", report.violations());
}
