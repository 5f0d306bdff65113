//! What a thread does when the poller says a socket is ready: accept, read what a
//! connection sent, and with a complete head serve it (a worker) or queue it (the
//! supervisor, while every worker is busy); then put the connection back, re-armed.

use std::io::{self, Read, Write};
use std::time::Instant;

use crate::accept::{accept_all, resume_after_close};
use crate::connection::{Connection, ReadResult};
use crate::connection_table::{Lingering, Taken, Waiting, LINGER};
use crate::dispatch::{Job, Returned, Shared};
use crate::http1::{parse_request_head, Parsed};
use crate::poller::{Ready, LISTENER, WAKER};
use crate::response_writer::error_response;
use crate::worker::serve_connection;

/// Who handles a readiness event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Worker number `n`, which serves a complete request itself.
    Serve(usize),
    /// The supervisor while every worker is busy: it queues complete requests, and
    /// answers 503 when the queue is full.
    Queue,
}

/// Handles one readiness event.
pub(crate) fn on_ready(shared: &Shared, ready: Ready, scratch: &mut [u8], mode: Mode) {
    match ready.token {
        LISTENER => accept_all(shared),
        // During a stop the waker stays raised, so that it reaches every thread.
        WAKER => shared.poller.woken(shared.is_shutting_down()),
        token => on_connection(shared, token as usize, ready.closed, scratch, mode),
    }
}

fn on_connection(shared: &Shared, token: usize, closed: bool, scratch: &mut [u8], mode: Mode) {
    match shared.table.take(token) {
        Some(Taken::Waiting(mut waiting)) => {
            let limit = shared.config.head_limits.max_head_bytes + 1;
            // An end of input that came with the last bytes raises no event of its
            // own: when the event reports it, read to the end.
            match waiting.conn.read_available(scratch, limit, closed) {
                Ok(ReadResult::Data | ReadResult::DataThenEof) => {
                    waiting.head_started.get_or_insert_with(Instant::now);
                    on_bytes(shared, token, waiting, mode);
                }
                Ok(ReadResult::WouldBlock) => put_back(shared, token, Taken::Waiting(waiting)),
                Ok(ReadResult::Closed) | Err(_) => close(shared, token, waiting.conn),
            }
        }
        Some(Taken::Lingering(lingering)) => drain_lingering(shared, token, lingering),
        None => {} // closed meanwhile
    }
}

/// Parses the buffered head; serves or queues a complete one, answers a bad one.
fn on_bytes(shared: &Shared, token: usize, waiting: Waiting, mode: Mode) {
    if shared.is_shutting_down() {
        // Requests that arrive once a stop began are not started.
        return close(shared, token, waiting.conn);
    }
    match parse_request_head(&waiting.conn.buf, &shared.config.head_limits) {
        // The rest of the head will never come.
        Ok(Parsed::Partial) if waiting.conn.peer_closed => close(shared, token, waiting.conn),
        Ok(Parsed::Partial) => put_back(shared, token, Taken::Waiting(waiting)),
        Ok(Parsed::Complete { head, len }) => {
            let job = Job {
                token,
                conn: waiting.conn,
                head,
                head_len: len,
            };
            match mode {
                Mode::Serve(me) => serve(shared, me, job),
                Mode::Queue => {
                    if let Some(job) = shared.enqueue(job) {
                        // Every worker is busy and the queue is full: say so now.
                        let status = http::StatusCode::SERVICE_UNAVAILABLE;
                        reject(
                            shared,
                            token,
                            job.conn,
                            status,
                            "the server is busy; retry later",
                        );
                    }
                }
            }
        }
        Err(e) => reject(shared, token, waiting.conn, e.status(), &e.to_string()),
    }
}

/// Serves `job` on worker `me`, then keeps, lingers or closes its connection.
pub(crate) fn serve(shared: &Shared, me: usize, job: Job) {
    let token = job.token;
    match serve_connection(shared, me, job) {
        Returned::KeepAlive(conn) => {
            if shared.is_shutting_down() || (conn.peer_closed && conn.buf.is_empty()) {
                // Read what came meanwhile first: closing with unread input would
                // reset the connection and could destroy the response in flight.
                discard_input(&conn);
                return close(shared, token, conn);
            }
            let now = Instant::now();
            let waiting = Waiting {
                head_started: (!conn.buf.is_empty()).then_some(now),
                idle_since: now,
                conn,
            };
            put_back(shared, token, Taken::Waiting(waiting));
        }
        Returned::Linger(conn) => linger(shared, token, conn),
    }
}

/// Puts a connection back in the table and arms it for its next event.
fn put_back(shared: &Shared, token: usize, taken: Taken) {
    let stream = match &taken {
        Taken::Waiting(w) => w.conn.stream.clone(),
        Taken::Lingering(l) => l.conn.stream.clone(),
    };
    shared.table.put_back(token, taken);
    if let Err(e) = shared.poller.rearm(&*stream, token as u64) {
        log::debug!("cannot re-arm a connection: {e}");
        if let Some(
            Taken::Waiting(Waiting { conn, .. }) | Taken::Lingering(Lingering { conn, .. }),
        ) = shared.table.take(token)
        {
            close(shared, token, conn);
        }
    }
}

/// Answers a short error response and closes the connection gently.
fn reject(
    shared: &Shared,
    token: usize,
    conn: Connection,
    status: http::StatusCode,
    message: &str,
) {
    // Best effort on a non-blocking socket: an error response is a few hundred
    // bytes, which the socket buffer takes at once.
    let _ = (&*conn.stream).write_all(&error_response(status, message));
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    linger(shared, token, conn);
}

/// Keeps `conn` only to read and drop what the client still sends, until EOF or
/// the linger deadline, so that a response already written is not destroyed by a
/// reset.
fn linger(shared: &Shared, token: usize, conn: Connection) {
    let until = Instant::now() + LINGER;
    drain_lingering(shared, token, Lingering { conn, until });
}

fn drain_lingering(shared: &Shared, token: usize, lingering: Lingering) {
    let mut scratch = [0u8; 4096];
    loop {
        match (&*lingering.conn.stream).read(&mut scratch) {
            Ok(0) => return close(shared, token, lingering.conn),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return put_back(shared, token, Taken::Lingering(lingering));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return close(shared, token, lingering.conn),
        }
    }
}

fn discard_input(conn: &Connection) {
    let mut scratch = [0u8; 4096];
    while let Ok(1..) = (&*conn.stream).read(&mut scratch) {}
}

/// Closes a connection this thread took, and forgets it.
pub(crate) fn close(shared: &Shared, token: usize, conn: Connection) {
    shared.table.remove(token);
    closed(shared, conn);
}

/// Closes a connection already out of the table.
pub(crate) fn closed(shared: &Shared, conn: Connection) {
    let _ = shared.poller.remove(&*conn.stream);
    // An app that kept its Input alive holds the socket open: make sure the client
    // sees the end anyway.
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    resume_after_close(shared);
}
