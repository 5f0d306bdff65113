//! A worker thread: it waits its turn on the poller and serves each request that comes
//! to it in SPEC.md's order: admit it (limits, environ), call the app, send the response
//! (parking it with its connection while the client is slow), finish (drain, log,
//! keep-alive). It reads no request head from an idle socket; `connection_state` does.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gateway_spec::exchange::{self, flushed_outcome, Failure, Outcome, Progress};
use gateway_spec::Environ;
use http::StatusCode;

use crate::access_log::AccessEntry;
use crate::body_arrival::Arriving;
use crate::build_environ::{build_environ, Peers};
use crate::connection::{Connection, READ_CHUNK};
use crate::connection_state::{on_ready, serve_queued, Mode};
use crate::http1::{parse_request_head, BodyFraming, Parsed};
use crate::request_body::{lock, share_body, spare_of, BodyLimits, BodyState, RequestBody};
use crate::response_in_flight::{InFlight, LogRecord, Parked, Response, Waits};
use crate::response_writer::{refuse, WireOutput};
use crate::shared::{Afterwards, Job, ReadyRequest, Shared};
use crate::socket_wait;

/// How long a worker waits for a turn or an event before it looks again for a stop
/// or for work the supervisor handed over.
const WAIT_SLICE: Duration = Duration::from_millis(250);

/// How long a worker waits for a full socket to drain before it parks the
/// response: a client that reads at full speed drains it within this, and parking
/// (back to the poller, resumed by the next event) would cost that client a
/// round trip per socket buffer: streaming 1 MiB to one client fell from 0.83x to
/// 0.55x hyper's rate without it. A slow client costs a worker this long per
/// resumption at most.
const PARK_AFTER: Duration = Duration::from_millis(1);

/// Worker number `worker`: serves what the poller hands it, what the supervisor
/// queued while every worker was busy, and parked responses it passed on, until a
/// stop.
pub(crate) fn run_worker(shared: Arc<Shared>, worker: usize) {
    shared.turns.register_thread(worker);
    let mut scratch = vec![0; READ_CHUNK];
    loop {
        if let Ok(job) = shared.queued.try_recv() {
            shared.turns.begin_serving(worker);
            serve_queued(&shared, worker, job, &mut scratch);
            shared.turns.end_serving(worker);
            continue;
        }
        if let Ok(ready) = shared.resumable.try_recv() {
            shared.turns.begin_serving(worker);
            on_ready(&shared, ready, &mut scratch, Mode::Serve(worker));
            shared.turns.end_serving(worker);
            continue;
        }
        if shared.is_shutting_down() && shared.table.busy() == 0 {
            break;
        }
        if !shared.turns.acquire(worker, WAIT_SLICE) {
            continue;
        }
        match shared.next_ready(WAIT_SLICE) {
            Ok(Some(ready)) => {
                shared.turns.begin_serving(worker);
                on_ready(&shared, ready, &mut scratch, Mode::Serve(worker));
                shared.turns.end_serving(worker);
                // Turns shrink again once apps are quick: the surplus holders stand by.
                shared.turns.shed_excess(worker);
            }
            Ok(None) => {}
            Err(e) => {
                log::error!("a worker failed to wait for events: {e}");
                std::thread::sleep(WAIT_SLICE);
            }
        }
    }
    shared.turns.release(worker);
    // Pass the stop on to a worker still waiting on the poller.
    shared.poller.wake();
}

/// Serves the job's request, then every further request the client pipelined
/// behind it, and says what becomes of the connection.
pub(crate) fn serve_connection(shared: &Shared, worker: usize, job: Job) -> Afterwards {
    let Job {
        token,
        conn,
        request,
    } = job;
    match serve_request(shared, worker, token, conn, request) {
        Afterwards::KeepAlive(conn) => serve_pipelined(shared, worker, token, conn),
        other => other,
    }
}

