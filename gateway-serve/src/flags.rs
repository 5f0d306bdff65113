//! The server's flags: every setting of `Config`, its environment variable, its help
//! and its parsing, plus the address and the logs. Defaults are `Config`'s, not here.

use std::sync::LazyLock;

use clap::Args;

use reference_server::config::{MIN_WORKERS, QUEUE_DEPTH_PER_WORKER, WORKERS_PER_CORE};
use reference_server::http1::{ChunkedLimits, HeadLimits};
use reference_server::Config;

use crate::listen::ListenArgs;
use crate::log_flags::LogFormatArgs;
use crate::metrics::MetricsArgs;
use crate::proxy_flags::ProxyArgs;
use crate::units::{
    parse_count, parse_duration, parse_limit_size, parse_size, parse_timeout, ByteSize, TimeSpan,
};

/// The library's defaults, computed once: every default shown by `--help` and
/// used when a flag is absent comes from here.
static DEFAULTS: LazyLock<Config> = LazyLock::new(Config::default);

/// The flags every command built on `gateway-serve` has.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Where to listen, and how.
    #[command(flatten)]
    pub listen: ListenArgs,

    /// Worker threads that run the app.
    #[arg(long, env = "GATEWAY_WORKERS", help = workers_help(), value_parser = parse_count)]
    pub workers: Option<usize>,

    /// Complete requests that may wait for a busy worker; past it, 503 at once.
    #[arg(long, env = "GATEWAY_QUEUE_DEPTH", help = queue_depth_help(), value_parser = parse_count)]
    pub queue_depth: Option<usize>,

    /// Open connections at most; past it, accepting pauses.
    #[arg(long, env = "GATEWAY_MAX_CONNECTIONS", value_parser = parse_count,
          default_value_t = DEFAULTS.max_connections)]
    pub max_connections: usize,

    /// Longest request line, without its CRLF (longer: 414).
    #[arg(long, env = "GATEWAY_MAX_REQUEST_LINE", value_parser = parse_limit_size,
          default_value_t = ByteSize::of(DEFAULTS.head_limits.max_request_line))]
    pub max_request_line: ByteSize,

    /// Most header fields in a request (more: 431).
    #[arg(long, env = "GATEWAY_MAX_HEADERS", value_parser = parse_count,
          default_value_t = DEFAULTS.head_limits.max_headers)]
    pub max_headers: usize,

    /// Largest request head: request line, header fields and the empty line
    /// (larger: 431).
    #[arg(long, env = "GATEWAY_MAX_HEAD_SIZE", value_parser = parse_limit_size,
          default_value_t = ByteSize::of(DEFAULTS.head_limits.max_head_bytes))]
    pub max_head_size: ByteSize,

    /// Largest request body (larger: 413, decided from Content-Length before
    /// reading; a chunked body fails its read). 0 accepts only empty bodies.
    #[arg(long, env = "GATEWAY_MAX_BODY_SIZE", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.max_body_bytes))]
    pub max_body_size: ByteSize,

    /// Longest chunk-size line of a chunked body, extensions included, without its
    /// CRLF (longer: the body read fails).
    #[arg(long, env = "GATEWAY_MAX_CHUNK_LINE", value_parser = parse_limit_size,
          default_value_t = ByteSize::of(DEFAULTS.chunked_limits.max_chunk_line))]
    pub max_chunk_line: ByteSize,

    /// Largest trailer section of a chunked body, its final CRLF included (larger:
    /// the body read fails).
    #[arg(long, env = "GATEWAY_MAX_TRAILER_SIZE", value_parser = parse_limit_size,
          default_value_t = ByteSize::of(DEFAULTS.chunked_limits.max_trailer_bytes))]
    pub max_trailer_size: ByteSize,

    /// Most unread body bytes the server reads and discards after the app returned
    /// to keep the connection; more: it closes instead. 0 always closes.
    #[arg(long, env = "GATEWAY_MAX_DRAIN_SIZE", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.drain_bytes))]
    pub max_drain_size: ByteSize,

    /// Time a client has to send a whole request head (slow clients are cut).
    #[arg(long, env = "GATEWAY_HEAD_TIMEOUT", value_parser = parse_timeout,
          default_value_t = TimeSpan(DEFAULTS.head_timeout))]
    pub head_timeout: TimeSpan,

    /// Idle time allowed between requests on a keep-alive connection.
    #[arg(long, env = "GATEWAY_KEEP_ALIVE", value_parser = parse_duration,
          default_value_t = TimeSpan(DEFAULTS.keep_alive_timeout))]
    pub keep_alive: TimeSpan,

    /// Time a request body read may wait for the client.
    #[arg(long, env = "GATEWAY_BODY_TIMEOUT", value_parser = parse_timeout,
          default_value_t = TimeSpan(DEFAULTS.body_read_timeout))]
    pub body_timeout: TimeSpan,

    /// Time a response write may wait for the client.
    #[arg(long, env = "GATEWAY_WRITE_TIMEOUT", value_parser = parse_timeout,
          default_value_t = TimeSpan(DEFAULTS.write_timeout))]
    pub write_timeout: TimeSpan,

    /// Request body bytes buffered before a worker takes the request: a body up to
    /// this size costs no worker while it arrives; a larger one streams. 0 buffers
    /// nothing.
    #[arg(long, env = "GATEWAY_BODY_BUFFER_SIZE", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.body_buffer_bytes))]
    pub body_buffer_size: ByteSize,

    /// Request body bytes all connections together may buffer that way: a body
    /// that finds this spent streams to a worker at once. 0 buffers nothing.
    #[arg(long, env = "GATEWAY_BODY_BUFFER_TOTAL", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.body_buffer_total_bytes))]
    pub body_buffer_total: ByteSize,

    /// Slowest request body, in bytes per second once the grace has passed
    /// (slower: 408 and a close). 0 turns the check off.
    #[arg(long, env = "GATEWAY_MIN_BODY_RATE", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.min_body_rate))]
    pub min_body_rate: ByteSize,

    /// Slowest a client may read a response, in bytes per second once the grace
    /// has passed (slower: the response is cut). 0 turns the check off.
    #[arg(long, env = "GATEWAY_MIN_RESPONSE_RATE", value_parser = parse_size,
          default_value_t = ByteSize(DEFAULTS.min_response_rate))]
    pub min_response_rate: ByteSize,

    /// How long a body or a response may be slower than its minimum rate before
    /// the rate is enforced.
    #[arg(long, env = "GATEWAY_MIN_RATE_GRACE", value_parser = parse_duration,
          default_value_t = TimeSpan(DEFAULTS.min_rate_grace))]
    pub min_rate_grace: TimeSpan,

    /// On SIGTERM or Ctrl-C, how long in-flight requests may still run.
    #[arg(long, env = "GATEWAY_GRACEFUL_TIMEOUT", value_parser = parse_duration,
          default_value_t = TimeSpan(DEFAULTS.graceful_timeout))]
    pub graceful_timeout: TimeSpan,

    /// Access log: "off", "stdout" (or "-"), "stderr", or a file path to append to
    /// (reopened on SIGUSR1).
    #[arg(long, env = "GATEWAY_ACCESS_LOG", default_value = "off")]
    pub access_log: String,

    /// The formats of the logs.
    #[command(flatten)]
    pub log_formats: LogFormatArgs,

    /// Error log level: error, warn, info, debug or trace.
    #[arg(long, env = "GATEWAY_LOG_LEVEL", default_value = "info")]
    pub log_level: log::LevelFilter,

    /// Do not send a Server header.
    #[arg(long, env = "GATEWAY_NO_SERVER_HEADER")]
    pub no_server_header: bool,

    /// Which proxies are believed.
    #[command(flatten)]
    pub proxies: ProxyArgs,

    /// Where metrics are served.
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

