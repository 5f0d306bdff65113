//! A connection's state machine, run by whichever thread its readiness event woke:
//! accept, read a head and buffer its body, hand a ready request to a worker (or, as
//! the supervisor, queue it), resume a parked response, reject, linger, close.

use std::io::{self, Read};
use std::time::Instant;

use crate::accept::{accept_all, resume_after_close};
use crate::body_arrival::Arriving;
use crate::connection::{Connection, ReadResult};
use crate::connection_table::{Lingering, Taken, Waiting, LINGER};
use crate::http1::{parse_request_head, BodyFraming, Parsed};
use crate::poller::{listener_index, Ready, WAKER};
use crate::response_writer::refuse;
use crate::shared::{Afterwards, Job, Shared};
use crate::socket_wait;
use crate::worker::{resume_response, serve_connection};

/// How long a worker waits for more of a body that is arriving before it leaves
/// the body to the table (see `on_bytes`).
const BODY_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

/// Body bytes one read must bring for the body to count as streaming in at full
/// speed (half of a read chunk).
const FAST_READ: u64 = 8 * 1024;

/// Who handles a readiness event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Worker number `n`, which serves a ready request itself.
    Serve(usize),
    /// The supervisor while every worker is busy: it queues ready requests, answers
    /// 503 when the queue is full, and passes parked responses on to the workers.
    Queue,
    /// The supervisor during a stop, going through the waiting connections: as
    /// `Queue` for requests that had arrived; one still arriving is not waited for
    /// (a partial head is closed, a body is answered 503: SRV-8), an idle
    /// connection is closed.
    Stop,
}

/// Handles one readiness event.
pub(crate) fn on_ready(shared: &Shared, ready: Ready, scratch: &mut [u8], mode: Mode) {
    if let Some(index) = listener_index(ready.token) {
        return accept_all(shared, index);
    }
    match ready.token {
        // During a stop the waker stays raised, so that it reaches every thread;
        // not while parked responses keep workers going, which would spin on it.
        WAKER => shared
            .poller
            .woken(shared.is_shutting_down() && shared.table.busy() == 0),
        token => on_connection(shared, ready, token as usize, scratch, mode),
    }
}

