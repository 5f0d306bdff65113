//! What each signal does to a running server: TERM and INT stop it gracefully (a
//! second one at once), USR1 reopens the access log, HUP and USR2 are logged only.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;

use reference_server::Controller;

use crate::serve::EXIT_FORCED;

/// The table of signals, shown at the end of `--help`.
pub(crate) const SIGNALS_HELP: &str = "\
Signals: TERM or INT stop gracefully (in-flight requests finish within
--graceful-timeout; exit 0, or 3 if requests were cut), a second one stops at
once (exit 130); USR1 reopens the access log file (after a rotation); HUP and
USR2 are logged and ignored (there are no worker processes to reload, no binary
to upgrade yet).";

/// The signal handlers, installed before the app loads and the server accepts:
/// a signal that arrives before [`Installed::handle`] waits for it, so no signal
/// sent to a process that may already answer requests kills it.
pub(crate) struct Installed(Signals);

/// Installs the handlers for every signal in [`SIGNALS_HELP`].
pub(crate) fn install() -> std::io::Result<Installed> {
    Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2]).map(Installed)
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
                        SIGHUP => log::info!(
                            "SIGHUP: ignored; there are no worker processes to reload (restart to apply new settings)"
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
        _ => "a signal",
    }
}
