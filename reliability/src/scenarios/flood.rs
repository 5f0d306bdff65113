//! Scenario 5: connections up to the limit and beyond, and a server with a low open
//! file limit: no crash, no busy spin while saturated, back to normal within seconds.

use std::net::TcpStream;
use std::time::Duration;

use fixtures::raw_client::exchange;

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let nofile = 128;
    let flood = ctx.pick(400, 2000);
    let mut outcome = Outcome::new(format!(
        "a server with `ulimit -n {nofile}` flooded with {flood} connections: it stays up, uses \
         under 20% of a core while saturated and while idle, and answers normally once the flood ends"
    ));
    let server = ServerProcess::start(&ctx.server, &[], Some(nofile));
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..flood {
        // The kernel accepts into the backlog even when the server cannot.
        match TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let saturated_cpu = server.cpu_percent(Duration::from_secs(2));
    let fds_saturated = server.stats().fds;
    drop(held);
    // Recovery: within a few seconds, a normal request succeeds.
    let mut recovered = false;
    for _ in 0..50 {
        let answer = std::panic::catch_unwind(|| {
            exchange(server.addr, b"GET /after-flood HTTP/1.1\r\nHost: r\r\n\r\n").status
        });
        if matches!(answer, Ok(200)) {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let idle_cpu = server.cpu_percent(Duration::from_secs(1));
    let alive = server.stats().threads > 0;
    outcome.figure("connections opened", flood);
    outcome.figure("server fds while saturated", fds_saturated);
    outcome.figure(
        "CPU while saturated",
        format!("{saturated_cpu:.1}% of a core"),
    );
    outcome.figure("CPU when idle again", format!("{idle_cpu:.1}% of a core"));
    outcome.check("the server stayed up", alive);
    outcome.check("normal service after the flood", recovered);
    outcome.check_measured(
        ctx,
        "no busy spin while saturated (< 20%)",
        saturated_cpu < 20.0,
    );
    outcome.check_measured(ctx, "near idle afterwards (< 20%)", idle_cpu < 20.0);
    server.stop();
    outcome
}
