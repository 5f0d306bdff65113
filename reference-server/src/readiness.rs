//! What a thread does with a readiness event: accept, or read a connection, serve (or,
//! as the supervisor, queue) a complete head, answer a bad one, put the connection back.

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
    if let Some(taken) = shared.table.take(token) {
        settle(shared, token, taken, closed, scratch, mode);
    }
}

/// Handles a taken connection until it can go back to the table, reading it again
/// as long as events came for it meanwhile (their edges are spent).
fn settle(
    shared: &Shared,
    token: usize,
    mut taken: Taken,
    mut drain: bool,
    scratch: &mut [u8],
    mode: Mode,
) {
    loop {
        let back = match taken {
            Taken::Waiting(waiting) => on_readable(shared, token, waiting, drain, scratch, mode),
            Taken::Lingering(lingering) => drain_lingering(shared, token, lingering),
        };
        let Some(back) = back else {
            return; // closed, queued or rejected
        };
        match shared.table.put_back(token, back) {
            None => return,
            Some(again) => {
                taken = again;
                // The edge went to another thread: read until the socket is empty.
                drain = true;
            }
        }
    }
}

/// Reads what a waiting connection sent; returns it when it is to wait again.
fn on_readable(
    shared: &Shared,
    token: usize,
    mut waiting: Waiting,
    drain: bool,
    scratch: &mut [u8],
    mode: Mode,
) -> Option<Taken> {
    let limit = shared.config.head_limits.max_head_bytes + 1;
    // An end of input that came with the last bytes raises no event of its own:
    // when the event reports it, read to the end.
    match waiting.conn.read_available(scratch, limit, drain) {
        Ok(ReadResult::Data | ReadResult::DataThenEof) => {
            waiting.head_started.get_or_insert_with(Instant::now);
            on_bytes(shared, token, waiting, mode)
        }
        Ok(ReadResult::WouldBlock) => Some(Taken::Waiting(waiting)),
        Ok(ReadResult::Closed) | Err(_) => close(shared, token, waiting.conn),
    }
}

/// Parses the buffered head; serves or queues a complete one, answers a bad one.
fn on_bytes(shared: &Shared, token: usize, waiting: Waiting, mode: Mode) -> Option<Taken> {
    if shared.is_shutting_down() {
        // Requests that arrive once a stop began are not started.
        return close(shared, token, waiting.conn);
    }
    match parse_request_head(&waiting.conn.buf, &shared.config.head_limits) {
        // The rest of the head will never come.
        Ok(Parsed::Partial) if waiting.conn.peer_closed => close(shared, token, waiting.conn),
        Ok(Parsed::Partial) => Some(Taken::Waiting(waiting)),
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
                    let job = shared.enqueue(job)?;
                    // Every worker is busy and the queue is full: say so now.
                    let status = http::StatusCode::SERVICE_UNAVAILABLE;
                    reject(
                        shared,
                        token,
                        job.conn,
                        status,
                        "the server is busy; retry later",
                    )
                }
            }
        }
        Err(e) => reject(shared, token, waiting.conn, e.status(), &e.to_string()),
    }
}

/// Serves a job the supervisor queued, on worker `me`, and settles its connection.
pub(crate) fn serve_queued(shared: &Shared, me: usize, job: Job, scratch: &mut [u8]) {
    let token = job.token;
    if let Some(back) = serve(shared, me, job) {
        if let Some(again) = shared.table.put_back(token, back) {
            settle(shared, token, again, true, scratch, Mode::Serve(me));
        }
    }
}

/// Serves `job` on worker `me`; returns its connection when it is to wait for the
/// next request (or linger).
fn serve(shared: &Shared, me: usize, job: Job) -> Option<Taken> {
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
            Some(Taken::Waiting(Waiting {
                head_started: (!conn.buf.is_empty()).then_some(now),
                idle_since: now,
                conn,
            }))
        }
        Returned::Linger(conn) => linger(shared, token, conn),
    }
}

/// Answers a short error response and closes the connection gently.
fn reject(
    shared: &Shared,
    token: usize,
    conn: Connection,
    status: http::StatusCode,
    message: &str,
) -> Option<Taken> {
    // Best effort on a non-blocking socket: an error response is a few hundred
    // bytes, which the socket buffer takes at once.
    let _ = (&*conn.stream).write_all(&error_response(status, message));
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    linger(shared, token, conn)
}

/// Keeps `conn` only to read and drop what the client still sends, until EOF or
/// the linger deadline, so that a response already written is not destroyed by a
/// reset.
fn linger(shared: &Shared, token: usize, conn: Connection) -> Option<Taken> {
    let until = Instant::now() + LINGER;
    drain_lingering(shared, token, Lingering { conn, until })
}

fn drain_lingering(shared: &Shared, token: usize, lingering: Lingering) -> Option<Taken> {
    let mut scratch = [0u8; 4096];
    loop {
        match (&*lingering.conn.stream).read(&mut scratch) {
            Ok(0) => return close(shared, token, lingering.conn),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Some(Taken::Lingering(lingering));
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

/// Closes a connection this thread took, and forgets it. Returns `None`, the
/// nothing there is to put back.
pub(crate) fn close(shared: &Shared, token: usize, conn: Connection) -> Option<Taken> {
    shared.table.remove(token);
    closed(shared, conn);
    None
}

/// Closes a connection already out of the table.
pub(crate) fn closed(shared: &Shared, conn: Connection) {
    let _ = shared.poller.remove(&*conn.stream);
    // An app that kept its Input alive holds the socket open: make sure the client
    // sees the end anyway.
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    resume_after_close(shared);
}