impl ServerArgs {
    /// The server settings these flags describe.
    pub fn config(&self) -> Config {
        let workers = self.workers.unwrap_or(DEFAULTS.workers);
        // Every field named, so a new setting in Config cannot go without a flag
        // (or a deliberate choice here) unnoticed.
        Config {
            workers,
            queue_depth: self
                .queue_depth
                .unwrap_or_else(|| Config::default_queue_depth(workers)),
            max_connections: self.max_connections,
            head_limits: HeadLimits {
                max_request_line: self.max_request_line.to_usize(),
                max_headers: self.max_headers,
                max_head_bytes: self.max_head_size.to_usize(),
            },
            chunked_limits: ChunkedLimits {
                max_chunk_line: self.max_chunk_line.to_usize(),
                max_trailer_bytes: self.max_trailer_size.to_usize(),
            },
            max_body_bytes: self.max_body_size.0,
            drain_bytes: self.max_drain_size.0,
            head_timeout: self.head_timeout.0,
            keep_alive_timeout: self.keep_alive.0,
            body_read_timeout: self.body_timeout.0,
            write_timeout: self.write_timeout.0,
            body_buffer_bytes: self.body_buffer_size.0,
            body_buffer_total_bytes: self.body_buffer_total.0,
            min_body_rate: self.min_body_rate.0,
            min_response_rate: self.min_response_rate.0,
            min_rate_grace: self.min_rate_grace.0,
            graceful_timeout: self.graceful_timeout.0,
            server_header: !self.no_server_header,
            server_name: DEFAULTS.server_name.clone(),
            trusted_proxies: self.proxies.forwarded_allow_ips.clone(),
        }
    }
}

