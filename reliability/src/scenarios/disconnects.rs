//! Scenario 9: connect, send, then half-close or reset mid-response, many times: the
//! server stays up and its file descriptor and thread counts return to the baseline.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use fixtures::raw_client::exchange;

use super::{Ctx, Outcome};
use crate::server_process::ServerProcess;

pub fn run(ctx: &Ctx) -> Outcome {
    let cycles = ctx.pick(600, 10_000);
    let mut outcome = Outcome::new(format!(
        "{cycles} cycles of connect, send, then half-close or reset mid-response: the server stays \
         up; its sockets and threads return to the baseline within 5 s"
    ));
    let server = ServerProcess::start(&ctx.server, &[], None);
    let _ = exchange(server.addr, b"GET /warm HTTP/1.1\r\nHost: r\r\n\r\n");
    let before = server.stats();
    for i in 0..cycles {
        let Ok(mut stream) = TcpStream::connect(server.addr) else {
            continue;
        };
        let request: &[u8] = match i % 4 {
            0 => b"GET /fixture/large?bytes=4194304 HTTP/1.1\r\nHost: r\r\n\r\n",
            1 => b"POST /echo HTTP/1.1\r\nHost: r\r\nContent-Length: 100000\r\n\r\npartial",
            2 => b"GET /fixture/chunks?n=50&size=65536 HTTP/1.1\r\nHost: r\r\n\r\n",
            _ => b"GET /half HTTP/1.1\r\nHost: r\r\n",
        };
        let _ = stream.write_all(request);
        let mut some = [0u8; 256];
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .ok();
        match i % 3 {
            0 => {
                let _ = stream.read(&mut some);
                let _ = stream.shutdown(Shutdown::Write);
            }
            1 => {
                let _ = stream.read(&mut some);
                // Dropping with unread data resets the connection.
            }
            _ => {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        drop(stream);
    }
    let mut after = server.stats();
    for _ in 0..50 {
        if after.sockets <= before.sockets && after.threads == before.threads {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        after = server.stats();
    }
    let alive = exchange(server.addr, b"GET /after HTTP/1.1\r\nHost: r\r\n\r\n").status == 200;
    outcome.figure(
        "sockets before/after",
        format!("{}/{}", before.sockets, after.sockets),
    );
    // Each worker opens one poller the first time a write blocks: not per client.
    outcome.figure(
        "all fds before/after",
        format!("{}/{}", before.fds, after.fds),
    );
    outcome.figure(
        "threads before/after",
        format!("{}/{}", before.threads, after.threads),
    );
    outcome.check("the server stays up", alive);
    outcome.check(
        "sockets back to the baseline",
        after.sockets <= before.sockets,
    );
    outcome.check(
        "threads back to the baseline",
        after.threads == before.threads,
    );
    server.stop();
    outcome
}
