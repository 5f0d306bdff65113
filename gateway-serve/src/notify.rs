//! Readiness notification for service managers (systemd `Type=notify`): READY=1
//! once serving, RELOADING=1 while a reload replaces the workers, STOPPING=1.

use sd_notify::NotifyState;

/// Tells the service manager the server is serving (`READY=1`, with a status line
/// naming where). Nothing happens without `NOTIFY_SOCKET`. A worker process under
/// `--processes` tells its supervisor instead, which speaks for all of them.
pub(crate) fn ready(status: &str) {
    if crate::processes::is_worker() {
        crate::worker_process::ready();
        return;
    }
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells the service manager a reload began (`RELOADING=1` with the monotonic
/// time, as `Type=notify-reload` requires); `READY=1` follows when it is done.
pub(crate) fn reloading() {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = i128::from(now.tv_sec) * 1_000_000 + i128::from(now.tv_nsec) / 1_000;
    send(&[
        NotifyState::Reloading,
        NotifyState::MonotonicUsec(usec),
        NotifyState::Status("reloading"),
    ]);
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