/// The help of --workers: its default depends on the machine, so it is written
/// from `Config`'s rule and shows this machine's value too.
fn workers_help() -> String {
    format!(
        "Worker threads that run the app [default: {WORKERS_PER_CORE} per core, at least \
         {MIN_WORKERS}; {} here]",
        DEFAULTS.workers
    )
}

/// The help of --queue-depth: its default follows --workers, so it is a rule.
fn queue_depth_help() -> String {
    format!(
        "Complete requests that may wait for a busy worker; past it, 503 at once \
         [default: {QUEUE_DEPTH_PER_WORKER} per worker]"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};

    /// The server's flags alone, as a command.
    #[derive(Debug, Parser)]
    #[command(name = "gateway-serve")]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    #[test]
    fn bind_values_repeat_and_a_bad_one_exits_2_naming_the_flag() {
        let cli = Cli::try_parse_from([
            "gateway-serve",
            "--bind",
            "127.0.0.1:0",
            "--bind",
            "unix:/tmp/x.sock",
            "--bind",
            "fd://3",
        ])
        .unwrap();
        let shown: Vec<String> = cli
            .server
            .listen
            .bind
            .iter()
            .map(|b| b.to_string())
            .collect();
        assert_eq!(shown, ["127.0.0.1:0", "unix:/tmp/x.sock", "fd://3"]);
        for bad in ["127.0.0.1", "unix:", "fd://1", "::1:8000"] {
            let error = Cli::try_parse_from(["gateway-serve", "--bind", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains("--bind"), "{error}");
        }
    }

    #[test]
    fn zero_is_refused_where_nothing_could_pass_with_exit_code_2() {
        for flag in [
            "--workers",
            "--queue-depth",
            "--max-connections",
            "--max-request-line",
            "--max-headers",
            "--max-head-size",
            "--max-chunk-line",
            "--max-trailer-size",
            "--head-timeout",
            "--body-timeout",
            "--write-timeout",
        ] {
            let error = Cli::try_parse_from(["gateway-serve", flag, "0"]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{flag}");
            assert_eq!(error.exit_code(), 2, "{flag}");
            assert!(
                error.to_string().contains("0 is not allowed here"),
                "{error}"
            );
        }
        for flag in [
            "--max-body-size",
            "--max-drain-size",
            "--keep-alive",
            "--graceful-timeout",
            "--body-buffer-size",
            "--body-buffer-total",
            "--min-body-rate",
            "--min-response-rate",
            "--min-rate-grace",
        ] {
            assert!(
                Cli::try_parse_from(["gateway-serve", flag, "0"]).is_ok(),
                "{flag}"
            );
        }
    }

    #[test]
    fn forwarded_allow_ips_takes_addresses_and_ranges_and_refuses_names_with_exit_2() {
        let cli = Cli::parse_from(["gateway-serve", "--forwarded-allow-ips", "10.0.0.0/8, ::1"]);
        let trusted = cli.server.config().trusted_proxies;
        assert!(trusted.trusts_ip("10.9.8.7".parse().unwrap()));
        assert!(!trusted.trusts_ip("127.0.0.1".parse().unwrap()));
        let none = Cli::parse_from(["gateway-serve", "--forwarded-allow-ips", ""]);
        assert!(none.server.config().trusted_proxies.is_empty());
        let error = Cli::try_parse_from(["gateway-serve", "--forwarded-allow-ips", "proxy.local"])
            .unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("--forwarded-allow-ips"),
            "{error}"
        );
        assert!(error.to_string().contains("CIDR"), "{error}");
    }

    #[test]
    fn without_flags_the_config_is_the_library_default() {
        assert_eq!(
            Cli::parse_from(["gateway-serve"]).server.config(),
            Config::default()
        );
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
        let config = cli.server.config();
        assert_eq!(config.workers, 2);
        assert_eq!(config.queue_depth, 2 * QUEUE_DEPTH_PER_WORKER);
        assert_eq!(config.keep_alive_timeout, Duration::from_secs(5));
        assert_eq!(config.max_body_bytes, 1 << 20);
    }

    /// One setting of SPEC.md §11.4's table, as the table and a config express it.
    #[derive(Debug, PartialEq)]
    enum Limit {
        Bytes(u64),
        Count(usize),
        Time(Duration),
    }

    impl Limit {
        /// Reads `text` (a SPEC default or a flag value) as a limit of the same kind.
        fn parse_like(&self, text: &str) -> Limit {
            match self {
                Limit::Bytes(_) => Limit::Bytes(parse_size(text).unwrap().0),
                Limit::Count(_) => Limit::Count(text.parse().unwrap()),
                Limit::Time(_) => Limit::Time(parse_duration(text).unwrap().0),
            }
        }
    }

    /// A row of the table: its first cell, the flag and variable that set it, and
    /// where a config keeps it.
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        fn(&Config) -> Limit,
    );

    fn rows() -> [Row; 15] {
        [
            (
                "request line",
                "max-request-line",
                "GATEWAY_MAX_REQUEST_LINE",
                |c| Limit::Bytes(c.head_limits.max_request_line as u64),
            ),
            (
                "header fields (count)",
                "max-headers",
                "GATEWAY_MAX_HEADERS",
                |c| Limit::Count(c.head_limits.max_headers),
            ),
            (
                "request head (request line, header fields and the empty line)",
                "max-head-size",
                "GATEWAY_MAX_HEAD_SIZE",
                |c| Limit::Bytes(c.head_limits.max_head_bytes as u64),
            ),
            (
                "request body",
                "max-body-size",
                "GATEWAY_MAX_BODY_SIZE",
                |c| Limit::Bytes(c.max_body_bytes),
            ),
            (
                "chunk-size line with extensions",
                "max-chunk-line",
                "GATEWAY_MAX_CHUNK_LINE",
                |c| Limit::Bytes(c.chunked_limits.max_chunk_line as u64),
            ),
            (
                "request head deadline (total)",
                "head-timeout",
                "GATEWAY_HEAD_TIMEOUT",
                |c| Limit::Time(c.head_timeout),
            ),
            ("keep-alive idle", "keep-alive", "GATEWAY_KEEP_ALIVE", |c| {
                Limit::Time(c.keep_alive_timeout)
            }),
            (
                "body read inactivity",
                "body-timeout",
                "GATEWAY_BODY_TIMEOUT",
                |c| Limit::Time(c.body_read_timeout),
            ),
            (
                "response write inactivity",
                "write-timeout",
                "GATEWAY_WRITE_TIMEOUT",
                |c| Limit::Time(c.write_timeout),
            ),
            (
                "unread body drain bound",
                "max-drain-size",
                "GATEWAY_MAX_DRAIN_SIZE",
                |c| Limit::Bytes(c.drain_bytes),
            ),
            (
                "request body buffered before a worker takes it",
                "body-buffer-size",
                "GATEWAY_BODY_BUFFER_SIZE",
                |c| Limit::Bytes(c.body_buffer_bytes),
            ),
            (
                "request bodies buffered that way, all connections together",
                "body-buffer-total",
                "GATEWAY_BODY_BUFFER_TOTAL",
                |c| Limit::Bytes(c.body_buffer_total_bytes),
            ),
            (
                "minimum request body rate (bytes/s)",
                "min-body-rate",
                "GATEWAY_MIN_BODY_RATE",
                |c| Limit::Bytes(c.min_body_rate),
            ),
            (
                "minimum response rate (bytes/s)",
                "min-response-rate",
                "GATEWAY_MIN_RESPONSE_RATE",
                |c| Limit::Bytes(c.min_response_rate),
            ),
            (
                "grace before a minimum rate applies",
                "min-rate-grace",
                "GATEWAY_MIN_RATE_GRACE",
                |c| Limit::Time(c.min_rate_grace),
            ),
        ]
    }

    /// The (limit, reference default) cells of SPEC.md §11.4's table.
    fn spec_table() -> Vec<(String, String)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../SPEC.md");
        let spec = std::fs::read_to_string(path).expect("read SPEC.md");
        let section = spec
            .split("\n### 11.4 ")
            .nth(1)
            .expect("SPEC.md has a section 11.4");
        // The first table of the section, up to the first line that is not a row.
        let mut lines = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'));
        let header = lines.next().expect("section 11.4 has a table");
        assert!(
            header.contains("reference default"),
            "unexpected table: {header}"
        );
        lines
            .skip(1)
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                (cells[0].to_owned(), cells[1].to_owned())
            })
            .collect()
    }

    #[test]
    fn every_limit_in_spec_has_its_default_a_flag_and_an_env_var() {
        let table = spec_table();
        let rows = rows();
        let library = Config::default();
        let cli = Cli::parse_from(["gateway-serve"]).server.config();
        let command = Cli::command();
        for (name, default) in &table {
            let (_, flag, env, get) = rows
                .iter()
                .find(|(row, ..)| row == name)
                .unwrap_or_else(|| panic!("SPEC.md §11.4 lists {name:?}, unknown to this test"));
            let expected = get(&library);
            assert_eq!(
                expected.parse_like(default),
                expected,
                "SPEC.md vs Config::default, {name}"
            );
            assert_eq!(
                get(&cli),
                expected,
                "gateway-serve without flags vs Config::default, {name}"
            );

            let arg = command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("no --{flag} for {name}"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(*env),
                "--{flag}"
            );
            let probe = if matches!(expected, Limit::Time(_)) {
                "7s"
            } else {
                "7"
            };
            let set = Cli::parse_from(["gateway-serve", &format!("--{flag}"), probe])
                .server
                .config();
            assert_eq!(
                get(&set),
                expected.parse_like(probe),
                "--{flag} sets {name}"
            );
        }
        for (row, ..) in &rows {
            assert!(
                table.iter().any(|(name, _)| name == row),
                "SPEC.md §11.4 lost {row:?}"
            );
        }
    }
}
