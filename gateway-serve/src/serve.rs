//! One run of the server for the command: open the access log, bind, start the
//! workers and the signal thread, wait for the stop, and turn it into an exit code.

use std::process::ExitCode;

use gateway_spec::App;
use reference_server::{AccessLog, Server};

use crate::flags::ServerArgs;
use crate::signals::Installed;

/// Exit code when the graceful timeout cut in-flight requests.
pub const EXIT_ABORTED: u8 = 3;
/// Exit code after a second SIGTERM or SIGINT stopped the server at once.
pub const EXIT_FORCED: i32 = 130;

/// Serves `app` with the settings of `flags` until a signal stops it, on
/// `listener` when a supervisor handed one over, else on `--bind`.
pub(crate) fn serve(
    flags: &ServerArgs,
    app: impl App,
    listener: Option<std::net::TcpListener>,
    signals: Installed,
) -> ExitCode {
    match run(flags, app, listener, signals) {
        Ok(code) => code,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    flags: &ServerArgs,
    app: impl App,
    listener: Option<std::net::TcpListener>,
    signals: Installed,
) -> Result<ExitCode, String> {
    let access_log = match flags.access_log.as_str() {
        "off" => AccessLog::Off,
        "stdout" | "-" => AccessLog::Stdout,
        path => AccessLog::file(path.as_ref()).map_err(|e| {
            format!("cannot open the access log {path}: {e}; check the directory exists and is writable")
        })?,
    };
    let server = match listener {
        Some(listener) => Server::from_listener(listener),
        None => Server::bind(flags.bind.as_str()).map_err(|e| e.to_string())?,
    };
    let handle = server
        .config(flags.config())
        .access_log(access_log)
        .spawn(app)
        .map_err(|e| e.to_string())?;
    signals
        .handle(handle.controller())
        .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    // Announced only once everything, signal handling included, is running.
    log::info!("serving on http://{} (Ctrl-C to stop)", handle.local_addr());
    let report = handle.join();
    if report.aborted > 0 {
        log::warn!(
            "the graceful timeout cut {} in-flight request(s)",
            report.aborted
        );
        return Ok(ExitCode::from(EXIT_ABORTED));
    }
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
