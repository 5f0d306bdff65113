//! The built `gateway-serve` binary under SIGTERM: in-flight requests finish, idle
//! connections close at once, new ones are refused, and the exit code says whether
//! the graceful timeout had to cut requests.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{connect, Reader, WAIT};

struct Served {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

/// Starts the binary on an ephemeral loopback port and reads the port from its log.
fn serve(extra: &[&str]) -> Served {
    let uploads = std::env::temp_dir().join(format!("gateway-shutdown-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway-serve"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--log-level",
            "info",
            "--upload-dir",
        ])
        .arg(&uploads)
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start gateway-serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + WAIT;
    let addr = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its address");
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    Served {
        child,
        addr,
        log: rx,
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const BOUNDARY: &str = "XyZ";

fn upload_parts(content: &str) -> (String, String) {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    );
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    (head, body)
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    let mut served = serve(&[]);
    let addr = served.addr;

    let mut idle = Reader::new(connect(addr));
    idle.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(idle.response("GET").unwrap().text(), "Hello, World!");

    // An upload whose body is still on its way: a request in flight.
    let (head, body) = upload_parts("sent in two halves");
    let (first, second) = body.split_at(body.len() / 2);
    let mut uploading = Reader::new(connect(addr));
    uploading.send(head.as_bytes());
    uploading.send(first.as_bytes());
    std::thread::sleep(Duration::from_millis(200));

    sigterm(&served.child);
    assert!(
        idle.is_closed(),
        "idle keep-alive connections close at once"
    );
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still accepted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    uploading.send(second.as_bytes());
    let response = uploading.response("POST").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.text(),
        r#"{"status":"ok","message":"file uploaded"}"#
    );
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(wait_exit(&mut served.child).code(), Some(0));
}

#[test]
fn graceful_timeout_cuts_a_long_request_and_exits_three() {
    let mut served = serve(&["--graceful-timeout", "300ms"]);
    let (head, body) = upload_parts("never finished");
    let mut uploading = Reader::new(connect(served.addr));
    uploading.send(head.as_bytes());
    uploading.send(&body.as_bytes()[..10]);
    std::thread::sleep(Duration::from_millis(200));
    sigterm(&served.child);
    assert_eq!(wait_exit(&mut served.child).code(), Some(3));
    let log: Vec<String> = served.log.try_iter().collect();
    assert!(
        log.iter()
            .any(|l| l.contains("cutting the in-flight request POST /upload")),
        "{log:?}"
    );
}
