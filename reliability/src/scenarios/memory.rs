//! Scenario 6: memory stays bounded with many idle connections, concurrent large
//! uploads streamed by the app, an absurd Content-Length, and a client that never
//! reads a large response.

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
         of a 1 GiB response < 16 MiB",
        upload_bytes >> 20
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
    outcome
}
