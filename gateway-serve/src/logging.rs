//! The error log: `log` records to standard error at the level of `--log-level`, as
//! text or JSON lines, and a panic hook that leaves reporting app panics to the server.

use std::io::Write;

use crate::log_flags::ErrorLogFormat;

/// Sets up the error log at `level`. A second call (a test calling `main` twice)
/// keeps the first logger.
pub(crate) fn init(level: log::LevelFilter, format: ErrorLogFormat) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level).format_target(false);
    if format == ErrorLogFormat::Json {
        builder.format(|out, record| {
            let line = serde_json::json!({
                "time": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
                "level": record.level().as_str(),
                "target": record.target(),
                "pid": std::process::id(),
                "message": record.args().to_string(),
            });
            writeln!(out, "{line}")
        });
    }
    let _ = builder.try_init();
    // An app's panic is caught, answered and logged by the server; the default
    // hook would also print it, with a backtrace when RUST_BACKTRACE is set, and
    // symbolising one holds a worker for a long time.
    std::panic::set_hook(Box::new(|info| {
        log::debug!("panic: {info}");
    }));
}
