//! `tiny-hello`: the benchmark routes on tiny_http with 4 threads taking requests
//! from its shared queue.
//!
//! `tiny-hello --bind 127.0.0.1:PORT` prints `listening on http://ADDR` once bound.

use std::io::Read;
use std::sync::Arc;

use peers::{bind_addr, HELLO, STREAM_CHUNK, STREAM_CHUNKS, STREAM_CHUNK_LEN};
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

/// Threads that handle requests.
const THREADS: usize = 4;

/// The 1 MiB body of `GET /stream`, read 64 KiB at a time; its length is not
/// declared, so tiny_http frames it chunked.
struct Stream {
    left: usize,
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left).min(STREAM_CHUNK_LEN);
        buf[..n].copy_from_slice(&STREAM_CHUNK[..n]);
        self.left -= n;
        Ok(n)
    }
}

fn content_type() -> Header {
    Header::from_bytes("Content-Type", "text/plain").expect("a valid header")
}

fn handle(mut request: Request) -> std::io::Result<()> {
    match (request.method(), request.url()) {
        (Method::Get, "/") => {
            request.respond(Response::from_data(HELLO).with_header(content_type()))
        }
        (Method::Post, "/echo") => {
            let mut body = Vec::with_capacity(request.body_length().unwrap_or(0));
            request.as_reader().read_to_end(&mut body)?;
            request.respond(Response::from_data(body).with_header(content_type()))
        }
        (Method::Get, "/stream") => {
            let stream = Stream {
                left: STREAM_CHUNKS * STREAM_CHUNK_LEN,
            };
            let response = Response::new(StatusCode(200), vec![content_type()], stream, None, None)
                .with_chunked_threshold(STREAM_CHUNK_LEN);
            request.respond(response)
        }
        _ => request.respond(
            Response::from_data(&b"Not Found"[..])
                .with_status_code(404)
                .with_header(content_type()),
        ),
    }
}

fn main() {
    let server = match Server::http(bind_addr()) {
        Ok(server) => Arc::new(server),
        Err(e) => {
            eprintln!("tiny-hello: cannot bind: {e}");
            std::process::exit(1);
        }
    };
    match server.server_addr().to_ip() {
        Some(addr) => println!("listening on http://{addr}"),
        None => println!("listening"),
    }
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    // A client that goes away mid-response is normal under load.
                    let _ = handle(request);
                }
            })
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
}