/// Continues a parked response whose client became writable; once it is written,
/// the connection's pipelined requests.
pub(crate) fn resume_response(shared: &Shared, worker: usize, parked: Box<Parked>) -> Afterwards {
    let waits = parked.waits();
    let Parked {
        in_flight,
        response,
        ..
    } = *parked;
    let token = in_flight.token;
    let progress = match response {
        Response::Streaming(paused) => Progress::Paused(paused),
        Response::Tail(output, outcome) => Progress::Done(output, outcome),
    };
    match send_response(shared, worker, in_flight, progress, Some(waits)) {
        Afterwards::KeepAlive(conn) => serve_pipelined(shared, worker, token, conn),
        other => other,
    }
}

/// Serves the requests already complete in the buffer, bodies included; a request
/// whose body is still to come goes back to the table, which buffers it.
fn serve_pipelined(
    shared: &Shared,
    worker: usize,
    token: usize,
    mut conn: Connection,
) -> Afterwards {
    let config = &shared.config;
    loop {
        if conn.buf.is_empty() {
            conn.flush_corked();
            return Afterwards::KeepAlive(conn);
        }
        let parsed = match conn.take_parsed_ahead() {
            Some((head, len)) => Ok(Parsed::Complete { head, len }),
            None => parse_request_head(&conn.buf, &config.head_limits),
        };
        let (head, head_len) = match parsed {
            Ok(Parsed::Complete { head, len }) => (head, len),
            Ok(Parsed::Partial) => {
                conn.flush_corked();
                return Afterwards::KeepAlive(conn);
            }
            Err(e) => {
                conn.flush_corked();
                return refuse_request(conn, e.status(), &e.to_string());
            }
        };
        let mut arriving = Arriving::new(head, head_len, &config.chunked_limits);
        let (bound, max_body) = (config.body_buffer_bytes, config.max_body_bytes);
        if !arriving.is_ready(&conn.buf, bound, max_body, conn.peer_closed) {
            conn.flush_corked();
            return Afterwards::KeepAlive(conn);
        }
        let request = ReadyRequest {
            apart: None,
            head: arriving.head,
            head_len,
            since: arriving.since,
        };
        match serve_request(shared, worker, token, conn, request) {
            Afterwards::KeepAlive(next) => conn = next,
            other => return other,
        }
    }
}

/// One request's life, in SPEC.md's order (like wsgiref's `BaseHandler.run`).
fn serve_request(
    shared: &Shared,
    worker: usize,
    token: usize,
    conn: Connection,
    request: ReadyRequest,
) -> Afterwards {
    let admitted = match admit(shared, worker, token, conn, request) {
        Admission::Admitted(admitted) => admitted,
        Admission::Refused(refused) => return refused,
    };
    let progress = call_app(shared, admitted.environ, admitted.output);
    send_response(shared, worker, admitted.in_flight, progress, None)
}

/// Whether a request is served. (Unboxed: it lives for one call on the hot path,
/// where a box would cost an allocation per request.)
#[allow(clippy::large_enum_variant)]
enum Admission {
    Admitted(Admitted),
    /// Answered with an error status by the server itself.
    Refused(Afterwards),
}

/// A request past its limits, with its environ and the output for its response.
struct Admitted {
    in_flight: InFlight,
    environ: Environ,
    output: WireOutput,
}

