//! `bench-report requests ADDR COUNT CONNECTIONS [DEPTH]`: exactly COUNT keep-alive
//! `GET /` requests over CONNECTIONS connections, DEPTH per write (pipelined when
//! more than 1), each answer checked, for counts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
const HELLO: &[u8] = b"Hello, World!";

/// Sends the requests; an error names the first answer that was not hello world.
pub fn run(addr: &str, count: u64, connections: u64, depth: u64) -> Result<(), String> {
    if connections == 0 || count < connections || depth == 0 {
        return Err(format!(
            "{count} requests over {connections} connections, {depth} per write: need \
             COUNT >= CONNECTIONS >= 1 and DEPTH >= 1"
        ));
    }
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            // The first connections take the remainder, so the total is exact.
            let share = count / connections + u64::from(i < count % connections);
            let addr = addr.to_owned();
            std::thread::spawn(move || client(&addr, share, depth))
        })
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "a client thread panicked".to_owned())??;
    }
    Ok(())
}

fn client(addr: &str, requests: u64, depth: u64) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut sent = 0;
    while sent < requests {
        let batch = depth.min(requests - sent);
        stream
            .write_all(&REQUEST.repeat(batch as usize))
            .map_err(|e| format!("request {sent}: {e}"))?;
        let mut answered = 0;
        while answered < batch {
            let n = sent + answered;
            if let Some(len) = hello_answer(&buf).map_err(|e| format!("request {n}: {e}"))? {
                buf.drain(..len);
                answered += 1;
                continue;
            }
            let mut chunk = [0u8; 4096];
            let read = stream
                .read(&mut chunk)
                .map_err(|e| format!("request {n}: {e}"))?;
            if read == 0 {
                return Err(format!("request {n}: the server closed the connection"));
            }
            buf.extend_from_slice(&chunk[..read]);
        }
        if !buf.is_empty() {
            return Err(format!(
                "request {sent}: bytes beyond the answers: {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        sent += batch;
    }
    Ok(())
}

/// The length of the hello-world answer `buf` starts with, once it is all there.
fn hello_answer(buf: &[u8]) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let body = &buf[end + 4..];
    if body.len() < HELLO.len() {
        return Ok(None);
    }
    if !buf.starts_with(b"HTTP/1.1 200") || &body[..HELLO.len()] != HELLO {
        return Err(format!(
            "not hello world: {:?}",
            String::from_utf8_lossy(buf)
        ));
    }
    Ok(Some(end + 4 + HELLO.len()))
}
