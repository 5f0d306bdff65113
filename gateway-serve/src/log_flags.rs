//! The formats of the logs: the access log's (combined or JSON lines) and the
//! error log's (text or JSON lines); where they go is `--access-log`'s job.

use clap::{Args, ValueEnum};
use reference_server::AccessFormat;

/// The log format flags.
#[derive(Debug, Clone, Args)]
pub struct LogFormatArgs {
    /// Format of the access log lines: combined (the combined log format plus the
    /// duration in microseconds) or json (one object per line, with the request id).
    #[arg(long, env = "GATEWAY_ACCESS_LOG_FORMAT", value_enum, default_value_t = AccessLogFormat::Combined)]
    pub access_log_format: AccessLogFormat,

    /// Format of the error log on standard error: text, or json (one object per
    /// line: time, level, target, message).
    #[arg(long, env = "GATEWAY_LOG_FORMAT", value_enum, default_value_t = ErrorLogFormat::Text)]
    pub log_format: ErrorLogFormat,
}

/// `--access-log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessLogFormat {
    /// The combined log format, then the duration in microseconds.
    Combined,
    /// JSON lines.
    Json,
}

impl From<AccessLogFormat> for AccessFormat {
    fn from(format: AccessLogFormat) -> Self {
        match format {
            AccessLogFormat::Combined => AccessFormat::Combined,
            AccessLogFormat::Json => AccessFormat::Json,
        }
    }
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorLogFormat {
    /// `[time LEVEL] message` lines.
    Text,
    /// JSON lines.
    Json,
}
