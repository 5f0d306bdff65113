//! Scenario 2: every corpus vector against the built server; a rejected request never
//! reaches the app, and a request hidden in an unread body never runs.

use fixtures::corpus::{corpus_dir, load_dir};
use fixtures::raw_client::{connect, exchange, Reader};

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

fn calls(server: &ServerProcess) -> u64 {
    let response = exchange(
        server.addr,
        b"GET /fixture/calls HTTP/1.1\r\nHost: r\r\n\r\n",
    );
    let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    // The query itself is one call.
    value["calls"]
        .as_u64()
        .unwrap_or(u64::MAX)
        .saturating_sub(1)
}

pub fn run(ctx: &Ctx) -> Outcome {
    let mut outcome = Outcome::new(
        "no rejected corpus request and no request hidden in an unread body reaches the app",
    );
    let server = ServerProcess::start(&ctx.server, &[], None);
    let cases = load_dir(&corpus_dir()).expect("the corpus loads");
    let mut rejected = 0;
    let mut leaked = Vec::new();
    for case in cases.iter().filter(|c| c.app_calls == Some(0)) {
        rejected += 1;
        let before = calls(&server);
        let mut reader = Reader::new(connect(server.addr));
        reader.send(&case.request);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while reader.response("GET").is_some() {}
        }));
        let after = calls(&server);
        if after != before + 1 {
            leaked.push(format!("{} ({} calls)", case.name, after - before - 1));
        }
    }
    // A complete request inside a body the app ignores, for each framing.
    let hidden = "GET /hidden HTTP/1.1\r\nHost: r\r\n\r\n";
    let chunked = format!("{:x}\r\n{hidden}\r\n0\r\n\r\n", hidden.len());
    let carriers = [
        format!(
            "POST /fixture/ignore-body HTTP/1.1\r\nHost: r\r\nContent-Length: {}\r\n\r\n{hidden}",
            hidden.len()
        ),
        format!("POST /fixture/ignore-body HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"),
        format!(
            "POST /fixture/read-part?n=3 HTTP/1.1\r\nHost: r\r\nContent-Length: {}\r\n\r\n{hidden}",
            hidden.len()
        ),
    ];
    for carrier in &carriers {
        let mut reader = Reader::new(connect(server.addr));
        reader.send(carrier.as_bytes());
        reader.send(b"GET /after HTTP/1.1\r\nHost: r\r\n\r\n");
        // The carrier's answer, then the one to /after: two responses, no more.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = reader.response("POST");
            let _ = reader.response("GET");
        }));
    }
    let seen = exchange(
        server.addr,
        b"GET /fixture/seen?path=/hidden HTTP/1.1\r\nHost: r\r\n\r\n",
    );
    let hidden_runs: serde_json::Value = serde_json::from_slice(&seen.body).unwrap_or_default();
    let hidden_runs = hidden_runs["seen"].as_u64().unwrap_or(u64::MAX);
    outcome.figure("rejection vectors sent", rejected);
    outcome.figure("rejected requests that reached the app", leaked.len());
    outcome.figure("hidden requests that ran", hidden_runs);
    outcome.check("no rejected request reached the app", leaked.is_empty());
    outcome.check("no hidden request ran", hidden_runs == 0);
    if !leaked.is_empty() {
        outcome.figure("leaked", leaked.join(", "));
    }
    server.stop();
    outcome
}
