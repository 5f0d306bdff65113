//! Scenario 3: many connections trickling a request head while a normal client runs;
//! each slow connection is cut at the head deadline, the normal client sees no error
//! and no notable change in latency.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Ctx, Outcome};
use crate::load;
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let slow = ctx.pick(200, 1000);
    let head_timeout = ctx.pick(2, 5);
    let drip = Duration::from_millis(ctx.pick(500, 2000));
    let mut outcome = Outcome::new(format!(
        "{slow} connections sending one head byte every {drip:?}: all closed by the {head_timeout} s \
         head deadline (+2 s); the normal client has no error and p99 within 3x baseline + 5 ms"
    ));
    let server = ServerProcess::start(
        &ctx.server,
        &[
            "--head-timeout",
            &format!("{head_timeout}s"),
            "--max-connections",
            "20000",
        ],
        None,
    );
    let baseline = load::run(server.addr, 4, Duration::from_secs(2), "/baseline");

    let started = Instant::now();
    let mut conns: Vec<(TcpStream, Option<Duration>)> = (0..slow)
        .filter_map(|_| TcpStream::connect(server.addr).ok())
        .map(|s| {
            s.set_nonblocking(true).ok();
            (s, None)
        })
        .collect();
    let request = b"GET /slow HTTP/1.1\r\nHost: r\r\nX-Pad: ";
    let under_attack = std::thread::scope(|scope| {
        let normal = scope.spawn(|| {
            load::run(
                server.addr,
                4,
                Duration::from_secs(head_timeout + 1),
                "/normal",
            )
        });
        let deadline = started + Duration::from_secs(head_timeout + 2);
        let mut sent = 0;
        while Instant::now() < deadline && conns.iter().any(|(_, closed)| closed.is_none()) {
            for (stream, closed) in conns.iter_mut().filter(|(_, c)| c.is_none()) {
                let byte = [request[sent % request.len()]];
                let mut probe = [0u8; 512];
                let gone = match stream.read(&mut probe) {
                    Ok(0) => true,
                    Ok(_) => true,
                    Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                } || stream.write(&byte).is_err();
                if gone {
                    *closed = Some(started.elapsed());
                }
            }
            sent += 1;
            std::thread::sleep(drip.min(deadline.saturating_duration_since(Instant::now())));
        }
        normal.join().expect("the normal client ran")
    });
    let closed: Vec<Duration> = conns.iter().filter_map(|(_, c)| *c).collect();
    let latest = closed.iter().max().copied().unwrap_or_default();
    outcome.figure("slow connections opened", conns.len());
    outcome.figure("slow connections closed by the server", closed.len());
    outcome.figure(
        "latest close after start",
        format!("{:.2} s", latest.as_secs_f64()),
    );
    outcome.figure("baseline p99", format!("{:?}", baseline.quantile(0.99)));
    outcome.figure(
        "under attack p99",
        format!("{:?}", under_attack.quantile(0.99)),
    );
    outcome.figure(
        "under attack requests/errors",
        format!("{}/{}", under_attack.requests, under_attack.errors),
    );
    outcome.check(
        "every slow connection was closed",
        closed.len() == conns.len(),
    );
    outcome.check(
        "normal client had no error",
        under_attack.errors == 0 && under_attack.requests > 0,
    );
    let bound = baseline.quantile(0.99) * 3 + Duration::from_millis(5);
    outcome.check_measured(
        ctx,
        "normal p99 within 3x baseline + 5 ms",
        under_attack.quantile(0.99) <= bound,
    );
    server.stop();
    outcome
}
