//! Scenario 7: SIGTERM under load. In-flight requests all complete, idle connections
//! close at once, new connections are refused, exit 0; with a short graceful timeout,
//! the exit is on time with code 3 and a log line naming the cut request.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use fixtures::raw_client::{connect, Reader};

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let in_flight = ctx.pick(40, 200);
    let idle = ctx.pick(100, 500);
    let mut outcome = Outcome::new(format!(
        "SIGTERM with {in_flight} in-flight requests (the app sleeps 1 to 3 s) and {idle} idle \
         connections: all in-flight complete, idle close at once, new connections refused, exit 0; \
         with a 500 ms graceful timeout and a 3 s request: exit 3 on time with a log line naming it; \
         waiting for an in-flight request after SIGTERM costs under 20% of a core"
    ));
    let workers = in_flight.to_string();
    let mut server = ServerProcess::start(
        &ctx.server,
        &[
            "--workers",
            &workers,
            "--queue-depth",
            &workers,
            "--max-connections",
            "20000",
        ],
        None,
    );
    let mut idle_conns: Vec<Reader> = (0..idle)
        .map(|_| {
            let mut r = Reader::new(connect(server.addr));
            r.send(b"GET /warm HTTP/1.1\r\nHost: r\r\n\r\n");
            let _ = r.response("GET");
            r
        })
        .collect();
    let mut flying: Vec<Reader> = (0..in_flight)
        .map(|i| {
            let mut r = Reader::new(connect(server.addr));
            let ms = 1000 + (i * 2000 / in_flight.max(1));
            r.send(format!("GET /fixture/sleep?ms={ms} HTTP/1.1\r\nHost: r\r\n\r\n").as_bytes());
            r
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    let signalled = Instant::now();
    let idle_closed = idle_conns
        .iter_mut()
        .map(|r| r.is_closed())
        .filter(|&c| c)
        .count();
    let idle_close_time = signalled.elapsed();
    let refused = TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)).is_err()
        || {
            std::thread::sleep(Duration::from_millis(200));
            TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)).is_err()
        };
    let completed = flying
        .iter_mut()
        .map(|r| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.response("GET")))
                .ok()
                .flatten()
                .is_some_and(|resp| resp.status == 200 && resp.text() == "slept" && resp.complete)
        })
        .filter(|&done| done)
        .count();
    let status = server.wait(Duration::from_secs(15));
    outcome.figure("in-flight completed", format!("{completed}/{in_flight}"));
    outcome.figure("idle closed", format!("{idle_closed}/{idle}"));
    outcome.figure("idle closed within", format!("{idle_close_time:?}"));
    outcome.figure("exit code", format!("{:?}", status.and_then(|s| s.code())));
    outcome.check("every in-flight request completed", completed == in_flight);
    outcome.check("every idle connection closed", idle_closed == idle);
    outcome.check("new connections refused", refused);
    outcome.check("exit code 0", status.and_then(|s| s.code()) == Some(0));

    // A request longer than the graceful timeout.
    let mut server = ServerProcess::start(&ctx.server, &["--graceful-timeout", "500ms"], None);
    let mut long = Reader::new(connect(server.addr));
    long.send(b"GET /fixture/sleep?ms=3000 HTTP/1.1\r\nHost: r\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    server.terminate();
    let signalled = Instant::now();
    let status = server.wait(Duration::from_secs(10));
    let took = signalled.elapsed();
    let named = server
        .log()
        .iter()
        .any(|l| l.contains("cutting the in-flight request GET /fixture/sleep"));
    outcome.figure(
        "short timeout exit code",
        format!("{:?}", status.and_then(|s| s.code())),
    );
    outcome.figure("short timeout exit after", format!("{took:?}"));
    outcome.check(
        "exit code 3 when a request was cut",
        status.and_then(|s| s.code()) == Some(3),
    );
    outcome.check("the log names the cut request", named);
    outcome.check_measured(
        ctx,
        "exit within 2 s of SIGTERM",
        took < Duration::from_secs(2),
    );

    // Waiting out an in-flight request costs (almost) no CPU.
    let mut server = ServerProcess::start(&ctx.server, &[], None);
    let mut slow = Reader::new(connect(server.addr));
    slow.send(b"GET /fixture/sleep?ms=1500 HTTP/1.1\r\nHost: r\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    server.terminate();
    let cpu = server.cpu_percent(Duration::from_millis(800));
    let answered = slow.response("GET").is_some_and(|r| r.status == 200);
    let _ = server.wait(Duration::from_secs(10));
    outcome.figure("CPU while stopping", format!("{cpu:.1}% of a core"));
    outcome.check("the request in flight at SIGTERM is answered", answered);
    outcome.check_measured(ctx, "under 20% of a core while stopping", cpu < 20.0);
    outcome
}
