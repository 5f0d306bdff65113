//! Readiness notification for service managers (systemd `Type=notify`): READY=1
//! once serving, STOPPING=1 when a stop begins.

use sd_notify::NotifyState;

/// Tells the service manager the server is serving (`READY=1`, with a status line
/// naming where). Nothing happens without `NOTIFY_SOCKET`, and worker processes
/// under `--processes` never send: their supervisor speaks for them.
pub(crate) fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells the service manager the server is stopping (`STOPPING=1`).
pub(crate) fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

fn send(states: &[NotifyState<'_>]) {
    if crate::processes::is_worker() {
        return;
    }
    if let Err(e) = sd_notify::notify(states) {
        log::warn!("cannot notify the service manager through NOTIFY_SOCKET: {e}");
    }
}
