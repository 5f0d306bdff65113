//! What the peer servers of `bench/run.sh` share: the three benchmark routes'
//! constants and the `--bind` argument.
//!
//! Every server in the benchmark answers the same requests:
//!
//! - `GET /`: `Hello, World!` (13 bytes, `Content-Length`),
//! - `POST /echo`: the request body, back, with its `Content-Length`,
//! - `GET /stream`: 1 MiB in 64 KiB chunks with no declared length (chunked),
//!
//! and `404` for anything else.

/// The body of `GET /`.
pub const HELLO: &[u8] = b"Hello, World!";

/// Size of one chunk of `GET /stream`.
pub const STREAM_CHUNK_LEN: usize = 64 * 1024;

/// Chunks in `GET /stream`: 16 x 64 KiB = 1 MiB.
pub const STREAM_CHUNKS: usize = 16;

/// One chunk of `GET /stream`, shared by every response.
pub static STREAM_CHUNK: [u8; STREAM_CHUNK_LEN] = [b'x'; STREAM_CHUNK_LEN];

/// The address to listen on: `--bind ADDR`, else `BENCH_BIND`, else
/// `127.0.0.1:8000`.
pub fn bind_addr() -> String {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--bind" {
            if let Some(addr) = args.next() {
                return addr;
            }
        } else if let Some(addr) = arg.strip_prefix("--bind=") {
            return addr.to_owned();
        }
    }
    std::env::var("BENCH_BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned())
}
