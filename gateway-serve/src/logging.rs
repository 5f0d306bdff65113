//! The error log: `log` records to standard error at the level of `--log-level`,
//! and a panic hook that leaves reporting app panics to the server.

/// Sets up the error log at `level`. A second call (a test calling `main` twice)
/// keeps the first logger.
pub(crate) fn init(level: log::LevelFilter) {
    let _ = env_logger::Builder::new()
        .filter_level(level)
        .format_target(false)
        .try_init();
    // An app's panic is caught, answered and logged by the server; the default
    // hook would also print it, with a backtrace when RUST_BACKTRACE is set, and
    // symbolising one holds a worker for a long time.
    std::panic::set_hook(Box::new(|info| {
        log::debug!("panic: {info}");
    }));
}
