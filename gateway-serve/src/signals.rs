//! What each signal does to a serving process: TERM and INT stop it gracefully (a
//! second one at once), USR1 reopens the access log; HUP, TTIN, TTOU, USR2 are logged.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;

use reference_server::Controller;

use crate::serve::EXIT_FORCED;

/// The table of signals, shown at the end of `--help`.
pub(crate) const SIGNALS_HELP: &str = "\
Signals: TERM or INT stop gracefully (in-flight requests finish within
--graceful-timeout; exit 0, or 3 if requests were cut), a second one stops at
once (exit 130); USR1 reopens the access log file (after a rotation). Under
--processes, to the supervisor: HUP reloads (new worker processes start, the old
ones stop once the new ones serve; the sockets stay open), TTIN adds a worker
process, TTOU removes one, USR1 is passed to every worker. Without --processes,
HUP, TTIN and TTOU are logged and ignored; USR2 always is (no binary upgrade).";

/// The signal handlers, installed before the app loads and the server accepts:
/// a signal that arrives before [`Installed::handle`] waits for it, so no signal
/// sent to a process that may already answer requests kills it.
pub(crate) struct Installed(Signals);

/// Installs the handlers for every signal in [`SIGNALS_HELP`].
pub(crate) fn install() -> std::io::Result<Installed> {
    Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU]).map(Installed)
}

impl Installed {
    /// Starts the thread that turns signals, those already pending included, into
    /// actions on `server`.
    pub(crate) fn handle(self, server: Controller) -> std::io::Result<()> {
        let Installed(mut signals) = self;
        std::thread::Builder::new()
            .name("gateway-signals".into())
            .spawn(move || {
                let mut stopping = false;
                for signal in signals.forever() {
                    match signal {
                        SIGTERM | SIGINT if stopping => {
                            log::warn!("{}: stopping at once", name(signal));
                            std::process::exit(EXIT_FORCED);
                        }
                        SIGTERM | SIGINT => {
                            stopping = true;
                            log::info!(
                                "{}: stopping gracefully (send it again to stop at once)",
                                name(signal)
                            );
                            crate::notify::stopping();
                            server.shutdown();
                        }
                        SIGUSR1 => match server.reopen_access_log() {
                            Ok(()) => log::info!("SIGUSR1: reopened the access log"),
                            Err(e) => log::error!(
                                "SIGUSR1: cannot reopen the access log, still writing to the old file: {e}"
                            ),
                        },
                        SIGHUP | SIGTTIN | SIGTTOU if crate::processes::is_worker() => log::debug!(
                            "{}: ignored by a worker process (its supervisor acts on it)",
                            name(signal)
                        ),
                        SIGHUP | SIGTTIN | SIGTTOU => log::info!(
                            "{}: ignored; a single process has no worker processes to reload or count (run with --processes)",
                            name(signal)
                        ),
                        _ => log::info!("{}: ignored; there is no binary upgrade yet", name(signal)),
                    }
                }
            })?;
        Ok(())
    }
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        SIGUSR1 => "SIGUSR1",
        SIGUSR2 => "SIGUSR2",
        SIGTTIN => "SIGTTIN",
        SIGTTOU => "SIGTTOU",
        _ => "a signal",
    }
}
