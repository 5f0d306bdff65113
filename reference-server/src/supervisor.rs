//! The supervisor thread, which runs no app: it passes on the turns of stalled workers,
//! stands in when all are busy (queue, then 503), runs the timers and the graceful stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::accept::resume;
use crate::connection::READ_CHUNK;
use crate::dispatch::Shared;
use crate::poll_turns::STALL;
use crate::readiness::{closed, on_ready, Mode};

/// The coarsest tick of the timers (head deadline, keep-alive idle, linger).
const TICK: Duration = Duration::from_millis(250);
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
        if shared.is_shutting_down() {
            let deadline = *stop_deadline.get_or_insert_with(|| {
                begin_stop(&shared);
                Instant::now() + shared.config.graceful_timeout
            });
            // A worker that saw no stop yet may have put a connection back since.
            for conn in shared.table.remove_waiting() {
                closed(&shared, conn);
            }
            if shared.table.taken() == 0 {
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
        if last_sweep.elapsed() >= TICK {
            last_sweep = Instant::now();
            sweep_timers(&shared, last_sweep);
        }
    }
}

/// Stops accepting and closes every connection not serving a request.
fn begin_stop(shared: &Shared) {
    let listener = shared
        .listener
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(listener) = listener {
        let _ = shared.poller.remove(&listener);
    }
    for conn in shared.table.remove_untaken() {
        closed(shared, conn);
    }
}

fn sweep_timers(shared: &Shared, now: Instant) {
    for conn in shared.table.remove_expired(now, &shared.config) {
        closed(shared, conn);
    }
    let mut pause = shared.pause();
    if pause.retry_at.is_some_and(|at| now >= at) {
        pause.retry_at = None;
        drop(pause);
        resume(shared);
    }
}
