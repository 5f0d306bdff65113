//! The log formats on the built `gateway-serve`: the access log as JSON lines in a
//! file and on standard error, and the error log as JSON lines.

mod support;

use support::{exe, Served, Signal};

fn get(addr: std::net::SocketAddr, path: &str, extra: &str) -> u16 {
    fixtures::raw_client::exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n").as_bytes(),
    )
    .status
}

#[test]
fn a_json_access_log_has_one_object_per_request_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.jsonl");
    let mut served = Served::start(
        &exe(),
        &[
            "--access-log",
            path.to_str().unwrap(),
            "--access-log-format",
            "json",
        ],
    );
    assert_eq!(
        get(
            served.addr,
            "/",
            "X-Request-Id: trace-42\r\nUser-Agent: t/1\r\n"
        ),
        200
    );
    assert_eq!(get(served.addr, "/missing?q=%22x%22", ""), 404);
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let (hello, missing) = (&lines[0], &lines[1]);
    assert_eq!(hello["method"], "GET");
    assert_eq!(hello["target"], "/");
    assert_eq!(hello["protocol"], "HTTP/1.1");
    assert_eq!(hello["status"], 200);
    assert_eq!(hello["bytes"], 13);
    assert_eq!(hello["remote_addr"], "127.0.0.1");
    assert_eq!(hello["user_agent"], "t/1");
    assert_eq!(hello["request_id"], "trace-42");
    assert!(hello["duration_us"].is_u64());
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["target"], "/missing?q=%22x%22");
    let made = missing["request_id"].as_str().unwrap();
    assert!(!made.is_empty() && made != "trace-42", "{made}");
}

#[test]
fn the_error_log_and_an_access_log_on_stderr_can_both_be_json_lines() {
    let mut served = Served::start(
        &exe(),
        &[
            "--log-format",
            "json",
            "--access-log",
            "stderr",
            "--access-log-format",
            "json",
        ],
    );
    assert_eq!(get(served.addr, "/", ""), 200);
    let access = served.wait_for_log("\"status\":200");
    let access: serde_json::Value = serde_json::from_str(&access).unwrap();
    assert_eq!(access["target"], "/");
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    let log = served.log();
    let records: Vec<serde_json::Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let serving = records
        .iter()
        .find(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("serving on"))
        })
        .unwrap_or_else(|| panic!("{log:?}"));
    assert_eq!(serving["level"], "INFO");
    assert!(serving["time"].as_str().unwrap().ends_with('Z'));
    assert!(serving["pid"].is_u64());
}
