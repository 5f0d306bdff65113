//! Scenario 4 (the Puma class): thousands of idle keep-alive connections beside busy
//! clients; throughput holds, and with more busy clients than workers a new client
//! still gets a prompt answer.

use std::time::{Duration, Instant};

use fixtures::raw_client::{connect, exchange, Reader};

use super::{Ctx, Outcome};
use crate::load;
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let idle = ctx.pick(300, 2000);
    let busy = ctx.pick(8, 32);
    let seconds = Duration::from_secs(ctx.pick(2, 5));
    let mut outcome = Outcome::new(format!(
        "{idle} idle keep-alive connections + {busy} busy clients: throughput >= 80% of the \
         baseline without them; a new client beside {busy} busy ones on 4 workers is answered within 1 s"
    ));
    let server = ServerProcess::start(
        &ctx.server,
        &["--workers", "4", "--max-connections", "20000"],
        None,
    );
    let baseline = load::run(server.addr, busy, seconds, "/idle-baseline");

    let mut parked = Vec::with_capacity(idle);
    for _ in 0..idle {
        let mut reader = Reader::new(connect(server.addr));
        reader.send(b"GET /warm HTTP/1.1\r\nHost: r\r\n\r\n");
        if reader.response("GET").is_some_and(|r| r.status == 200) {
            parked.push(reader);
        }
    }
    let with_idle = std::thread::scope(|scope| {
        let load = scope.spawn(|| load::run(server.addr, busy, seconds, "/idle-busy"));
        std::thread::sleep(seconds / 2);
        let asked = Instant::now();
        let fresh = exchange(server.addr, b"GET /fresh HTTP/1.1\r\nHost: r\r\n\r\n");
        let waited = asked.elapsed();
        (load.join().expect("load ran"), fresh.status, waited)
    });
    let (loaded, fresh_status, fresh_wait) = with_idle;
    let stats = server.stats();
    let ratio = loaded.rate() / baseline.rate().max(1.0);
    outcome.figure("idle connections held", parked.len());
    outcome.figure("baseline req/s", format!("{:.0}", baseline.rate()));
    outcome.figure("with idle req/s", format!("{:.0}", loaded.rate()));
    outcome.figure("ratio", format!("{ratio:.2}"));
    outcome.figure("new client answered in", format!("{fresh_wait:?}"));
    outcome.figure("server RSS", format!("{} KiB", stats.rss_kib));
    outcome.check("every idle connection was held", parked.len() == idle);
    outcome.check("busy clients had no error", loaded.errors == 0);
    outcome.check("the new client was answered", fresh_status == 200);
    outcome.check_measured(ctx, "throughput >= 80% of baseline", ratio >= 0.8);
    outcome.check_measured(
        ctx,
        "new client answered within 1 s",
        fresh_wait <= Duration::from_secs(1),
    );
    drop(parked);
    server.stop();
    outcome
}
