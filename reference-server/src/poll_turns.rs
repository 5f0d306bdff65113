//! How many workers may wait on the poller at once (one per core), and the watch
//! that lets another worker take over when one is held up inside an app.
//!
//! A worker keeps its turn while it serves: a fast request costs no hand-off and
//! no wake-up, because the same thread goes back to waiting. When the supervisor
//! finds a worker serving the same request at two looks [`STALL`] apart, it takes
//! the turn away and wakes an idle worker to poll instead, so a slow app never
//! leaves ready clients unattended. No clock is read on the path of a request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How often the supervisor looks at workers that serve: one serving across two
/// looks loses its turn.
pub(crate) const STALL: Duration = Duration::from_millis(2);

/// One worker's state, as the supervisor sees it.
#[derive(Debug, Default)]
struct Worker {
    /// Whether it holds a turn.
    holds: AtomicBool,
    /// Counts the starts and ends of its services: odd while it serves.
    serving: AtomicU64,
    /// `serving` as the supervisor saw it at its last look.
    seen: AtomicU64,
    /// The request it serves now (method and target), for the graceful-stop log.
    request: Mutex<String>,
}

/// The turns of the workers.
#[derive(Debug)]
pub(crate) struct PollTurns {
    limit: usize,
    holders: Mutex<usize>,
    freed: Condvar,
    workers: Box<[Worker]>,
}

impl PollTurns {
    /// `limit` turns shared by `workers` workers.
    pub(crate) fn new(limit: usize, workers: usize) -> Self {
        Self {
            limit: limit.clamp(1, workers.max(1)),
            holders: Mutex::new(0),
            freed: Condvar::new(),
            workers: (0..workers).map(|_| Worker::default()).collect(),
        }
    }

    /// Takes a turn for worker `me`, waiting up to `timeout` for one. Returns
    /// whether `me` holds a turn.
    pub(crate) fn acquire(&self, me: usize, timeout: Duration) -> bool {
        let worker = &self.workers[me];
        if worker.holds.load(Ordering::Acquire) {
            return true;
        }
        let mut holders = self.holders.lock().unwrap_or_else(PoisonError::into_inner);
        if *holders >= self.limit {
            holders = self
                .freed
                .wait_timeout(holders, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if *holders >= self.limit {
                return false;
            }
        }
        *holders += 1;
        worker.holds.store(true, Ordering::Release);
        true
    }

    /// Gives up `me`'s turn, if it holds one (a worker that stops).
    pub(crate) fn release(&self, me: usize) {
        if self.workers[me].holds.swap(false, Ordering::AcqRel) {
            self.free_one();
        }
    }

    fn free_one(&self) {
        let mut holders = self.holders.lock().unwrap_or_else(PoisonError::into_inner);
        *holders = holders.saturating_sub(1);
        self.freed.notify_one();
    }

    /// Wakes every worker waiting for a turn (a stop).
    pub(crate) fn wake_all(&self) {
        let _guard = self.holders.lock().unwrap_or_else(PoisonError::into_inner);
        self.freed.notify_all();
    }

    pub(crate) fn begin_serving(&self, me: usize) {
        self.workers[me].serving.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn end_serving(&self, me: usize) {
        self.workers[me].serving.fetch_add(1, Ordering::AcqRel);
    }

    /// Records the request `me` serves now.
    pub(crate) fn name_request(&self, me: usize, method: &http::Method, target: &str) {
        use std::fmt::Write;
        let mut request = self.workers[me]
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        request.clear();
        let _ = write!(request, "{method} {target}");
    }

    /// The request worker `me` serves (or served last).
    pub(crate) fn request(&self, me: usize) -> String {
        self.workers[me]
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Workers serving now.
    pub(crate) fn serving(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| w.serving.load(Ordering::Acquire) % 2 == 1)
            .count()
    }

    /// The requests being served now.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.workers
            .iter()
            .filter(|w| w.serving.load(Ordering::Acquire) % 2 == 1)
            .map(|w| {
                w.request
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()
            })
            .collect()
    }

    /// Takes the turn from every worker that serves the same request as at the
    /// previous look, and wakes as many waiting workers. Returns whether any
    /// worker is serving at all (the supervisor looks every [`STALL`] only then).
    pub(crate) fn pass_stalled_turns(&self) -> bool {
        let mut any = false;
        for worker in self.workers.iter() {
            let serving = worker.serving.load(Ordering::Acquire);
            let seen = worker.seen.swap(serving, Ordering::AcqRel);
            if serving % 2 == 0 {
                continue;
            }
            any = true;
            if serving == seen && worker.holds.swap(false, Ordering::AcqRel) {
                self.free_one();
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_moved_on_to_another_request_keeps_its_turn() {
        let turns = PollTurns::new(1, 2);
        assert!(turns.acquire(0, Duration::ZERO));
        turns.begin_serving(0);
        assert!(turns.pass_stalled_turns());
        turns.end_serving(0);
        turns.begin_serving(0);
        assert!(turns.pass_stalled_turns());
        assert!(
            !turns.acquire(1, Duration::ZERO),
            "a new request since the last look is no stall"
        );
    }

    #[test]
    fn turns_are_limited_and_a_released_turn_goes_to_a_waiting_worker() {
        let turns = PollTurns::new(1, 2);
        assert!(turns.acquire(0, Duration::ZERO));
        assert!(turns.acquire(0, Duration::ZERO), "a holder keeps its turn");
        assert!(!turns.acquire(1, Duration::from_millis(10)));
        turns.release(0);
        assert!(turns.acquire(1, Duration::ZERO));
    }

    #[test]
    fn a_worker_serving_past_the_stall_limit_loses_its_turn() {
        let turns = PollTurns::new(1, 2);
        assert!(turns.acquire(0, Duration::ZERO));
        turns.begin_serving(0);
        turns.name_request(0, &http::Method::GET, "/slow");
        assert!(turns.pass_stalled_turns(), "worker 0 is serving");
        assert!(!turns.acquire(1, Duration::ZERO), "not stalled yet");
        assert!(
            turns.pass_stalled_turns(),
            "the same request at the next look"
        );
        assert!(turns.acquire(1, Duration::ZERO), "the turn passed on");
        assert_eq!(turns.serving(), 1);
        assert_eq!(turns.requests(), vec!["GET /slow".to_owned()]);
        turns.end_serving(0);
        assert!(!turns.pass_stalled_turns());
        assert!(
            !turns.acquire(0, Duration::ZERO),
            "the stalled worker waits for a turn again"
        );
    }
}
