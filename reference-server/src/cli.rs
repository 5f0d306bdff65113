//! The command line of `gateway-serve`: every flag, its environment variable, its
//! default and its help, turned into a [`Config`]. Serving is `main.rs`'s job.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use reference_server::Config;

/// Serve a Gateway Interface 1.0 app: with no arguments, the demo app (hello world
/// at / and a file upload form at /upload) on 127.0.0.1:8000.
///
/// Stop with Ctrl-C or SIGTERM: the server stops accepting, closes idle
/// connections, lets in-flight requests finish within --graceful-timeout, and exits
/// 0 (or 3 if requests had to be cut). A second signal exits at once with 130.
#[derive(Debug, Parser)]
#[command(name = "gateway-serve", version)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "GATEWAY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,

    /// Which app to serve.
    #[arg(long, env = "GATEWAY_APP", value_enum, default_value_t = AppChoice::Demo)]
    pub app: AppChoice,

    /// Worker threads that run the app [default: 4 per core, at least 4].
    #[arg(long, env = "GATEWAY_WORKERS")]
    pub workers: Option<usize>,

    /// Complete requests that may wait for a busy worker; past it, 503 at once
    /// [default: 64 per worker].
    #[arg(long, env = "GATEWAY_QUEUE_DEPTH")]
    pub queue_depth: Option<usize>,

    /// Open connections at most; past it, accepting pauses.
    #[arg(long, env = "GATEWAY_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Longest request line (longer: 414).
    #[arg(long, env = "GATEWAY_MAX_REQUEST_LINE", default_value = "8KiB", value_parser = parse_size)]
    pub max_request_line: u64,

    /// Most header fields in a request (more: 431).
    #[arg(long, env = "GATEWAY_MAX_HEADERS", default_value_t = 100)]
    pub max_headers: usize,

    /// Largest request head, request line and headers (larger: 431).
    #[arg(long, env = "GATEWAY_MAX_HEAD_SIZE", default_value = "64KiB", value_parser = parse_size)]
    pub max_head_size: u64,

    /// Largest request body (larger: 413, decided from Content-Length before reading).
    #[arg(long, env = "GATEWAY_MAX_BODY_SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_body_size: u64,

    /// Time a client has to send a whole request head (slow clients are cut).
    #[arg(long, env = "GATEWAY_HEAD_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub head_timeout: Duration,

    /// Idle time allowed between requests on a keep-alive connection.
    #[arg(long, env = "GATEWAY_KEEP_ALIVE", default_value = "75s", value_parser = parse_duration)]
    pub keep_alive: Duration,

    /// Time a request body read may wait for the client.
    #[arg(long, env = "GATEWAY_BODY_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// Time a response write may wait for the client.
    #[arg(long, env = "GATEWAY_WRITE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub write_timeout: Duration,

    /// On SIGTERM or Ctrl-C, how long in-flight requests may still run.
    #[arg(long, env = "GATEWAY_GRACEFUL_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub graceful_timeout: Duration,

    /// Access log: "off", "stdout", or a file path to append to.
    #[arg(long, env = "GATEWAY_ACCESS_LOG", default_value = "off")]
    pub access_log: String,

    /// Error log level: error, warn, info, debug or trace.
    #[arg(long, env = "GATEWAY_LOG_LEVEL", default_value = "info")]
    pub log_level: log::LevelFilter,

    /// Do not send a Server header.
    #[arg(long, env = "GATEWAY_NO_SERVER_HEADER")]
    pub no_server_header: bool,

    /// Where the demo app saves uploaded files.
    #[arg(long, env = "GATEWAY_UPLOAD_DIR", default_value = "uploads")]
    pub upload_dir: PathBuf,

    /// Largest file the demo app accepts.
    #[arg(long, env = "GATEWAY_MAX_UPLOAD_SIZE", default_value = "100MiB", value_parser = parse_size)]
    pub max_upload_size: u64,
}

/// The apps the command can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppChoice {
    /// Hello world at / and the upload form at /upload.
    Demo,
    /// Hello world only, for benchmarks.
    Hello,
    /// The conformance kit's fixture app (echo and misbehaving routes).
    Fixture,
}

impl Cli {
    /// The server settings these flags describe.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        if let Some(workers) = self.workers {
            config.workers = workers;
            config.queue_depth = workers * 64;
        }
        if let Some(depth) = self.queue_depth {
            config.queue_depth = depth;
        }
        config.max_connections = self.max_connections;
        config.head_limits.max_request_line = to_usize(self.max_request_line);
        config.head_limits.max_headers = self.max_headers;
        config.head_limits.max_head_bytes = to_usize(self.max_head_size);
        config.max_body_bytes = self.max_body_size;
        config.head_timeout = self.head_timeout;
        config.keep_alive_timeout = self.keep_alive;
        config.body_read_timeout = self.body_timeout;
        config.write_timeout = self.write_timeout;
        config.graceful_timeout = self.graceful_timeout;
        config.server_header = !self.no_server_header;
        config
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Parses "30s", "500ms", "2m", "1h 30m".
fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; write a duration like 30s, 500ms or 2m"))
}

/// Parses a size: a number of bytes with an optional unit (B, KB, MB, GB, or KiB,
/// MiB, GiB; k, m, g mean KiB, MiB, GiB).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size; write one like 8KiB, 64k or 1GiB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use B, KiB, MiB or GiB"
            ))
        }
    };
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("8KiB"), Ok(8192));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("10 MB"), Ok(10_000_000));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("99999999999999999999g").is_err());
    }

    #[test]
    fn defaults_match_the_library_and_spec() {
        let cli = Cli::parse_from(["gateway-serve"]);
        let config = cli.config();
        let defaults = Config::default();
        assert_eq!(cli.bind, "127.0.0.1:8000");
        assert_eq!(cli.app, AppChoice::Demo);
        assert_eq!(config.head_limits, defaults.head_limits);
        assert_eq!(config.max_body_bytes, defaults.max_body_bytes);
        assert_eq!(config.keep_alive_timeout, defaults.keep_alive_timeout);
        assert_eq!(config.head_timeout, defaults.head_timeout);
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::parse_from([
            "gateway-serve",
            "--workers",
            "2",
            "--keep-alive",
            "5s",
            "--max-body-size",
            "1MiB",
        ]);
        let config = cli.config();
        assert_eq!(config.workers, 2);
        assert_eq!(config.queue_depth, 128);
        assert_eq!(config.keep_alive_timeout, Duration::from_secs(5));
        assert_eq!(config.max_body_bytes, 1 << 20);
    }
}