/// Checks the limits the head decides (SPEC §11.4), then builds the environ (ENV
/// rules) and the response's output.
fn admit(
    shared: &Shared,
    worker: usize,
    token: usize,
    mut conn: Connection,
    request: ReadyRequest,
) -> Admission {
    let ReadyRequest {
        mut head,
        head_len,
        since,
        apart,
    } = request;
    let config = &shared.config;
    conn.corked = head.keep_alive
        && apart.is_none()
        && conn.pipelined_behind(head_len, head.framing, &config.head_limits);
    // The fields become header values that share one copy of the head.
    let head_bytes = conn.share_head(head_len);
    let headers = head.header_map(&head_bytes);
    head.recycle_spans();
    let target = head.target(&head_bytes);
    shared.turns.name_request(worker, &head.method, target);
    if let BodyFraming::Length(n) = head.framing {
        if n > config.max_body_bytes {
            // Decided from Content-Length before reading a byte of the body.
            let message = format!(
                "the request body of {n} bytes exceeds the limit of {} bytes",
                config.max_body_bytes
            );
            return Admission::Refused(refuse_request(
                conn,
                StatusCode::PAYLOAD_TOO_LARGE,
                &message,
            ));
        }
    }
    // Only the access log needs these; keep the common path free of copies.
    let mut log = shared.access_log.is_on().then(|| {
        let request_line = format!("{} {} {:?}", head.method, target, head.version);
        let mut record = LogRecord::new(request_line, &headers);
        record.client = conn.peer.map(|addr| addr.ip());
        record
    });
    // The body starts after the head: left in place, not moved to the front.
    let state = BodyState::new(
        conn.stream.clone(),
        std::mem::take(&mut conn.buf),
        head_len,
        &head,
        BodyLimits::of(config),
        since,
    )
    .with_body_apart(apart);
    let body = share_body(conn.spare_body.take(), state);
    let output = WireOutput::new(
        conn.stream.clone(),
        head.version,
        !head.keep_alive,
        shared,
        body.clone(),
        std::mem::take(&mut conn.out),
        conn.corked,
    );
    let peers = Peers {
        peer: conn.peer,
        local: conn.local,
        server_name: config.server_name.as_deref(),
        trusted: &config.trusted_proxies,
    };
    let environ = build_environ((head, target), headers, RequestBody(body.clone()), peers);
    if let (Some(record), Ok(environ)) = (log.as_mut(), &environ) {
        // The access log names the client the environ reports (PROXY-6).
        record.client = environ.remote_addr.map(|addr| addr.ip());
    }
    match environ {
        Ok(environ) => Admission::Admitted(Admitted {
            in_flight: InFlight {
                token,
                conn,
                body,
                log,
                name: None,
                admitted: shared.observer.as_ref().map(|_| std::time::Instant::now()),
            },
            environ,
            output,
        }),
        Err(e) => Admission::Refused(refuse_request(
            conn,
            StatusCode::BAD_REQUEST,
            &e.to_string(),
        )),
    }
}

/// Calls the app through the exchange (SPEC §3 to §6); the request counts as in
/// flight until its response is finished or cut.
fn call_app(shared: &Shared, environ: Environ, output: WireOutput) -> Progress<WireOutput> {
    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    exchange::start(&*shared.app, environ, output)
}

/// Writes the response as fast as the client takes it, pulling on the app's body
/// between writes; when the socket would block, parks the response with its
/// connection and lets go (LIMIT-16).
fn send_response(
    shared: &Shared,
    worker: usize,
    in_flight: InFlight,
    mut progress: Progress<WireOutput>,
    waits: Option<Waits>,
) -> Afterwards {
    loop {
        progress = match progress {
            Progress::Paused(paused) => match paused.with_output(WireOutput::write_waiting) {
                Ok(true) => paused.resume(),
                Ok(false) if socket_wait::writable_within(&in_flight.conn.stream, PARK_AFTER) => {
                    Progress::Paused(paused)
                }
                Ok(false) => {
                    let response = Response::Streaming(paused);
                    return park(shared, worker, in_flight, response, waits);
                }
                Err(e) => {
                    let (output, outcome) = paused.abort(e);
                    return finish_request(shared, Some(worker), in_flight, output, outcome);
                }
            },
            Progress::Done(mut output, outcome) => match output.write_waiting() {
                Ok(true) => {
                    return finish_request(shared, Some(worker), in_flight, output, outcome)
                }
                Ok(false) if socket_wait::writable_within(&in_flight.conn.stream, PARK_AFTER) => {
                    Progress::Done(output, outcome)
                }
                Ok(false) => {
                    let response = Response::Tail(output, outcome);
                    return park(shared, worker, in_flight, response, waits);
                }
                Err(e) => {
                    let outcome = flushed_outcome(outcome, Err(e));
                    return finish_request(shared, Some(worker), in_flight, output, outcome);
                }
            },
        };
    }
}

