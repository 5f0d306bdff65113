//! `gateway-bench-app`: the benchmark routes as a Gateway Interface app on the
//! reference server (`reference_server::Server`, default workers and limits, access
//! log off), so that it answers exactly what the peers of `bench/run.sh` answer:
//!
//! - `GET /`: `Hello, World!` (13 bytes),
//! - `POST /echo`: the request body, read to its end through `environ.input`,
//! - `GET /stream`: 1 MiB as 16 chunks of 64 KiB of unknown length (chunked),
//! - anything else: 404.
//!
//! `gateway-bench-app --bind 127.0.0.1:PORT [--workers N]` prints
//! `listening on http://ADDR` once bound; SIGTERM ends it.

use std::io::Read;

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reference_server::Server;

/// Size of one chunk of `GET /stream`.
const STREAM_CHUNK_LEN: usize = 64 * 1024;
/// Chunks in `GET /stream`: 16 x 64 KiB = 1 MiB.
const STREAM_CHUNKS: usize = 16;
/// One chunk of `GET /stream`, shared by every response.
static STREAM_CHUNK: [u8; STREAM_CHUNK_LEN] = [b'x'; STREAM_CHUNK_LEN];

fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    match (&environ.method, environ.path_info.as_slice()) {
        (&Method::GET, b"/") => {
            start_response.call(StatusCode::OK, headers)?;
            Ok(Body::from_bytes(Bytes::from_static(b"Hello, World!")))
        }
        (&Method::POST, b"/echo") => {
            let capacity = environ.content_length.unwrap_or(0).min(1 << 30) as usize;
            let mut body = Vec::with_capacity(capacity);
            environ.input.read_to_end(&mut body)?;
            start_response.call(StatusCode::OK, headers)?;
            Ok(Body::from_bytes(body))
        }
        (&Method::GET, b"/stream") => {
            start_response.call(StatusCode::OK, headers)?;
            let chunks = (0..STREAM_CHUNKS).map(|_| Ok(Bytes::from_static(&STREAM_CHUNK)));
            Ok(Body::from_iter(chunks))
        }
        _ => {
            start_response.call(StatusCode::NOT_FOUND, headers)?;
            Ok(Body::from_bytes(Bytes::from_static(b"Not Found")))
        }
    }
}

/// `--bind ADDR` (else `BENCH_BIND`, else 127.0.0.1:8000) and `--workers N`.
fn args() -> Result<(String, Option<usize>), String> {
    let mut bind = std::env::var("BENCH_BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let mut workers = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().ok_or("--bind needs an address")?,
            "--workers" => {
                let n = args.next().ok_or("--workers needs a number")?;
                workers = Some(n.parse().map_err(|e| format!("--workers {n}: {e}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((bind, workers))
}

fn main() {
    let result = args().and_then(|(bind, workers)| {
        let mut server = Server::bind(bind.as_str()).map_err(|e| e.to_string())?;
        if let Some(n) = workers {
            server = server.workers(n).queue_depth(n * 64);
        }
        let handle = server.spawn(app).map_err(|e| e.to_string())?;
        println!("listening on http://{}", handle.local_addr());
        handle.join();
        Ok(())
    });
    if let Err(message) = result {
        eprintln!("gateway-bench-app: {message}");
        std::process::exit(1);
    }
}
