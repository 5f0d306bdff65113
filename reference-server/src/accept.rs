//! Accepting: the worker a listener woke takes every pending connection on it and
//! re-arms it; at the connection limit or out of file descriptors, accepting pauses.

use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::connection_table::Waiting;
use crate::listener::{Accepted, Listener};
use crate::poller::{listener_token, RESERVED_TOKENS};
use crate::shared::Shared;

/// How long accepting pauses after the process ran out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts every pending connection on listener `index`, then re-arms it (unless
/// paused).
pub(crate) fn accept_all(shared: &Shared, index: usize) {
    let listeners = shared
        .listeners
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(listener) = listeners.get(index) else {
        return; // stopping
    };
    loop {
        if shared.is_shutting_down() {
            return; // the listener stays disarmed
        }
        if at_limit(shared) {
            return; // re-armed when a connection closes
        }
        match listener.accept() {
            Ok(accepted) => {
                let peer = accepted.peer;
                if let Err(e) = adopt(shared, accepted) {
                    log::debug!("could not set up a connection from {peer:?}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return rearm(shared, index, listener)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_aborted(&e) => {} // the client gave up before we took it
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS: pause instead of spinning on the pending
                // connection; the supervisor resumes after the backoff.
                log::warn!("accept failed ({e}); pausing accepts for {ACCEPT_BACKOFF:?}");
                shared.pause().retry_at = Some(Instant::now() + ACCEPT_BACKOFF);
                return;
            }
        }
    }
}

/// A connection reset or aborted while it waited in the backlog: nothing to pause
/// for.
fn is_aborted(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// At a stop: accepts the connections the kernel completed that no worker took
/// yet, so that a request already sent on one is served instead of reset when the
/// listener closes. The connection limit does not apply: the listen backlog bounds
/// them, and they are closed (or served once) at once.
pub(crate) fn adopt_backlog(shared: &Shared, listener: &Listener) {
    loop {
        match listener.accept() {
            Ok(accepted) => {
                let peer = accepted.peer;
                if let Err(e) = adopt(shared, accepted) {
                    log::debug!("could not set up a connection from {peer:?}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted || is_aborted(&e) => {}
            Err(_) => return, // drained (WouldBlock), or out of descriptors
        }
    }
}

/// Whether the connection limit is reached; if so, marks accepting paused.
fn at_limit(shared: &Shared) -> bool {
    if shared.table.len() < shared.config.max_connections {
        return false;
    }
    let mut pause = shared.pause();
    // A connection may have closed since the count: look again under the lock
    // that `resume_after_close` takes.
    pause.at_limit = shared.table.len() >= shared.config.max_connections;
    pause.at_limit
}

/// Arms every listener again (unless a stop took them away).
pub(crate) fn resume(shared: &Shared) {
    let listeners = shared
        .listeners
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (index, listener) in listeners.iter().enumerate() {
        rearm(shared, index, listener);
    }
}

fn rearm(shared: &Shared, index: usize, listener: &Listener) {
    if let Err(e) = shared.poller.rearm(listener, listener_token(index)) {
        log::error!("cannot re-arm listener {index}: {e}");
    }
}

/// Resumes accepting if it paused at the connection limit (a connection closed).
pub(crate) fn resume_after_close(shared: &Shared) {
    let mut pause = shared.pause();
    if pause.at_limit {
        pause.at_limit = false;
        drop(pause);
        resume(shared);
    }
}

fn adopt(shared: &Shared, accepted: Accepted) -> io::Result<()> {
    // Non-blocking for its whole life: workers wait through `socket_wait` only
    // when a read or write would block.
    accepted.socket.set_nonblocking(true)?;
    let token = shared.next_token.fetch_add(1, Ordering::Relaxed) % RESERVED_TOKENS as usize;
    let conn = Connection::new(accepted.socket, accepted.peer, accepted.local);
    let stream = conn.stream.clone();
    shared.table.insert(
        token,
        Waiting {
            conn,
            head_started: None,
            idle_since: Instant::now(),
            arriving: None,
        },
    );
    // A request sent with the handshake raises the event at once.
    if let Err(e) = shared.poller.add_edge_triggered(&*stream, token as u64) {
        shared.table.remove(token);
        return Err(e);
    }
    Ok(())
}
