//! Scenario 10: an app that tries to emit bytes that would split the message (header
//! values with CR, LF or NUL are impossible by type; hop-by-hop headers, a 1xx status,
//! a body that disagrees with its Content-Length): the wire never carries a split or
//! spliced message.

use fixtures::raw_client::{connect, Reader};

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let mut outcome = Outcome::new(
        "for each misbehaving route, the connection carries exactly one well-framed (or visibly \
         truncated and closed) response, and a request pipelined after it is answered by itself",
    );
    let _ = ctx;
    let server = ServerProcess::start(&ctx.server, &[], None);
    let routes = [
        (
            "/fixture/hop-by-hop?name=Transfer-Encoding&value=chunked",
            true,
        ),
        ("/fixture/hop-by-hop?name=Content-Length&value=1", false),
        ("/fixture/status?code=100", true),
        ("/fixture/cl-excess", false),
        ("/fixture/cl-short", false),
        ("/fixture/replace", true),
    ];
    for (route, keeps) in routes {
        let mut reader = Reader::new(connect(server.addr));
        reader.send(
            format!(
                "GET {route} HTTP/1.1\r\nHost: r\r\n\r\nGET /probe HTTP/1.1\r\nHost: r\r\n\r\n"
            )
            .as_bytes(),
        );
        let first =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.response("GET")))
                .ok()
                .flatten();
        let second =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.response("GET")))
                .ok()
                .flatten();
        let framed = first.as_ref().is_some_and(|r| {
            let lengths = r
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .count();
            let te = r
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"));
            lengths <= 1 && !(lengths == 1 && te)
        });
        let clean = match (keeps, &second) {
            // The probe must be answered on its own: its echo names its path.
            (true, Some(p)) => p.text().contains("\"path_info\":\"/probe\""),
            (true, None) => false,
            // After a framing failure the connection closes: no second response.
            (false, other) => other.is_none(),
        };
        outcome.figure(route, first.as_ref().map_or(0, |r| r.status));
        outcome.check(
            &format!("{route}: one well-framed response"),
            framed && clean,
        );
    }
    server.stop();
    outcome
}
