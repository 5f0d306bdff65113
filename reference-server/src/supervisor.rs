//! The supervisor thread, which runs no app: it passes on the turns of stalled workers,
//! stands in when all are busy (queue, then 503), runs the timers and the graceful stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::accept::{adopt_backlog, resume};
use crate::connection::READ_CHUNK;
use crate::connection_state::{close_connection, on_ready, take_in_arrived, Mode};
use crate::connection_table::Expired;
use crate::poll_turns::STALL;
use crate::response_writer::refuse;
use crate::shared::Shared;
use crate::worker::cut_response;

/// How often the timers are looked at (head deadline, minimum rates, keep-alive
/// idle, linger): their coarsest resolution.
const TIMER_SWEEP: Duration = Duration::from_millis(250);
/// How long a graceful stop keeps open connections before closing those that stay
/// idle (at most the graceful timeout): a client that sends its next request on a
/// keep-alive connection meanwhile gets it answered, with `Connection: close`,
/// instead of a connection closed under a request already on its way (SRV-8).
const DRAIN: Duration = Duration::from_secs(1);
/// How often the supervisor looks at the workers while none is serving.
const IDLE_WATCH: Duration = Duration::from_millis(50);

/// How the server ended.
pub(crate) struct Stopped {
    /// Requests still running when the graceful timeout ran out.
    pub(crate) aborted: Vec<String>,
}

/// Runs until a graceful stop has finished (or timed out).
pub(crate) fn supervise(shared: Arc<Shared>) -> Stopped {
    let _ = shared.supervisor.set(std::thread::current());
    let mut scratch = vec![0; READ_CHUNK];
    let mut last_sweep = Instant::now();
    let mut stop_deadline: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    loop {
        let any_serving = shared.turns.pass_stalled_turns();
        let all_busy = shared.turns.serving() >= shared.config.workers;
        // During a stop no request is started, and the waker stays raised so that
        // every worker sees it: the supervisor does not poll then (it would spin).
        if all_busy && stop_deadline.is_none() {
            // Every worker is inside the app: answer the clients meanwhile.
            match shared.next_ready(STALL) {
                Ok(Some(ready)) => on_ready(&shared, ready, &mut scratch, Mode::Queue),
                Ok(None) => {}
                Err(e) => {
                    log::error!("the supervisor failed to wait for events: {e}");
                    std::thread::sleep(STALL);
                }
            }
        } else {
            std::thread::park_timeout(if any_serving { STALL } else { IDLE_WATCH });
        }
        if shared.stop_requested() && stop_deadline.is_none() {
            // The drain: no new connections, every response closes its connection,
            // and a request that arrives on an open one is still served as usual.
            let drained_at = *drain_until.get_or_insert_with(|| {
                stop_accepting(&shared);
                Instant::now() + DRAIN.min(shared.config.graceful_timeout)
            });
            let drained = Instant::now() >= drained_at
                || (shared.table.busy() == 0 && shared.table.waiting_tokens().is_empty());
            if drained {
                // Before the stop begins: workers leave once nothing is in flight,
                // so what had arrived must be queued while they still serve.
                take_in_arrived_requests(&shared, &mut scratch);
                shared.begin_stop();
                stop_deadline = Some(drained_at + shared.config.graceful_timeout);
            }
        }
        if let Some(deadline) = stop_deadline {
            // A worker that saw no stop yet may have put a connection back since.
            for token in shared.table.waiting_tokens() {
                take_in_arrived(&shared, token, &mut scratch);
            }
            if shared.table.busy() == 0 {
                return Stopped { aborted: vec![] };
            }
            if Instant::now() >= deadline {
                let aborted = shared.turns.requests();
                for request in &aborted {
                    log::warn!("graceful timeout: cutting the in-flight request {request}");
                }
                return Stopped { aborted };
            }
        }
        if last_sweep.elapsed() >= TIMER_SWEEP {
            last_sweep = Instant::now();
            sweep_timers(&shared, last_sweep);
        }
    }
}

/// Stops accepting: the listeners close (new clients are refused; a Unix socket's
/// file goes too) once the connections in their backlog are taken in (SRV-8).
fn stop_accepting(shared: &Shared) {
    let listeners = std::mem::take(
        &mut *shared
            .listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for listener in &listeners {
        let _ = shared.poller.remove(listener);
        adopt_backlog(shared, listener);
    }
}

/// After the drain: takes in the requests that had arrived by now, so that they are
/// served, not reset (SRV-8); connections that stayed idle are closed.
fn take_in_arrived_requests(shared: &Shared, scratch: &mut [u8]) {
    for conn in shared.table.remove_lingering() {
        close_connection(shared, conn);
    }
    for token in shared.table.waiting_tokens() {
        take_in_arrived(shared, token, scratch);
    }
}

fn sweep_timers(shared: &Shared, now: Instant) {
    for expired in shared.table.remove_expired(now, &shared.config) {
        let conn = match expired {
            Expired::Quiet(conn) => conn,
            Expired::BodyTooSlow(conn) => {
                // A client fault: 408, as a body read that is too slow gets (FAIL-10).
                let rate = shared.config.min_body_rate;
                let message = format!(
                    "the request body arrived slower than the minimum rate of {rate} bytes/s"
                );
                log::info!("{}: {message}", conn.peer_name());
                refuse(&conn, http::StatusCode::REQUEST_TIMEOUT, &message);
                conn
            }
            Expired::ResponseTooSlow(parked) => {
                let rate = shared.config.min_response_rate;
                let why =
                    format!("the client took it slower than the minimum rate of {rate} bytes/s");
                cut_response(shared, parked, &why)
            }
        };
        close_connection(shared, conn);
    }
    let mut pause = shared.pause();
    if pause.retry_at.is_some_and(|at| now >= at) {
        pause.retry_at = None;
        drop(pause);
        resume(shared);
    }
}