/// Parks a response whose socket is full: the poller reports when it is writable.
fn park(
    shared: &Shared,
    worker: usize,
    mut in_flight: InFlight,
    response: Response,
    waits: Option<Waits>,
) -> Afterwards {
    in_flight
        .name
        .get_or_insert_with(|| shared.turns.request(worker));
    let mut parked = Box::new(Parked::new(in_flight, response, waits));
    let conn = &mut parked.in_flight.conn;
    if !conn.watching_writable {
        let token = parked.in_flight.token as u64;
        if let Err(e) = shared.poller.watch_writable(&*conn.stream, token) {
            log::error!("cannot wait for a client to read: {e}");
            return Afterwards::Linger(cut_response(
                shared,
                parked,
                "the server cannot wait for it",
            ));
        }
        conn.watching_writable = true;
    }
    Afterwards::Parked(parked)
}

/// Cuts a parked response (its client is too slow, LIMIT-16): the body is closed,
/// the access log says how far it got, and the connection is handed back to close.
pub(crate) fn cut_response(shared: &Shared, parked: Box<Parked>, why: &str) -> Connection {
    let Parked {
        in_flight,
        response,
        ..
    } = *parked;
    let error = io::Error::new(io::ErrorKind::TimedOut, why.to_owned());
    let (_, outcome) = match response {
        Response::Streaming(paused) => paused.abort(error),
        Response::Tail(output, outcome) => (output, flushed_outcome(outcome, Err(error))),
    };
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let name = in_flight.name.as_deref().unwrap_or("a request");
    log::info!("{name}: response cut: {why}");
    record_access(shared, in_flight.log, &outcome);
    in_flight.conn
}

/// Ends a request whose response is written (or lost): drains what the app left
/// unread (CONN-7), logs it, and decides whether the connection lives (CONN rules).
fn finish_request(
    shared: &Shared,
    worker: Option<usize>,
    in_flight: InFlight,
    output: WireOutput,
    outcome: Outcome,
) -> Afterwards {
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let InFlight {
        mut conn,
        body,
        log,
        name,
        admitted,
        ..
    } = in_flight;
    if let (Some(observer), Some(admitted)) = (&shared.observer, admitted) {
        (observer.0)(crate::ResponseRecord {
            status: outcome.status.map(|s| s.as_u16()),
            duration: admitted.elapsed(),
        });
    }
    let reusable = {
        let mut state = lock(&body);
        let reusable = outcome.complete
            && !outcome.must_close
            && !output.announced_close
            && state.drain(shared.config.drain_bytes);
        conn.buf = state.take_leftover();
        reusable
    };
    conn.out = output.into_buffer();
    // The writer's hold on the body went with it: the state's allocation can serve
    // the next request.
    conn.spare_body = spare_of(body);
    if let Some(failure) = &outcome.failure {
        let request =
            name.unwrap_or_else(|| worker.map(|w| shared.turns.request(w)).unwrap_or_default());
        // A client's mistake is not the server's: below error level (FAIL-12).
        match failure {
            Failure::ClientGone(_) => log::debug!("{request}: {failure}"),
            Failure::ClientError(_) => log::info!("{request}: {failure}"),
            _ => log::error!("{request}: {failure}"),
        }
    }
    record_access(shared, log, &outcome);
    // During a stop's drain a response that did not say `Connection: close` (its
    // head went out before the stop) keeps its connection: the client may already
    // be sending its next request, which is answered with a close (SRV-8).
    if reusable && !shared.is_shutting_down() {
        Afterwards::KeepAlive(conn)
    } else {
        // Responses held for a next one that will not come go out before the end.
        conn.flush_corked();
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        Afterwards::Linger(conn)
    }
}

fn record_access(shared: &Shared, log: Option<LogRecord>, outcome: &Outcome) {
    if let Some(record) = log {
        shared.access_log.record(&AccessEntry {
            peer: record.client,
            request_line: &record.request_line,
            status: outcome.status.map(|s| s.as_u16()),
            bytes: outcome.body_bytes,
            referer: record.referer.as_deref(),
            user_agent: record.user_agent.as_deref(),
            duration: record.started.elapsed(),
            request_id: &record.request_id,
        });
    }
}

/// Answers a request the server will not serve, and lets the connection linger.
fn refuse_request(mut conn: Connection, status: StatusCode, message: &str) -> Afterwards {
    // Responses held for this request's to carry go first.
    conn.flush_corked();
    refuse(&conn, status, message);
    Afterwards::Linger(conn)
}
