//! Scenarios 10 and 11: clients that trickle a request body, and clients that never
//! read a 100 MB response, four per worker, while a normal client runs; none holds a
//! worker, each is cut at the minimum rate, with default workers and `--workers 4`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{Ctx, Outcome};
use crate::load;
use crate::server_process::ServerProcess;

/// How long a fresh client may wait for its answer during an attack.
const FRESH_WAIT: Duration = Duration::from_secs(3);

/// The worker settings each scenario runs with: the default, then four.
const WORKERS: [Option<usize>; 2] = [None, Some(4)];

/// Scenario 10: trickled request bodies ("R-U-Dead-Yet").
pub fn trickled_bodies(ctx: &Ctx) -> Outcome {
    let drip = Duration::from_millis(ctx.pick(500, 2000));
    let grace = ctx.pick(2, 5);
    let mut outcome = Outcome::new(format!(
        "4 clients per worker send Content-Length: 1000000 and one body byte every {drip:?}: each \
         gets 408 after the {grace} s grace of the minimum body rate; a fresh GET / is answered \
         within {FRESH_WAIT:?} throughout; the normal client has no error and p99 < 50 ms"
    ));
    for workers in WORKERS {
        let label = label(workers);
        let (server, slow) = start(ctx, workers, grace);
        // Before the heads go out: the server's clock for the grace starts later.
        let started = Instant::now();
        let mut conns: Vec<(TcpStream, Option<Duration>)> = (0..slow)
            .filter_map(|_| TcpStream::connect(server.addr).ok())
            .map(|mut s| {
                let _ = s.write_all(
                    b"POST /fixture/echo HTTP/1.1\r\nHost: r\r\nContent-Length: 1000000\r\n\r\n",
                );
                s.set_nonblocking(true).ok();
                (s, None)
            })
            .collect();
        let window = Duration::from_secs(grace + 3);
        let (normal, fresh_ok) = std::thread::scope(|scope| {
            let normal = scope.spawn(|| load::run(server.addr, 2, window, "/normal"));
            let fresh = scope.spawn(|| fresh_clients(server.addr, window));
            while started.elapsed() < window {
                for (stream, answered) in conns.iter_mut().filter(|(_, a)| a.is_none()) {
                    if got_status(stream, b"408") {
                        *answered = Some(started.elapsed());
                    } else {
                        let _ = stream.write(b"x");
                    }
                }
                std::thread::sleep(drip.min(window.saturating_sub(started.elapsed())));
            }
            (
                normal.join().expect("normal client"),
                fresh.join().expect("fresh clients"),
            )
        });
        let rss = server.stats().peak_rss_kib;
        let cut: Vec<Duration> = conns.iter().filter_map(|(_, a)| *a).collect();
        let earliest = cut.iter().min().copied().unwrap_or_default();
        outcome.figure(
            &format!("{label}: slow clients / answered 408"),
            format!("{} / {}", conns.len(), cut.len()),
        );
        outcome.figure(
            &format!("{label}: earliest 408 after"),
            format!("{:.2} s", earliest.as_secs_f64()),
        );
        report_normal(&mut outcome, ctx, &label, &normal, rss);
        outcome.check(
            &format!("{label}: every slow body got 408"),
            cut.len() == conns.len(),
        );
        outcome.check(
            &format!("{label}: no slow body was cut before the grace"),
            earliest >= Duration::from_secs(grace) || cut.is_empty(),
        );
        outcome.check(
            &format!("{label}: fresh GET / answered within {FRESH_WAIT:?} each time"),
            fresh_ok,
        );
        server.stop();
    }
    outcome
}

