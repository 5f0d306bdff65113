//! The command line of `gateway-serve`: every flag, its environment variable, its
//! help and its parsing, turned into a [`Config`]. Defaults are `Config`'s, not here.

use std::fmt;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use reference_server::config::{MIN_WORKERS, QUEUE_DEPTH_PER_WORKER, WORKERS_PER_CORE};
use reference_server::http1::{ChunkedLimits, HeadLimits};
use reference_server::Config;

/// What each size suffix means, shown at the end of `--help` and in the error
/// for a size that does not parse.
const SIZES_HELP: &str = "\
Sizes are whole numbers of bytes with an optional suffix, in any case:
  B = 1; k or kB = 1000, M or MB = 1000^2, G or GB = 1000^3 (SI, decimal);
  KiB = 1024, MiB = 1024^2, GiB = 1024^3 (IEC, binary).";

/// How durations are written, shown at the end of `--help`.
const DURATIONS_HELP: &str = "Durations look like 30s, 500ms, 2m or 1h 30m.";

/// The library's defaults, computed once: every default shown by `--help` and
/// used when a flag is absent comes from here.
static DEFAULTS: LazyLock<Config> = LazyLock::new(Config::default);

/// Serve a Gateway Interface 1.0 app: with no arguments, the demo app (hello world
/// at / and a file upload form at /upload) on 127.0.0.1:8000.
///
/// Stop with Ctrl-C or SIGTERM: the server stops accepting, closes idle
/// connections, lets in-flight requests finish within --graceful-timeout, and exits
/// 0 (or 3 if requests had to be cut). A second signal exits at once with 130.
#[derive(Debug, Parser)]
#[command(name = "gateway-serve", version, after_help = format!("{SIZES_HELP}\n{DURATIONS_HELP}"))]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "GATEWAY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,

    /// Which app to serve.
    #[arg(long, env = "GATEWAY_APP", value_enum, default_value_t = AppChoice::Demo)]
    pub app: AppChoice,

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

    /// On SIGTERM or Ctrl-C, how long in-flight requests may still run.
    #[arg(long, env = "GATEWAY_GRACEFUL_TIMEOUT", value_parser = parse_duration,
          default_value_t = TimeSpan(DEFAULTS.graceful_timeout))]
    pub graceful_timeout: TimeSpan,

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
    #[arg(long, env = "GATEWAY_MAX_UPLOAD_SIZE", default_value = "100MiB",
          value_parser = |text: &str| parse_limit_size(text).map(|size| size.0))]
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
            graceful_timeout: self.graceful_timeout.0,
            server_header: !self.no_server_header,
            server_name: DEFAULTS.server_name.clone(),
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

/// A number of bytes, shown in the largest unit that writes it exactly ("64KiB").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    fn of(bytes: usize) -> Self {
        Self(u64::try_from(bytes).unwrap_or(u64::MAX))
    }

    /// The size as a `usize` limit; past `usize::MAX` it makes no difference.
    pub fn to_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: [(u64, &str); 6] = [
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
            (1_000_000_000, "GB"),
            (1_000_000, "MB"),
            (1_000, "kB"),
        ];
        match SHOWN
            .iter()
            .find(|(unit, _)| self.0 != 0 && self.0 % unit == 0)
        {
            Some((unit, name)) => write!(f, "{}{name}", self.0 / unit),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A duration, shown in whole seconds or milliseconds when it is one ("75s").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan(pub Duration);

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.subsec_nanos();
        if nanos == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else if nanos % 1_000_000 == 0 {
            write!(f, "{}ms", self.0.as_millis())
        } else {
            write!(f, "{}", humantime::format_duration(self.0))
        }
    }
}

