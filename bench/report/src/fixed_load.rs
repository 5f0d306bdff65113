//! `bench-report requests ADDR COUNT CONNECTIONS`: exactly COUNT keep-alive
//! `GET /` requests over CONNECTIONS connections, each answer checked, for counts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
const HELLO: &[u8] = b"Hello, World!";

/// Sends the requests; an error names the first answer that was not hello world.
pub fn run(addr: &str, count: u64, connections: u64) -> Result<(), String> {
    if connections == 0 || count < connections {
        return Err(format!(
            "{count} requests over {connections} connections: need COUNT >= CONNECTIONS >= 1"
        ));
    }
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            // The first connections take the remainder, so the total is exact.
            let share = count / connections + u64::from(i < count % connections);
            let addr = addr.to_owned();
            std::thread::spawn(move || client(&addr, share))
        })
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "a client thread panicked".to_owned())??;
    }
    Ok(())
}

fn client(addr: &str, requests: u64) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    for n in 0..requests {
        stream
            .write_all(REQUEST)
            .map_err(|e| format!("request {n}: {e}"))?;
        buf.clear();
        loop {
            let mut chunk = [0u8; 4096];
            let read = stream
                .read(&mut chunk)
                .map_err(|e| format!("request {n}: {e}"))?;
            if read == 0 {
                return Err(format!("request {n}: the server closed the connection"));
            }
            buf.extend_from_slice(&chunk[..read]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let body = &buf[end + 4..];
                if body.len() >= HELLO.len() {
                    if !buf.starts_with(b"HTTP/1.1 200") || body != HELLO {
                        return Err(format!("request {n}: {:?}", String::from_utf8_lossy(&buf)));
                    }
                    break;
                }
            }
        }
    }
    Ok(())
}