/// Scenario 11: clients that ask for 100 MB and never read.
pub fn slow_readers(ctx: &Ctx) -> Outcome {
    let grace = ctx.pick(2, 5);
    let total: u64 = 100_000_000;
    let mut outcome = Outcome::new(format!(
        "4 clients per worker ask for /fixture/large of {total} bytes and never read: each response \
         is cut after the {grace} s grace of the minimum response rate; a fresh GET / is answered \
         within {FRESH_WAIT:?} throughout; the normal client has no error and p99 < 50 ms; RSS printed"
    ));
    for workers in WORKERS {
        let label = label(workers);
        let (server, slow) = start(ctx, workers, grace);
        let request = format!("GET /fixture/large?bytes={total} HTTP/1.1\r\nHost: r\r\n\r\n");
        let conns: Vec<TcpStream> = (0..slow)
            .filter_map(|_| TcpStream::connect(server.addr).ok())
            .filter_map(|mut s| s.write_all(request.as_bytes()).ok().map(|_| s))
            .collect();
        let window = Duration::from_secs(grace + 3);
        let (normal, fresh_ok) = std::thread::scope(|scope| {
            let normal = scope.spawn(|| load::run(server.addr, 2, window, "/normal"));
            let fresh = scope.spawn(|| fresh_clients(server.addr, window));
            (
                normal.join().expect("normal client"),
                fresh.join().expect("fresh clients"),
            )
        });
        let rss = server.stats().peak_rss_kib;
        // Now read what each got: a cut response ends before its 100 MB.
        let received: Vec<u64> = conns.into_iter().map(read_to_end_bounded).collect();
        let cut = received.iter().filter(|&&n| n < total).count();
        let most = received.iter().max().copied().unwrap_or_default();
        outcome.figure(
            &format!("{label}: slow readers / cut"),
            format!("{} / {cut}", received.len()),
        );
        outcome.figure(
            &format!("{label}: most bytes a slow reader got"),
            format!("{:.1} MiB", most as f64 / 1048576.0),
        );
        report_normal(&mut outcome, ctx, &label, &normal, rss);
        outcome.check(
            &format!("{label}: every slow reader was cut"),
            cut == received.len(),
        );
        outcome.check(
            &format!("{label}: fresh GET / answered within {FRESH_WAIT:?} each time"),
            fresh_ok,
        );
        server.stop();
    }
    outcome
}

fn label(workers: Option<usize>) -> String {
    workers.map_or("default workers".to_owned(), |n| format!("--workers {n}"))
}

/// Starts the server; returns it and how many slow clients to send (4 per worker).
fn start(ctx: &Ctx, workers: Option<usize>, grace: u64) -> (ServerProcess, usize) {
    let workers_text = workers.map(|n| n.to_string());
    let grace_text = format!("{grace}s");
    let mut args = vec!["--min-rate-grace", grace_text.as_str()];
    if let Some(n) = &workers_text {
        args.extend(["--workers", n.as_str()]);
    }
    let server = ServerProcess::start(&ctx.server, &args, None);
    let count = workers.unwrap_or_else(|| {
        // gateway-serve's default: 4 per core, at least 4.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores * 4).max(4)
    });
    (server, count * 4)
}

fn report_normal(
    outcome: &mut Outcome,
    ctx: &Ctx,
    label: &str,
    normal: &load::LoadResult,
    rss: u64,
) {
    outcome.figure(
        &format!("{label}: normal requests/errors"),
        format!("{}/{}", normal.requests, normal.errors),
    );
    outcome.figure(
        &format!("{label}: normal p50 / p99"),
        format!("{:?} / {:?}", normal.quantile(0.5), normal.quantile(0.99)),
    );
    outcome.figure(
        &format!("{label}: server peak RSS"),
        format!("{:.1} MiB", rss as f64 / 1024.0),
    );
    outcome.check(
        &format!("{label}: normal client had no error"),
        normal.errors == 0 && normal.requests > 0,
    );
    outcome.check_measured(
        ctx,
        &format!("{label}: normal p99 under 50 ms"),
        normal.quantile(0.99) < Duration::from_millis(50),
    );
}

/// A fresh connection every 250 ms for `window`, each asking `GET /`: true when
/// every one was answered 200 within [`FRESH_WAIT`].
fn fresh_clients(addr: SocketAddr, window: Duration) -> bool {
    let started = Instant::now();
    let mut all = true;
    while started.elapsed() < window {
        all &= fresh_get(addr);
        std::thread::sleep(Duration::from_millis(250));
    }
    all
}

fn fresh_get(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, FRESH_WAIT) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(FRESH_WAIT));
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: fresh\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Whether a non-blocking stream has received a response with `status`.
fn got_status(stream: &mut TcpStream, status: &[u8]) -> bool {
    let mut buf = [0u8; 512];
    match stream.read(&mut buf) {
        Ok(n) if n >= 12 => &buf[9..12] == status,
        // Nothing yet (WouldBlock), or a close without the 408.
        Ok(_) | Err(_) => false,
    }
}

/// Reads a stream to its end (or a 5 s silence); returns the bytes.
fn read_to_end_bounded(mut stream: TcpStream) -> u64 {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n as u64,
        }
    }
}
