//! Scenario 6: memory stays bounded with many idle connections, concurrent large
//! uploads, an absurd Content-Length, a client that never reads, half-sent bodies.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use fixtures::raw_client::{connect, exchange, Reader};

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn run(ctx: &Ctx) -> Outcome {
    let idle = ctx.pick(500, 10_000);
    let uploads = ctx.pick(4, 20);
    let upload_bytes: u64 = ctx.pick(8 << 20, 100 << 20);
    let mut outcome = Outcome::new(format!(
        "RSS growth stays bounded: {idle} idle connections < 64 MiB; {uploads} concurrent uploads of \
         {} MiB < 64 MiB; Content-Length 10^15 answered 413 with < 1 MiB growth; a stalled reader \
         of a 1 GiB response < 16 MiB; half-sent bodies of {half_sent} clients < the 32 MiB total \
         buffering bound + 16 MiB",
        upload_bytes >> 20,
        half_sent = ctx.pick(120, 600),
    ));
    let server = ServerProcess::start(
        &ctx.server,
        &["--max-connections", "20000", "--max-body-size", "1GiB"],
        None,
    );
    let base = server.stats().rss_kib;
    outcome.figure("baseline RSS", mib(base));

    // Idle connections.
    let mut held: Vec<TcpStream> = Vec::with_capacity(idle);
    for _ in 0..idle {
        match TcpStream::connect(server.addr) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let with_idle = server.stats().rss_kib;
    outcome.figure("idle connections held", held.len());
    outcome.figure(
        "RSS growth with idle connections",
        mib(with_idle.saturating_sub(base)),
    );
    outcome.check("every idle connection was accepted", held.len() == idle);
    outcome.check_measured(
        ctx,
        "idle growth < 64 MiB",
        with_idle.saturating_sub(base) < 64 << 10,
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));

    // Concurrent uploads the echo streams into its digest.
    let before_uploads = server.stats().rss_kib;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let uploads: Vec<_> = (0..uploads)
            .map(|_| {
                scope.spawn(|| {
                    let mut stream = connect(server.addr);
                    let head = format!("POST /upload-sink HTTP/1.1\r\nHost: r\r\nContent-Length: {upload_bytes}\r\n\r\n");
                    stream.write_all(head.as_bytes()).ok();
                    let chunk = vec![b'u'; 64 * 1024];
                    let mut left = upload_bytes;
                    while left > 0 {
                        let n = left.min(chunk.len() as u64) as usize;
                        if stream.write_all(&chunk[..n]).is_err() {
                            return 0;
                        }
                        left -= n as u64;
                    }
                    let mut reader = Reader::new(stream);
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.response("POST")))
                        .ok()
                        .flatten()
                        .map_or(0, |r| r.status)
                })
            })
            .collect();
        uploads.into_iter().map(|u| u.join().unwrap_or(0)).collect()
    });
    let after_uploads = server.stats();
    outcome.figure(
        "upload statuses all 200",
        statuses.iter().all(|&s| s == 200),
    );
    outcome.figure("peak RSS during uploads", mib(after_uploads.peak_rss_kib));
    outcome.figure(
        "RSS growth after uploads",
        mib(after_uploads.rss_kib.saturating_sub(before_uploads)),
    );
    outcome.check(
        "every upload was answered 200",
        statuses.iter().all(|&s| s == 200),
    );
    outcome.check_measured(
        ctx,
        "upload peak growth < 64 MiB",
        after_uploads.peak_rss_kib.saturating_sub(before_uploads) < 64 << 10,
    );

    // An absurd Content-Length: refused before any allocation for it.
    let before = server.stats().rss_kib;
    let response = exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nHost: r\r\nContent-Length: 1000000000000000\r\n\r\n",
    );
    let growth = server.stats().rss_kib.saturating_sub(before);
    outcome.figure("Content-Length 10^15 answered", response.status);
    outcome.figure("RSS growth for it", mib(growth));
    outcome.check("Content-Length 10^15 gets 413", response.status == 413);
    outcome.check_measured(ctx, "no allocation for it (< 1 MiB)", growth < 1024);

    // A client that asks for 1 GiB and never reads.
    let before = server.stats().rss_kib;
    let mut stalled = connect(server.addr);
    stalled
        .write_all(b"GET /fixture/large?bytes=1073741824 HTTP/1.1\r\nHost: r\r\n\r\n")
        .ok();
    std::thread::sleep(Duration::from_secs(2));
    let growth = server.stats().rss_kib.saturating_sub(before);
    outcome.figure("RSS growth with a stalled 1 GiB reader", mib(growth));
    outcome.check_measured(ctx, "stalled reader growth < 16 MiB", growth < 16 << 10);
    drop(stalled);
    server.stop();
    half_sent_bodies(ctx, &mut outcome);
    outcome
}

/// Many clients that send half of a body the table would buffer, then stall: the
/// total buffering bound (LIMIT-17) caps what they cost, where each alone would be
/// buffered up to its Content-Length.
fn half_sent_bodies(ctx: &Ctx, outcome: &mut Outcome) {
    const TOTAL_MIB: u64 = 32;
    const SENT: usize = 500 << 10;
    let clients = ctx.pick(120, 600);
    let total = format!("{TOTAL_MIB}MiB");
    let server = ServerProcess::start(
        &ctx.server,
        // Few workers and a short queue: beyond the total bound, bodies go to
        // workers, and what waits for one holds a head read (up to 64 KiB) each;
        // 4 + 64 of them fit in the slack below, and the rest get 503.
        &[
            "--max-connections",
            "20000",
            "--body-buffer-total",
            &total,
            "--workers",
            "4",
            "--queue-depth",
            "64",
        ],
        None,
    );
    let before = server.stats().rss_kib;
    let head = b"POST /upload-sink HTTP/1.1\r\nHost: r\r\nContent-Length: 1000000\r\n\r\n";
    let half = vec![b'h'; SENT];
    let mut held = Vec::with_capacity(clients);
    for _ in 0..clients {
        let Ok(mut stream) = TcpStream::connect(server.addr) else {
            break;
        };
        stream.set_write_timeout(Some(Duration::from_secs(5))).ok();
        if stream.write_all(head).is_ok() && stream.write_all(&half).is_ok() {
            held.push(stream);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let stats = server.stats();
    let growth = stats.peak_rss_kib.saturating_sub(before);
    let unbounded_kib = (clients * SENT) as u64 >> 10;
    outcome.figure(
        "clients that sent half of a 1 MB body (500 KiB) and stalled",
        format!("{} of {clients}", held.len()),
    );
    outcome.figure(
        "their RSS growth (peak), total bound / unbounded",
        format!("{} / {TOTAL_MIB} MiB / {}", mib(growth), mib(unbounded_kib)),
    );
    outcome.check_measured(
        ctx,
        "half-sent bodies cost under the total bound + 16 MiB",
        growth < (TOTAL_MIB + 16) << 10,
    );
    drop(held);
    server.stop();
}
