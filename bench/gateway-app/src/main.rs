//! `gateway-bench-app`: the benchmark routes as a Gateway Interface app on the
//! reference server (`reference_server::Server`, default workers and limits, access
//! log off), so that it answers exactly what the peers of `bench/run.sh` answer:
//!
//! - `GET /`: `Hello, World!` (13 bytes),
//! - `POST /echo`: the request body, read to its end through `environ.input`,
//! - `GET /stream`: 1 MiB as 16 chunks of 64 KiB of unknown length (chunked),
//! - `GET /file/4k`, `GET /file/100m`: the files `4k` and `100m` of the files
//!   directory as `Body::file` (the server's `sendfile` path), opened per request as
//!   nginx opens them,
//! - anything else: 404.
//!
//! `gateway-bench-app --bind 127.0.0.1:PORT [--workers N] [--files DIR]` prints
//! `listening on http://ADDR` once bound; SIGTERM ends it. The files directory is
//! `--files`, else `BENCH_FILES_DIR` (what `bench/run.sh` sets, so that nginx serves
//! the same files), else a temporary directory where it writes them at start.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
/// The files `GET /file/NAME` serves, and their sizes when this app writes them.
const FILES: [(&str, usize); 2] = [("4k", 4 * 1024), ("100m", 100 * 1024 * 1024)];
/// The directory of those files, set once at start.
static FILES_DIR: OnceLock<PathBuf> = OnceLock::new();

fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    // The constant, as the hyper and actix peers name it: a string key is parsed
    // on every insert.
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
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
        (&Method::GET, b"/file/4k") => file_response(start_response, headers, "4k"),
        (&Method::GET, b"/file/100m") => file_response(start_response, headers, "100m"),
        (&Method::GET, b"/stream") => {
            start_response.call(StatusCode::OK, headers)?;
            let chunks = (0..STREAM_CHUNKS).map(|_| Ok(Bytes::from_static(&STREAM_CHUNK)));
            Ok(Body::try_from_chunks(chunks))
        }
        _ => {
            start_response.call(StatusCode::NOT_FOUND, headers)?;
            Ok(Body::from_bytes(Bytes::from_static(b"Not Found")))
        }
    }
}

/// The file `name` as it is now, opened for this request (its length read now, as
/// nginx's `fstat`), sent on the server's file path.
fn file_response(
    start_response: StartResponse,
    mut headers: HeaderMap,
    name: &str,
) -> Result<Body, AppError> {
    let dir = FILES_DIR.get().ok_or("the files directory is not set")?;
    let body = Body::file(File::open(dir.join(name))?)?;
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    start_response.call(StatusCode::OK, headers)?;
    Ok(body)
}

/// The command line: where to listen, how many workers, where the files are.
struct Args {
    bind: String,
    workers: Option<usize>,
    files: Option<PathBuf>,
}

/// `--bind ADDR` (else `BENCH_BIND`, else 127.0.0.1:8000), `--workers N` and
/// `--files DIR` (else `BENCH_FILES_DIR`).
fn args() -> Result<Args, String> {
    let mut bind = std::env::var("BENCH_BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let mut workers = None;
    let mut files = std::env::var_os("BENCH_FILES_DIR").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().ok_or("--bind needs an address")?,
            "--workers" => {
                let n = args.next().ok_or("--workers needs a number")?;
                workers = Some(n.parse().map_err(|e| format!("--workers {n}: {e}"))?);
            }
            "--files" => files = Some(args.next().ok_or("--files needs a directory")?.into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        bind,
        workers,
        files,
    })
}

/// Writes the files of `GET /file/NAME` into a fresh temporary directory: bytes
/// that differ along the file, so that a misplaced span shows in a comparison.
fn write_files() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("gateway-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, len) in FILES {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        write_file(&dir.join(name), &bytes)?;
    }
    Ok(dir)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    File::create(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn main() {
    let result = args().and_then(|args| {
        let Args {
            bind,
            workers,
            files,
        } = args;
        let files = match files {
            Some(dir) => dir,
            None => write_files()?,
        };
        let _ = FILES_DIR.set(files);
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
