//! The built `gateway-serve` behind a real nginx: TCP and Unix upstreams, a
//! keep-alive pool, uploads through the proxy, a chunked body streamed through, and
//! nginx's X-Forwarded-* believed while a direct client's forgery is not.

#[path = "support/nginx.rs"]
mod nginx;
mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fixtures::raw_client::{exchange, Reader, Response};
use nginx::{Nginx, KEEPALIVE_PROXY, PROXY_HEADERS};
use support::{exe, Served};

/// The WSGI app that echoes the body, the client port and the body's framing.
fn echo_app() -> String {
    format!(
        "{}/tests/apps/echo_app.py:application",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The command on `bind` with `args`, its log on standard error.
fn served(bind: &str, args: &[&str]) -> Served {
    let mut command = Command::new(exe());
    command
        .args(["--bind", bind, "--log-level", "info"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    Served::from_command(command)
}

/// One location proxying everything to `upstream` over a keep-alive pool.
fn pooled_site(upstream: &str, extra: &str) -> String {
    format!(
        "        client_max_body_size 64m;
        location / {{
            proxy_pass http://{upstream};
{PROXY_HEADERS}
{KEEPALIVE_PROXY}
{extra}
        }}"
    )
}

fn get(addr: SocketAddr, target: &str) -> Response {
    exchange(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Bytes that differ from position to position, so a lost or moved block shows.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// Posts `data` as the file `name` of the upload form, through `addr`, with
/// timeouts that fit a large body; the response.
fn upload(addr: SocketAddr, name: &str, data: &[u8]) -> Response {
    let boundary = "----gatewayboundary7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut reader = Reader::new(stream);
    reader.send(head.as_bytes());
    reader.send(&body);
    reader.response("POST").expect("a response to the upload")
}

fn assert_saved(dir: &Path, name: &str, data: &[u8], response: &Response, nginx: &Nginx) {
    assert_eq!(
        response.status,
        200,
        "{}; nginx's error log:\n{}",
        response.text(),
        nginx.error_log()
    );
    assert_eq!(
        response.text(),
        r#"{"status":"ok","message":"file uploaded"}"#
    );
    let saved = std::fs::read(dir.join(name)).expect("the uploaded file is saved");
    assert_eq!(saved.len(), data.len(), "the saved file has every byte");
    assert!(saved == data, "the saved bytes are the bytes sent");
}

#[test]
fn a_tcp_upstream_and_a_unix_socket_upstream_both_serve_the_hello_page_through_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("app.sock");
    let tcp = served("127.0.0.1:0", &["--app", "hello"]);
    let _unix = served(&format!("unix:{}", socket.display()), &["--app", "hello"]);
    let upstreams = format!(
        "    upstream by_tcp {{ server {}; keepalive 8; }}
    upstream by_unix {{ server unix:{}; keepalive 8; }}",
        tcp.addr,
        socket.display()
    );
    let site = format!(
        "        location /tcp/ {{ proxy_pass http://by_tcp/; {PROXY_HEADERS} {KEEPALIVE_PROXY} }}
        location /unix/ {{ proxy_pass http://by_unix/; {PROXY_HEADERS} {KEEPALIVE_PROXY} }}"
    );
    let nginx = Nginx::start(&upstreams, &site);
    for (target, upstream) in [("/tcp/", tcp.addr.to_string()), ("/unix/", "unix:".into())] {
        let response = get(nginx.addr, target);
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "Hello, World!"),
            "{target}; nginx's error log:\n{}",
            nginx.error_log()
        );
        // nginx logs a request after its response went out: wait for the line.
        let deadline = std::time::Instant::now() + support::WAIT;
        let line = loop {
            let log = nginx.access_log();
            let line = log
                .lines()
                .find(|l| l.contains(&format!("GET {target} ")))
                .map(str::to_owned);
            match line {
                Some(line) => break line,
                None if std::time::Instant::now() > deadline => {
                    panic!("no access log line for {target}:\n{log}")
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        assert!(line.contains(&format!("up={upstream}")), "{line}");
    }
}

/// Sends `count` requests (each on its own client connection) to `target` and
/// returns how many different client ports the app saw.
fn upstream_ports(nginx: &Nginx, target: &str, count: usize) -> usize {
    let mut ports: Vec<String> = (0..count)
        .map(|_| {
            let response = get(nginx.addr, target);
            assert_eq!(response.status, 200, "{}", nginx.error_log());
            response
                .header("X-Echo-Remote-Port")
                .filter(|port| *port != "-")
                .expect("the app saw a client port")
                .to_owned()
        })
        .collect();
    ports.sort();
    ports.dedup();
    ports.len()
}

#[test]
fn a_keep_alive_upstream_pool_reuses_its_connections_where_the_default_opens_one_per_request() {
    // Trusting no proxy, the app sees nginx's own connection, not the client
    // X-Forwarded-For names: its port tells the upstream connections apart.
    let app = served(
        "127.0.0.1:0",
        &[
            "--wsgi",
            &echo_app(),
            "--processes",
            "1",
            "--forwarded-allow-ips",
            "",
        ],
    );
    let upstreams = format!(
        "    upstream pooled {{ server {0}; keepalive 8; }}
    upstream unpooled {{ server {0}; }}",
        app.addr
    );
    // nginx's default upstream is HTTP/1.0 with a close after each response: the
    // control that shows the count below can tell the two apart.
    let site = format!(
        "        location /pooled/ {{ proxy_pass http://pooled; {PROXY_HEADERS} {KEEPALIVE_PROXY} }}
        location /unpooled/ {{ proxy_pass http://unpooled; {PROXY_HEADERS} }}"
    );
    let nginx = Nginx::start(&upstreams, &site);
    let requests = 20;
    let unpooled = upstream_ports(&nginx, "/unpooled/", requests);
    assert_eq!(
        unpooled, requests,
        "without a pool every request has its own upstream connection"
    );
    let pooled = upstream_ports(&nginx, "/pooled/", requests);
    // One at a time through one nginx process: one connection serves them all;
    // two allows for a pooled connection the server closed in between.
    assert!(
        pooled <= 2,
        "{requests} requests through the pool used {pooled} upstream connections"
    );
}

/// The demo app saving uploads under a temp dir's `uploads`, behind nginx with a
/// keep-alive pool.
fn demo_behind_nginx() -> (tempfile::TempDir, Served, Nginx) {
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    let app = served(
        "127.0.0.1:0",
        &["--app", "demo", "--upload-dir", uploads.to_str().unwrap()],
    );
    let nginx = Nginx::start(
        &format!("    upstream app {{ server {}; keepalive 8; }}", app.addr),
        &pooled_site("app", ""),
    );
    (dir, app, nginx)
}

#[test]
fn the_upload_form_through_nginx_saves_the_file_byte_for_byte() {
    let (dir, _app, nginx) = demo_behind_nginx();
    let uploads = dir.path().join("uploads");
    let form = get(nginx.addr, "/upload");
    assert_eq!(form.status, 200);
    assert!(
        form.text().contains("multipart/form-data"),
        "{}",
        form.text()
    );
    let data = pattern(100_000);
    let response = upload(nginx.addr, "small.bin", &data);
    assert_saved(&uploads, "small.bin", &data, &response, &nginx);
}

#[test]
fn a_twenty_megabyte_upload_through_nginx_is_saved_byte_for_byte() {
    let (dir, _app, nginx) = demo_behind_nginx();
    let uploads = dir.path().join("uploads");
    let data = pattern(20 * 1024 * 1024);
    let response = upload(nginx.addr, "large.bin", &data);
    assert_saved(&uploads, "large.bin", &data, &response, &nginx);
}

#[test]
fn a_chunked_body_streamed_through_nginx_reaches_the_app_whole_and_still_chunked() {
    let app = served("127.0.0.1:0", &["--wsgi", &echo_app(), "--processes", "1"]);
    let nginx = Nginx::start(
        &format!("    upstream app {{ server {}; keepalive 8; }}", app.addr),
        &pooled_site("app", "            proxy_request_buffering off;"),
    );
    let data = pattern(300_000);
    let mut request =
        b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in data.chunks(7_000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let response = exchange(nginx.addr, &request);
    assert_eq!(response.status, 200, "{}", nginx.error_log());
    assert_eq!(
        response.header("X-Echo-Transfer-Encoding"),
        Some("chunked"),
        "nginx streamed the body on, chunked"
    );
    assert_eq!(response.header("X-Echo-Content-Length"), Some("-"));
    assert_eq!(response.body.len(), data.len(), "the app read every byte");
    assert!(response.body == data, "the app read the bytes sent");
}

#[test]
fn nginx_x_forwarded_headers_reach_the_environ_and_the_access_log_while_a_direct_clients_forgery_is_ignored(
) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("app.sock");
    let access = dir.path().join("access.log");
    // nginx reaches the app over the Unix socket (always trusted); the trusted TCP
    // range is one no test client is in, so a direct loopback client is not.
    let app = served(
        "127.0.0.1:0",
        &[
            "--bind",
            &format!("unix:{}", socket.display()),
            "--forwarded-allow-ips",
            "10.0.0.0/8",
            "--access-log",
            access.to_str().unwrap(),
            "--processes",
            "1",
            "--wsgi",
            &echo_app(),
        ],
    );
    let upstreams = format!(
        "    upstream app {{ server unix:{}; keepalive 8; }}",
        socket.display()
    );
    // As a TLS-terminating nginx would say it: the scheme is https.
    let site = "        location / {
            proxy_pass http://app;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }";
    let nginx = Nginx::start(&upstreams, site);
    let through = exchange(
        nginx.addr,
        b"GET /via-nginx HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        through.status,
        200,
        "nginx's error log:\n{}",
        nginx.error_log()
    );
    // Without X-Forwarded-For a Unix-socket peer has no address at all.
    assert_eq!(through.header("x-echo-remote-addr"), Some("127.0.0.1"));
    assert_eq!(through.header("x-echo-scheme"), Some("https"));
    assert_eq!(through.header("x-echo-host"), Some("shop.example"));
    assert_eq!(through.header("x-echo-forwarded-for"), Some("127.0.0.1"));

    let forged = exchange(
        app.addr,
        b"GET /direct HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 6.6.6.6\r\n\
          X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(forged.status, 200);
    assert_eq!(forged.header("x-echo-remote-addr"), Some("127.0.0.1"));
    assert_eq!(forged.header("x-echo-scheme"), Some("http"));
    assert_eq!(
        forged.header("x-echo-forwarded-for"),
        Some("-"),
        "the forgery is removed"
    );

    // The access log names the client the environ reported, for both.
    let deadline = std::time::Instant::now() + support::WAIT;
    let log = loop {
        let log = std::fs::read_to_string(&access).unwrap_or_default();
        if log.lines().count() >= 2 || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let line = |path: &str| {
        log.lines()
            .find(|l| l.contains(&format!("GET {path} ")))
            .unwrap_or_else(|| panic!("no line for {path}:\n{log}"))
            .to_owned()
    };
    assert!(line("/via-nginx").starts_with("127.0.0.1 "), "{log}");
    assert!(line("/direct").starts_with("127.0.0.1 "), "{log}");
    assert!(!log.contains("6.6.6.6"), "{log}");
}