/// What each size suffix multiplies by, compared without regard to case.
///
/// Every suffix means what its standard says: k, M, G are SI prefixes (powers of
/// 1000) with or without the B, and KiB, MiB, GiB are the IEC binary ones (powers
/// of 1024). An earlier rule made `k` mean KiB but `kB` mean 1000, so `64k` and
/// `64kb` differed by 1,536 bytes; with the standards there is nothing to guess,
/// and SPEC.md's defaults are written in KiB and GiB, which say so.
const SIZE_SUFFIXES: [(&str, u64); 11] = [
    ("", 1),
    ("b", 1),
    ("k", 1_000),
    ("kb", 1_000),
    ("m", 1_000_000),
    ("mb", 1_000_000),
    ("g", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
];

/// Parses a size: a whole number of bytes with an optional suffix (see
/// [`SIZE_SUFFIXES`]); zero is allowed.
pub fn parse_size(text: &str) -> Result<ByteSize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let too_large = || format!("{text:?} is too large: at most {} bytes", u64::MAX);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a size: write a whole number of bytes, like 64KiB\n\n{SIZES_HELP}"
        ));
    }
    // Only digits: the one way to fail is to overflow.
    let n: u64 = digits.parse().map_err(|_| too_large())?;
    let suffix = suffix.trim();
    let (_, multiplier) = SIZE_SUFFIXES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(suffix))
        .ok_or_else(|| format!("unknown size suffix {suffix:?}\n\n{SIZES_HELP}"))?;
    n.checked_mul(*multiplier)
        .map(ByteSize)
        .ok_or_else(too_large)
}

/// Parses a size limit, which cannot be zero: no request would fit.
fn parse_limit_size(text: &str) -> Result<ByteSize, String> {
    match parse_size(text)? {
        ByteSize(0) => Err("0 is not allowed here: write a size of at least 1 byte".into()),
        size => Ok(size),
    }
}

/// Parses a count of threads, connections, requests or fields: at least 1.
fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 is not allowed here: write a whole number of at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{text:?} is not a count: write a whole number of at least 1"
        )),
    }
}

/// Parses "30s", "500ms", "2m", "1h 30m"; zero is allowed.
fn parse_duration(text: &str) -> Result<TimeSpan, String> {
    humantime::parse_duration(text)
        .map(TimeSpan)
        .map_err(|e| format!("{e}. {DURATIONS_HELP}"))
}

/// Parses a read or write timeout, which cannot be zero: every wait would fail.
fn parse_timeout(text: &str) -> Result<TimeSpan, String> {
    match parse_duration(text)? {
        TimeSpan(Duration::ZERO) => {
            Err("0 is not allowed here: write a duration above zero, like 30s".into())
        }
        span => Ok(span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    #[test]
    fn k_m_g_are_powers_of_1000_and_kib_mib_gib_powers_of_1024() {
        for (text, bytes) in [
            ("123", 123),
            (" 0 ", 0),
            ("8B", 8),
            ("64k", 64_000),
            ("64kb", 64_000),
            ("64KB", 64_000),
            ("2m", 2_000_000),
            ("10 MB", 10_000_000),
            ("1G", 1_000_000_000),
            ("8KiB", 8192),
            ("64kib", 65536),
            ("100MiB", 100 << 20),
            ("1GiB", 1 << 30),
        ] {
            assert_eq!(parse_size(text), Ok(ByteSize(bytes)), "{text:?}");
        }
    }

    #[test]
    fn a_bad_size_is_refused_with_the_suffixes_allowed() {
        for text in ["12 parsecs", "GiB", "1.5GiB", "-1", ""] {
            let error = parse_size(text).unwrap_err();
            assert!(
                error.contains("k or kB = 1000") && error.contains("KiB = 1024"),
                "{error}"
            );
        }
        assert!(parse_size("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("20000000000GiB")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn sizes_and_durations_shown_in_help_parse_back() {
        for bytes in [0, 1, 999, 1000, 1024, 64_000, 65536, 1 << 30, 3_000_000_000] {
            assert_eq!(
                parse_size(&ByteSize(bytes).to_string()),
                Ok(ByteSize(bytes))
            );
        }
        assert_eq!(ByteSize(65536).to_string(), "64KiB");
        for span in [
            Duration::ZERO,
            Duration::from_secs(75),
            Duration::from_millis(1500),
        ] {
            assert_eq!(
                parse_duration(&TimeSpan(span).to_string()),
                Ok(TimeSpan(span))
            );
        }
        assert_eq!(TimeSpan(Duration::from_secs(75)).to_string(), "75s");
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
            "--max-upload-size",
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
        ] {
            assert!(
                Cli::try_parse_from(["gateway-serve", flag, "0"]).is_ok(),
                "{flag}"
            );
        }
    }

    #[test]
    fn without_flags_the_config_is_the_library_default() {
        assert_eq!(
            Cli::parse_from(["gateway-serve"]).config(),
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
        let config = cli.config();
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

    fn rows() -> [Row; 10] {
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
        let cli = Cli::parse_from(["gateway-serve"]).config();
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
            let set = Cli::parse_from(["gateway-serve", &format!("--{flag}"), probe]).config();
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