fn on_connection(shared: &Shared, ready: Ready, token: usize, scratch: &mut [u8], mode: Mode) {
    if !matches!(mode, Mode::Serve(_)) && shared.table.is_parked(token) {
        // Resuming pulls the app's body: a worker's job, not the supervisor's.
        let _ = shared.resume.send(ready);
        return;
    }
    if let Some(taken) = shared.table.take(token) {
        settle(shared, token, taken, ready.closed, scratch, mode);
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
        let back = match (taken, mode) {
            (Taken::Waiting(waiting), _) => {
                on_readable(shared, token, waiting, drain, scratch, mode)
            }
            (Taken::Lingering(lingering), _) => drain_lingering(shared, token, lingering),
            (Taken::Parked(parked), Mode::Serve(worker)) => {
                let afterwards = resume_response(shared, worker, parked);
                after_serving(shared, token, afterwards)
            }
            (Taken::Parked(parked), Mode::Queue | Mode::Stop) => {
                // It became parked between the look and the take: pass it on.
                let _ = shared.resume.send(Ready {
                    token: token as u64,
                    closed: false,
                });
                Some(Taken::Parked(parked))
            }
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
    let limit = read_limit(shared, &waiting);
    // An end of input that came with the last bytes raises no event of its own:
    // when the event reports it, read to the end.
    let read = match waiting.arriving.as_mut() {
        Some(arriving) if arriving.is_apart() => {
            let read = arriving.read_apart(&mut waiting.conn);
            if arriving.apart_is_full() && !waiting.conn.peer_closed {
                // What follows the body (a pipelined request) raises no new edge.
                let limit = shared.config.head_limits.max_head_bytes + 1;
                match waiting.conn.read_available(scratch, limit, true) {
                    Err(e) => Err(e),
                    Ok(_) => read,
                }
            } else {
                read
            }
        }
        _ => waiting.conn.read_available(scratch, limit, drain),
    };
    match read {
        Ok(ReadResult::Data | ReadResult::DataThenEof) => {
            let now = Instant::now();
            match waiting.arriving.as_mut() {
                Some(arriving) => arriving.last_bytes = now,
                None => {
                    waiting.head_started.get_or_insert(now);
                }
            }
            on_bytes(shared, token, waiting, scratch, mode)
        }
        Ok(ReadResult::WouldBlock) if stopping(shared, mode) => {
            if waiting.arriving.is_none() && waiting.conn.buf.is_empty() {
                return forget_and_close(shared, token, waiting.conn); // idle
            }
            // What had arrived (a pipelined request raises no event) is answered.
            on_bytes(shared, token, waiting, scratch, mode)
        }
        Ok(ReadResult::WouldBlock) => Some(Taken::Waiting(waiting)),
        Ok(ReadResult::Closed) if waiting.arriving.is_some() => {
            // The body will never be complete: the worker's reader says so (400).
            on_bytes(shared, token, waiting, scratch, mode)
        }
        Ok(ReadResult::Closed) | Err(_) => forget_and_close(shared, token, waiting.conn),
    }
}

/// Whether a stop is under way for this connection's handling: what had arrived is
/// answered, nothing more is waited for.
fn stopping(shared: &Shared, mode: Mode) -> bool {
    matches!(mode, Mode::Stop) || shared.is_shutting_down()
}

/// How many bytes the buffer may hold: a head (and one byte more, to see it is too
/// large), or a head and the body's buffering bound.
fn read_limit(shared: &Shared, waiting: &Waiting) -> usize {
    read_limit_with(shared, waiting.arriving.as_deref())
}

fn read_limit_with(shared: &Shared, arriving: Option<&Arriving>) -> usize {
    match arriving {
        Some(arriving) => {
            let bound = usize::try_from(shared.config.body_buffer_bytes).unwrap_or(usize::MAX);
            arriving.head_len.saturating_add(bound)
        }
        None => shared.config.head_limits.max_head_bytes + 1,
    }
}

/// Parses the buffered head, buffers its body, and hands on a ready request;
/// answers a bad one.
fn on_bytes(
    shared: &Shared,
    token: usize,
    mut waiting: Waiting,
    scratch: &mut [u8],
    mode: Mode,
) -> Option<Taken> {
    let mut arriving = match waiting.arriving.take() {
        Some(arriving) => *arriving,
        None => match parse_request_head(&waiting.conn.buf, &shared.config.head_limits) {
            // The rest of the head will never come, or comes too late (a stop).
            Ok(Parsed::Partial) if waiting.conn.peer_closed || stopping(shared, mode) => {
                return forget_and_close(shared, token, waiting.conn)
            }
            Ok(Parsed::Partial) => return Some(Taken::Waiting(waiting)),
            Ok(Parsed::Complete { head, len }) => {
                if let Some(message) = body_too_large(shared, head.framing) {
                    let status = http::StatusCode::PAYLOAD_TOO_LARGE;
                    return reject(shared, token, waiting.conn, status, &message);
                }
                let mut arriving = Arriving::new(head, len, &shared.config.chunked_limits);
                if let Err(e) = read_body_behind_head(shared, &mut waiting, &mut arriving, scratch)
                {
                    log::debug!(
                        "{}: reading a request body failed: {e}",
                        waiting.conn.peer_name()
                    );
                    return forget_and_close(shared, token, waiting.conn);
                }
                arriving
            }
            Err(e) => return reject(shared, token, waiting.conn, e.status(), &e.to_string()),
        },
    };
    let (bound, max_body) = (
        shared.config.body_buffer_bytes,
        shared.config.max_body_bytes,
    );
    while !arriving.is_ready(&waiting.conn.buf, bound, max_body, waiting.conn.peer_closed) {
        arriving.set_apart(&mut waiting.conn.buf, bound);
        // A body that streams in at full speed (its last read brought a socket
        // buffer's worth) is read on here, as the worker would read it, instead of
        // through one poller event per socket buffer (which cost a 1 MiB echo about
        // 15% in the same-run bench); a trickle never makes a worker wait.
        let arrived = arriving.body_bytes(waiting.conn.buf.len());
        let streaming = arrived - arriving.seen >= FAST_READ;
        arriving.seen = arrived;
        let quick = matches!(mode, Mode::Serve(_))
            && streaming
            && socket_wait::readable_within(&waiting.conn.stream, BODY_WAIT);
        if stopping(shared, mode) {
            // Its head was read: it gets an answer, not a reset (SRV-8).
            let status = http::StatusCode::SERVICE_UNAVAILABLE;
            let message = "the server is stopping before this request's body arrived; retry it";
            return reject(shared, token, waiting.conn, status, message);
        }
        if !quick {
            // The head is done: from now on its body's rate is what times it out.
            waiting.head_started = None;
            waiting.arriving = Some(Box::new(arriving));
            return Some(Taken::Waiting(waiting));
        }
        let read = if arriving.is_apart() {
            arriving.read_apart(&mut waiting.conn)
        } else {
            let limit = read_limit_with(shared, Some(&arriving));
            waiting.conn.read_available(scratch, limit, false)
        };
        if read.is_err() {
            return forget_and_close(shared, token, waiting.conn);
        }
        arriving.last_bytes = Instant::now();
    }
    if arriving.apart_is_full() && !waiting.conn.peer_closed {
        // What follows the body (a pipelined request) raises no new edge.
        let limit = read_limit_with(shared, None);
        if waiting.conn.read_available(scratch, limit, true).is_err() {
            return forget_and_close(shared, token, waiting.conn);
        }
    }
    let job = Job {
        token,
        conn: waiting.conn,
        request: arriving.into_request(),
    };
    match mode {
        Mode::Serve(worker) => serve(shared, worker, job),
        Mode::Queue | Mode::Stop => {
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

/// Reads what the socket holds behind a head that filled the head's read limit
/// (those bytes raise no new edge). A Content-Length body within the buffering
/// bound is first set apart, so that it is read straight into its own buffer.
fn read_body_behind_head(
    shared: &Shared,
    waiting: &mut Waiting,
    arriving: &mut Arriving,
    scratch: &mut [u8],
) -> io::Result<()> {
    let (bound, max_body) = (
        shared.config.body_buffer_bytes,
        shared.config.max_body_bytes,
    );
    let more_behind = waiting.conn.buf.len() > shared.config.head_limits.max_head_bytes;
    if !arriving.is_ready(&waiting.conn.buf, bound, max_body, waiting.conn.peer_closed)
        && arriving.reserve(&shared.body_budget, bound)
    {
        arriving.set_apart(&mut waiting.conn.buf, bound);
    }
    if !more_behind || arriving.streams(bound) {
        // A streaming body is read by the worker, from the socket: reading ahead
        // here would only hold up to the bound in memory per queued request.
        return Ok(());
    }
    if arriving.is_apart() {
        arriving.read_apart(&mut waiting.conn)?;
    } else {
        let limit = arriving
            .head_len
            .saturating_add(usize::try_from(bound).unwrap_or(usize::MAX));
        waiting.conn.read_available(scratch, limit, true)?;
    }
    Ok(())
}

/// The 413 message for a Content-Length above the body limit, decided before a
/// byte of the body is buffered.
fn body_too_large(shared: &Shared, framing: BodyFraming) -> Option<String> {
    let max = shared.config.max_body_bytes;
    match framing {
        BodyFraming::Length(n) if n > max => Some(format!(
            "the request body of {n} bytes exceeds the limit of {max} bytes"
        )),
        _ => None,
    }
}

/// During a stop: takes in what waiting connection `token` had sent by now, so that
/// a request that had arrived is served, not reset, and closes it otherwise (see
/// [`Mode::Stop`]).
pub(crate) fn take_in_arrived(shared: &Shared, token: usize, scratch: &mut [u8]) {
    if let Some(taken) = shared.table.take_waiting(token) {
        settle(shared, token, taken, true, scratch, Mode::Stop);
    }
}

/// Serves a job the supervisor queued, on worker `worker`, and settles its connection.
pub(crate) fn serve_queued(shared: &Shared, worker: usize, job: Job, scratch: &mut [u8]) {
    let token = job.token;
    if let Some(back) = serve(shared, worker, job) {
        if let Some(again) = shared.table.put_back(token, back) {
            settle(shared, token, again, true, scratch, Mode::Serve(worker));
        }
    }
}

/// Serves `job` on worker `worker`; returns its connection when it is to wait in the
/// table (for its next request, its client to read, or to linger).
fn serve(shared: &Shared, worker: usize, job: Job) -> Option<Taken> {
    let token = job.token;
    let afterwards = serve_connection(shared, worker, job);
    after_serving(shared, token, afterwards)
}

/// Where a connection goes once a worker let go of it.
fn after_serving(shared: &Shared, token: usize, afterwards: Afterwards) -> Option<Taken> {
    match afterwards {
        Afterwards::KeepAlive(conn) => {
            if shared.is_shutting_down() || (conn.peer_closed && conn.buf.is_empty()) {
                // Read what came meanwhile first: closing with unread input would
                // reset the connection and could destroy the response in flight.
                discard_input(&conn);
                return forget_and_close(shared, token, conn);
            }
            Some(Taken::Waiting(Waiting::idle(conn)))
        }
        Afterwards::Linger(conn) => start_lingering(shared, token, conn),
        Afterwards::Parked(parked) => Some(Taken::Parked(parked)),
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
    refuse(&conn, status, message);
    start_lingering(shared, token, conn)
}

/// Keeps `conn` only to read and drop what the client still sends, until EOF or
/// the linger deadline, so that a response already written is not destroyed by a
/// reset.
fn start_lingering(shared: &Shared, token: usize, mut conn: Connection) -> Option<Taken> {
    // Nothing it read is needed any more: a refused request's head read (up to
    // the head limit) is not kept for the linger's length.
    conn.buf = Vec::new();
    conn.out = Vec::new();
    let until = Instant::now() + LINGER;
    drain_lingering(shared, token, Lingering { conn, until })
}

fn drain_lingering(shared: &Shared, token: usize, lingering: Lingering) -> Option<Taken> {
    let mut scratch = [0u8; 4096];
    loop {
        match (&*lingering.conn.stream).read(&mut scratch) {
            Ok(0) => return forget_and_close(shared, token, lingering.conn),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Some(Taken::Lingering(lingering));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return forget_and_close(shared, token, lingering.conn),
        }
    }
}

fn discard_input(conn: &Connection) {
    let mut scratch = [0u8; 4096];
    while let Ok(1..) = (&*conn.stream).read(&mut scratch) {}
}

/// Closes a connection this thread took, and forgets its token. Returns `None`, the
/// nothing there is to put back.
pub(crate) fn forget_and_close(shared: &Shared, token: usize, conn: Connection) -> Option<Taken> {
    shared.table.remove(token);
    close_connection(shared, conn);
    None
}

/// Closes a connection already out of the table.
pub(crate) fn close_connection(shared: &Shared, conn: Connection) {
    let _ = shared.poller.remove(&*conn.stream);
    // An app that kept its Input alive holds the socket open: make sure the client
    // sees the end anyway.
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    resume_after_close(shared);
}
