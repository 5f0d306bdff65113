//! `allocations`: heap allocations per request in the reference server, counted by a
//! wrapping global allocator, for hello GETs and 4 KiB echo POSTs on one connection.
//!
//! The keep-alive client over loopback allocates nothing per request.
//!
//! Run with `cargo run --release -p micro --bin allocations`; it prints a table.

use std::alloc::System;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reference_server::Server;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Requests measured per case, after as many for warming up.
const REQUESTS: usize = 20_000;

/// The routes of the benchmark app (`bench/gateway-app`): hello and echo.
fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    if environ.method == Method::POST {
        let mut body = Vec::with_capacity(environ.content_length.unwrap_or(0) as usize);
        environ.input.read_to_end(&mut body)?;
        start_response.call(StatusCode::OK, headers)?;
        return Ok(Body::from_bytes(body));
    }
    start_response.call(StatusCode::OK, headers)?;
    Ok(Body::from_bytes(Bytes::from_static(b"Hello, World!")))
}

/// Sends `request` and reads one response with a Content-Length of `body_len`,
/// through `buf`, without allocating.
fn exchange(stream: &mut TcpStream, request: &[u8], body_len: usize, buf: &mut [u8]) {
    stream.write_all(request).expect("send the request");
    let mut have = 0;
    loop {
        let n = stream.read(&mut buf[have..]).expect("read the response");
        assert!(n > 0, "the server closed the connection");
        have += n;
        if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            if have >= end + 4 + body_len {
                assert!(buf.starts_with(b"HTTP/1.1 200"), "unexpected response");
                return;
            }
        }
    }
}

fn measure(name: &str, request: &[u8], body_len: usize, addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a timeout");
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..REQUESTS {
        exchange(&mut stream, request, body_len, &mut buf);
    }
    let region = Region::new(GLOBAL);
    for _ in 0..REQUESTS {
        exchange(&mut stream, request, body_len, &mut buf);
    }
    let stats = region.change();
    let per = |n: usize| n as f64 / REQUESTS as f64;
    println!(
        "| {name} | {:.2} | {:.2} | {:.0} |",
        per(stats.allocations),
        per(stats.reallocations),
        per(stats.bytes_allocated)
    );
}

fn main() {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .spawn(app)
        .expect("start the server");
    let addr = server.local_addr();
    println!("| request | allocations | reallocations | bytes allocated |");
    println!("| --- | --- | --- | --- |");
    measure(
        "GET / (hello, 13 bytes)",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: wrk\r\n\r\n",
        13,
        addr,
    );
    let mut echo = format!(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        4096
    )
    .into_bytes();
    echo.extend(std::iter::repeat_n(b'x', 4096));
    measure("POST /echo (4 KiB)", &echo, 4096, addr);
    server.stop();
}
