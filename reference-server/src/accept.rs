//! Accepting: the worker the listener woke takes every pending connection and re-arms
//! the listener; at the connection limit or out of file descriptors, accepting pauses.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::connection_table::Waiting;
use crate::poller::LISTENER;
use crate::shared::Shared;

/// How long accepting pauses after the process ran out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts every pending connection, then re-arms the listener (unless paused).
pub(crate) fn accept_all(shared: &Shared) {
    let listener = shared
        .listener
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(listener) = listener.as_ref() else {
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
            Ok((stream, peer)) => {
                if let Err(e) = adopt(shared, stream, peer) {
                    log::debug!("could not set up a connection from {peer}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return rearm(shared, listener),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
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

/// At a stop: accepts the connections the kernel completed that no worker took
/// yet, so that a request already sent on one is served instead of reset when the
/// listener closes. The connection limit does not apply: the listen backlog bounds
/// them, and they are closed (or served once) at once.
pub(crate) fn adopt_backlog(shared: &Shared, listener: &TcpListener) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(e) = adopt(shared, stream, peer) {
                    log::debug!("could not set up a connection from {peer}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
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

/// Arms the listener again (unless a stop took it away).
pub(crate) fn resume(shared: &Shared) {
    let listener = shared
        .listener
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(listener) = listener.as_ref() {
        rearm(shared, listener);
    }
}

fn rearm(shared: &Shared, listener: &TcpListener) {
    if let Err(e) = shared.poller.rearm(listener, LISTENER) {
        log::error!("cannot re-arm the listener: {e}");
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

fn adopt(shared: &Shared, stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let local = stream.local_addr()?;
    // Non-blocking for its whole life: workers wait through `socket_wait` only
    // when a read or write would block.
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let token = shared.next_token.fetch_add(1, Ordering::Relaxed) % (usize::MAX - 16);
    let conn = Connection::new(stream, peer, local);
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
