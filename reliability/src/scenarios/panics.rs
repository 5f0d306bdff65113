//! Scenario 8: panics in 1% of requests under load leave other requests and the
//! worker count alone; every worker hung gives prompt 503s, and service returns
//! when they do.

use std::time::{Duration, Instant};

use fixtures::raw_client::{connect, exchange, Reader};

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let requests = ctx.pick(2000, 20_000);
    let mut outcome = Outcome::new(format!(
        "{requests} requests, 1% panicking (before headers, after headers, inside the body): those get \
         500 or an aborted response, all others 200, thread count unchanged; all workers hung: new \
         requests get 503 within 1 s, service returns after"
    ));
    let server = ServerProcess::start(&ctx.server, &["--workers", "4", "--queue-depth", "4"], None);
    let threads_before = server.stats().threads;
    let clients = 4;
    let results: Vec<(u64, u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let addr = server.addr;
                scope.spawn(move || {
                    let (mut ok, mut failed_as_specified, mut wrong) = (0, 0, 0);
                    let mut reader = Reader::new(connect(addr));
                    for i in 0..requests / clients {
                        let n = i * clients + c;
                        let path = match n % 300 {
                            0 => "/fixture/panic-before",
                            100 => "/fixture/panic-after?cl=0",
                            200 => "/fixture/panic-in-body",
                            _ => "/normal",
                        };
                        reader.send(format!("GET {path} HTTP/1.1\r\nHost: r\r\n\r\n").as_bytes());
                        let response =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                reader.response("GET")
                            }))
                            .ok()
                            .flatten();
                        match (path, response) {
                            ("/normal", Some(r)) if r.status == 200 => ok += 1,
                            ("/fixture/panic-after?cl=0", Some(r))
                                if r.status == 200 && !r.complete =>
                            {
                                failed_as_specified += 1;
                                reader = Reader::new(connect(addr));
                            }
                            (p, Some(r)) if p != "/normal" && r.status == 500 => {
                                failed_as_specified += 1
                            }
                            _ => {
                                wrong += 1;
                                reader = Reader::new(connect(addr));
                            }
                        }
                    }
                    (ok, failed_as_specified, wrong)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0, u64::MAX)))
            .collect()
    });
    let ok: u64 = results.iter().map(|r| r.0).sum();
    let panicked: u64 = results.iter().map(|r| r.1).sum();
    let wrong: u64 = results.iter().map(|r| r.2).sum();
    let threads_after = server.stats().threads;
    outcome.figure("normal answers", ok);
    outcome.figure("panics answered as specified", panicked);
    outcome.figure("wrong answers", wrong);
    outcome.figure(
        "threads before/after",
        format!("{threads_before}/{threads_after}"),
    );
    outcome.check("every request answered as specified", wrong == 0);
    outcome.check("thread count unchanged", threads_before == threads_after);

    // Every worker hung, and the queue full.
    let hung: Vec<Reader> = (0..8)
        .map(|_| {
            let mut r = Reader::new(connect(server.addr));
            r.send(b"GET /fixture/sleep?ms=2500 HTTP/1.1\r\nHost: r\r\n\r\n");
            // Paced, so that each of the first four reaches a worker before the
            // next arrives: the queue then holds exactly the last four.
            std::thread::sleep(Duration::from_millis(50));
            r
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let busy = exchange(server.addr, b"GET /while-hung HTTP/1.1\r\nHost: r\r\n\r\n");
    let busy_wait = asked.elapsed();
    let hung_statuses: Vec<u16> = hung
        .into_iter()
        .map(|mut r| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.response("GET")))
                .ok()
                .flatten()
                .map_or(0, |resp| resp.status)
        })
        .collect();
    outcome.figure("hung requests' statuses", format!("{hung_statuses:?}"));
    outcome.check(
        "the hung requests themselves completed",
        hung_statuses.iter().all(|&s| s == 200),
    );
    let mut recovered = false;
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        if exchange(server.addr, b"GET /after-hung HTTP/1.1\r\nHost: r\r\n\r\n").status == 200 {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    outcome.figure("while hung: status", busy.status);
    outcome.figure("while hung: answered in", format!("{busy_wait:?}"));
    outcome.check("503 while every worker is hung", busy.status == 503);
    outcome.check_measured(ctx, "503 within 1 s", busy_wait < Duration::from_secs(1));
    outcome.check("service returns when the workers do", recovered);
    server.stop();
    outcome
}
