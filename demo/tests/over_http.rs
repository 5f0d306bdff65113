//! The demo app on the reference server, driven by a real HTTP client: the upload
//! form posted as a browser would (multipart/form-data), and hello world.

use std::net::TcpListener;
use std::time::Duration;

use gateway_demo::DemoApp;
use reference_server::{Server, ServerHandle};

fn start(app: DemoApp) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    Server::from_listener(listener)
        .spawn(app)
        .expect("the server starts")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-demo-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn a_form_post_uploads_the_file_byte_for_byte() {
    let dir = temp_dir("form");
    let server = start(DemoApp::new(dir.clone(), 10 << 20));
    let base = format!("http://{}", server.local_addr());
    let client = client();

    let hello = client.get(format!("{base}/")).send().unwrap();
    assert_eq!(hello.text().unwrap(), "Hello, World!");
    let form = client
        .get(format!("{base}/upload"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(form.contains("enctype=\"multipart/form-data\""));

    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let part = reqwest::blocking::multipart::Part::bytes(content.clone())
        .file_name("data.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    let form = reqwest::blocking::multipart::Form::new()
        .text("comment", "a field before the file")
        .part("file", part);
    let response = client
        .post(format!("{base}/upload"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().unwrap(),
        r#"{"status":"ok","message":"file uploaded"}"#
    );
    assert_eq!(std::fs::read(dir.join("data.bin")).unwrap(), content);

    server.stop();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_upload_over_the_limit_is_refused_and_leaves_no_file() {
    let dir = temp_dir("limit");
    let server = start(DemoApp::new(dir.clone(), 1000));
    let part = reqwest::blocking::multipart::Part::bytes(vec![b'z'; 5000]).file_name("big.txt");
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let response = client()
        .post(format!("http://{}/upload", server.local_addr()))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(response.text().unwrap().contains("\"status\":\"error\""));
    assert!(!dir.join("big.txt").exists());
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}
