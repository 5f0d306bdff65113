//! A worker thread: it waits its turn on the poller, and serves each request that
//! comes to it, from the complete head to the last response byte, read like
//! SPEC.md's sections: check limits, build the environ, run the app, drain the
//! unread body, decide whether the connection lives.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use gateway_spec::exchange::{run, Failure};
use http::{HeaderMap, StatusCode};

use crate::access_log::AccessEntry;
use crate::build_environ::build_environ;
use crate::connection::{Connection, READ_CHUNK};
use crate::dispatch::{Job, Returned, Shared};
use crate::http1::{parse_request_head, BodyFraming, Parsed, RequestHead};
use crate::readiness::{on_ready, serve_queued, Mode};
use crate::request_body::{lock, BodyState, RequestBody};
use crate::response_writer::{error_response, WireOutput};
use crate::socket_wait;

/// How long a worker waits for a turn or an event before it looks around again.
const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Worker `me`: serves what the poller hands it (and what the supervisor queued
/// while every worker was busy) until a stop.
pub(crate) fn run_worker(shared: Arc<Shared>, me: usize) {
    shared.turns.register_thread(me);
    let mut scratch = vec![0; READ_CHUNK];
    loop {
        if let Ok(job) = shared.queued.try_recv() {
            shared.turns.begin_serving(me);
            serve_queued(&shared, me, job, &mut scratch);
            shared.turns.end_serving(me);
            continue;
        }
        if shared.is_shutting_down() {
            break;
        }
        if !shared.turns.acquire(me, TICK) {
            continue;
        }
        match shared.next_ready(TICK) {
            Ok(Some(ready)) => {
                shared.turns.begin_serving(me);
                on_ready(&shared, ready, &mut scratch, Mode::Serve(me));
                shared.turns.end_serving(me);
                // Turns shrink again once apps are quick: the surplus holders stand by.
                shared.turns.shed_excess(me);
            }
            Ok(None) => {}
            Err(e) => {
                log::error!("a worker failed to wait for events: {e}");
                std::thread::sleep(TICK);
            }
        }
    }
    shared.turns.release(me);
    // Pass the stop on to a worker still waiting on the poller.
    shared.poller.wake();
}

/// What happens to a connection after a response.
enum After {
    KeepAlive,
    Close,
}

/// Serves the job's request, then every further request already buffered on the
/// same connection (pipelining, without waiting for the poller), and says what
/// becomes of the connection.
pub(crate) fn serve_connection(shared: &Shared, me: usize, job: Job) -> Returned {
    let Job {
        token: _,
        mut conn,
        mut head,
        mut head_len,
    } = job;
    loop {
        // The fields become header values that share one copy of the head.
        let head_bytes = Bytes::copy_from_slice(&conn.buf[..head_len]);
        let headers = head.header_map(&head_bytes);
        let target = head.target(&head_bytes);
        // The body starts after the head: left in place, not moved to the front.
        match serve_request(shared, me, &mut conn, (head, target, head_len), headers) {
            After::Close => return linger(conn),
            After::KeepAlive if conn.buf.is_empty() => break,
            After::KeepAlive => match parse_request_head(&conn.buf, &shared.config.head_limits) {
                Ok(Parsed::Complete { head: next, len }) => {
                    head = next;
                    head_len = len;
                }
                Ok(Parsed::Partial) => break,
                Err(e) => {
                    let response = error_response(e.status(), &e.to_string());
                    let _ = socket_wait::write_all(
                        &conn.stream,
                        &response,
                        shared.config.write_timeout,
                    );
                    return linger(conn);
                }
            },
        }
    }
    Returned::KeepAlive(conn)
}

fn linger(conn: Connection) -> Returned {
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    Returned::Linger(conn)
}

/// One request's life: limits, environ, app, drain, keep-alive decision.
fn serve_request(
    shared: &Shared,
    me: usize,
    conn: &mut Connection,
    (head, target, head_len): (RequestHead, &str, usize),
    headers: HeaderMap,
) -> After {
    // Only the access log needs the clock.
    let started = shared.access_log.is_on().then(Instant::now);
    shared.turns.name_request(me, &head.method, target);
    let config = &shared.config;
    if let BodyFraming::Length(n) = head.framing {
        if n > config.max_body_bytes {
            // Decided from Content-Length before reading a byte of the body.
            let message = format!(
                "the request body of {n} bytes exceeds the limit of {} bytes",
                config.max_body_bytes
            );
            return reject(shared, conn, StatusCode::PAYLOAD_TOO_LARGE, &message);
        }
    }
    // Only the access log needs these; keep the common path free of copies. (A
    // failure is logged with the request as `turns` recorded it.)
    let logged = shared.access_log.is_on().then(|| {
        (
            format!("{} {} {:?}", head.method, target, head.version),
            header_text(&headers, http::header::REFERER),
            header_text(&headers, http::header::USER_AGENT),
        )
    });
    let (version, keep_alive_asked) = (head.version, head.keep_alive);

    let body = Arc::new(Mutex::new(BodyState::new(
        conn.stream.clone(),
        (std::mem::take(&mut conn.buf), head_len),
        head.framing,
        head.expect_continue,
        (config.max_body_bytes, config.chunked_limits.clone()),
        config.body_read_timeout,
    )));
    let environ = match build_environ(
        (head, target),
        headers,
        RequestBody(body.clone()),
        conn.peer,
        conn.local,
        config.server_name.as_deref(),
    ) {
        Ok(environ) => environ,
        Err(e) => return reject(shared, conn, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let output = WireOutput::new(
        conn.stream.clone(),
        version,
        !keep_alive_asked,
        shared,
        body.clone(),
        std::mem::take(&mut conn.out),
    );

    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let (output, outcome) = run(&*shared.app, environ, output);
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);

    let mut body = lock(&body);
    let reusable = outcome.complete
        && !outcome.must_close
        && !output.announced_close
        && body.drain(config.drain_bytes);
    conn.buf = body.take_leftover();
    drop(body);
    conn.out = output.into_buffer();

    if let Some(failure) = &outcome.failure {
        let request = shared.turns.request(me);
        // A client's mistake is not the server's: below error level (FAIL-12).
        match failure {
            Failure::ClientGone(_) => log::debug!("{request}: {failure}"),
            Failure::ClientError(_) => log::info!("{request}: {failure}"),
            _ => log::error!("{request}: {failure}"),
        }
    }
    if let Some((request_line, referer, user_agent)) = logged {
        shared.access_log.record(&AccessEntry {
            peer: conn.peer.ip(),
            request_line: &request_line,
            status: outcome.status.map(|s| s.as_u16()),
            bytes: outcome.body_bytes,
            referer: referer.as_deref(),
            user_agent: user_agent.as_deref(),
            duration: started.map(|s| s.elapsed()).unwrap_or_default(),
        });
    }
    if reusable && !shared.is_shutting_down() {
        After::KeepAlive
    } else {
        After::Close
    }
}

fn reject(shared: &Shared, conn: &Connection, status: StatusCode, message: &str) -> After {
    let response = error_response(status, message);
    let _ = socket_wait::write_all(&conn.stream, &response, shared.config.write_timeout);
    After::Close
}

fn header_text(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}
