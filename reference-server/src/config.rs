//! Every limit and timeout of the server in one place, with its default and why.
//! Parsing settings from a command line is the binary's job, not this file's.

use std::time::Duration;

use crate::http1::{ChunkedLimits, HeadLimits};
use crate::TrustedProxies;

/// Default worker threads per core: a worker blocks while an app waits on its own
/// I/O, so a few per core keep the cores busy.
pub const WORKERS_PER_CORE: usize = 4;

/// Fewest worker threads by default, however few cores there are.
pub const MIN_WORKERS: usize = 4;

/// Default requests that may wait per worker thread before new ones get 503.
pub const QUEUE_DEPTH_PER_WORKER: usize = 64;

/// The server's settings. `Config::default()` holds the reference defaults of
/// SPEC.md section 11.4, and is the only place they are written: the command line
/// of `gateway-serve` reads its defaults from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Worker threads that run the app (default [`WORKERS_PER_CORE`] per core, at
    /// least [`MIN_WORKERS`]).
    pub workers: usize,
    /// Complete requests that may wait for a worker; beyond, new requests get 503
    /// at once (default [`QUEUE_DEPTH_PER_WORKER`] per worker, see
    /// [`Config::default_queue_depth`]).
    pub queue_depth: usize,
    /// Open connections at most; past it, accepting pauses (default 10,000).
    pub max_connections: usize,
    /// Request line, header count and head size limits (8 KiB, 100, 64 KiB); the
    /// head size counts the request line, the header fields and the empty line.
    pub head_limits: HeadLimits,
    /// Chunk-size line and trailer limits (4 KiB, 16 KiB).
    pub chunked_limits: ChunkedLimits,
    /// Largest request body (default 1 GiB): a Content-Length above it gets 413
    /// before any byte of the body is read.
    pub max_body_bytes: u64,
    /// Unread body bytes the server reads and discards to keep a connection alive
    /// after the app returned (default 64 KiB); beyond, it closes instead.
    pub drain_bytes: u64,
    /// Total time allowed for a request head from its first byte (default 30 s):
    /// slow-loris clients are cut off here.
    pub head_timeout: Duration,
    /// Idle time allowed between requests on a keep-alive connection (default
    /// 75 s, above the 60 s of common load balancers).
    pub keep_alive_timeout: Duration,
    /// Time a body read may wait for progress (default 30 s).
    pub body_read_timeout: Duration,
    /// Request body bytes the connection table buffers before a worker is spent
    /// on the request (default 1 MiB, twice waitress's 512 KiB in-memory buffer,
    /// so that uploads up to a megabyte never hold a worker while they arrive): a
    /// body of a known length up to this size reaches the app complete; a larger
    /// one streams from the socket as the app reads (an app may answer without
    /// reading it); a chunked body is handed over when complete or when this much
    /// of it is buffered.
    pub body_buffer_bytes: u64,
    /// Request body bytes all connections together may buffer that way (default
    /// 128 MiB, so a flood of half-sent bodies cannot take the memory): a body
    /// takes its share (its Content-Length, or [`Config::body_buffer_bytes`] for a
    /// chunked one) before it is buffered, and gives it back when a worker takes
    /// the request; a body that finds too little left is not buffered, and its
    /// request goes to a worker at once, the body streaming as a larger one does.
    pub body_buffer_total_bytes: u64,
    /// The slowest a request body may arrive, in bytes per second averaged since
    /// its head was complete, once [`Config::min_rate_grace`] has passed (default
    /// 240, Kestrel's); a slower body gets 408 and a close. 0 turns the check off.
    pub min_body_rate: u64,
    /// The slowest a client may take a response, in bytes per second averaged
    /// since the socket first made the response wait, once the grace has passed
    /// (default 240); a slower response is cut and logged. 0 turns it off.
    pub min_response_rate: u64,
    /// How long a body or a response may be slower than its minimum rate before
    /// the rate is enforced (default 5 s).
    pub min_rate_grace: Duration,
    /// Time a response write may wait for progress (default 30 s).
    pub write_timeout: Duration,
    /// On graceful shutdown, how long in-flight requests may take (default 30 s).
    pub graceful_timeout: Duration,
    /// Whether to send a `Server` header (default on).
    pub server_header: bool,
    /// The `SERVER_NAME` used when a request names no host (default: the bound
    /// address).
    pub server_name: Option<String>,
    /// The peers whose `Forwarded` and `X-Forwarded-*` headers set the client's
    /// address, the scheme and the host the environ reports; from other peers
    /// those headers are removed (SPEC PROXY rules). Default: loopback
    /// (`127.0.0.1`, `::1`), as gunicorn; Unix-socket peers are always trusted.
    pub trusted_proxies: TrustedProxies,
}

impl Config {
    /// The default number of worker threads on this machine.
    pub fn default_workers() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_mul(WORKERS_PER_CORE).max(MIN_WORKERS)
    }

    /// The default queue depth for `workers` worker threads.
    pub fn default_queue_depth(workers: usize) -> usize {
        workers.saturating_mul(QUEUE_DEPTH_PER_WORKER)
    }
}

impl Default for Config {
    fn default() -> Self {
        let workers = Self::default_workers();
        Self {
            workers,
            queue_depth: Self::default_queue_depth(workers),
            max_connections: 10_000,
            head_limits: HeadLimits::default(),
            chunked_limits: ChunkedLimits::default(),
            max_body_bytes: 1 << 30,
            drain_bytes: 64 * 1024,
            head_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(30),
            body_buffer_bytes: 1 << 20,
            body_buffer_total_bytes: 128 << 20,
            min_body_rate: 240,
            min_response_rate: 240,
            min_rate_grace: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
            graceful_timeout: Duration::from_secs(30),
            server_header: true,
            server_name: None,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// The value of the `Server` header.
pub const SERVER_SOFTWARE: &str = concat!("gateway-reference/", env!("CARGO_PKG_VERSION"));
