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
    // A line is written once its response went out: two workers may log in
    // either order.
    let by_target = |target: &str| {
        lines
            .iter()
            .find(|l| l["target"] == target)
            .unwrap_or_else(|| panic!("no line for {target}: {text}"))
    };
    let (hello, missing) = (by_target("/"), by_target("/missing?q=%22x%22"));
    assert_eq!(hello["method"], "GET");
    assert_eq!(hello["protocol"], "HTTP/1.1");
    assert_eq!(hello["status"], 200);
    assert_eq!(hello["bytes"], 13);
    assert_eq!(hello["remote_addr"], "127.0.0.1");
    assert_eq!(hello["user_agent"], "t/1");
    assert_eq!(hello["request_id"], "trace-42");
    assert!(hello["duration_us"].is_u64());
    assert_eq!(missing["status"], 404);
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

/// The value of the sample line starting with `name` (labels included).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn metrics_count_responses_by_class_and_duration_on_their_own_listener() {
    let mut served = Served::start(&exe(), &["--app", "demo", "--metrics-bind", "127.0.0.1:0"]);
    // Logged before "serving on", which the start waited for.
    let log = served.log();
    let line = log
        .iter()
        .find(|l| l.contains("metrics on http://"))
        .unwrap_or_else(|| panic!("{log:?}"));
    let metrics: std::net::SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(metrics, served.addr);
    for _ in 0..3 {
        assert_eq!(get(served.addr, "/", ""), 200);
    }
    for _ in 0..2 {
        assert_eq!(get(served.addr, "/no-such-page", ""), 404);
    }
    let scrape = fixtures::raw_client::exchange(
        metrics,
        b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(scrape.status, 200);
    let text = scrape.text();
    assert_eq!(
        sample(&text, "gateway_requests_total{class=\"2xx\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "gateway_requests_total{class=\"4xx\"}"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "gateway_request_duration_seconds_count"),
        Some(5.0),
        "{text}"
    );
    for gauge in [
        "gateway_in_flight_requests",
        "gateway_queued_requests",
        "gateway_open_connections",
        "gateway_parked_responses",
    ] {
        assert!(sample(&text, gauge).is_some(), "{gauge} missing:\n{text}");
    }
    // Every sample line is `name{labels} value`; the metrics server's own requests
    // are not counted.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    let elsewhere = fixtures::raw_client::exchange(
        metrics,
        b"GET / HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(elsewhere.status, 404);
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

#[test]
fn metrics_with_worker_processes_are_refused_with_exit_2() {
    let output = std::process::Command::new(exe())
        .args([
            "--bind",
            "127.0.0.1:0",
            "--processes",
            "2",
            "--metrics-bind",
            "127.0.0.1:0",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--metrics-bind"));
}
