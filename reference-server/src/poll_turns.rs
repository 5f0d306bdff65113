//! How many workers may wait on the poller at once (one per core, more while workers
//! are blocked in apps), and the watch that passes a stalled worker's turn on.
//!
//! A worker keeps its turn while it serves: a fast request costs no hand-off and
//! no wake-up, because the same thread goes back to waiting. When the supervisor
//! finds a worker serving the same request at two looks [`STALL`] apart and its
//! thread is blocked (asleep in the app, waiting on I/O), or still busy after
//! [`BUSY_LOOKS`] looks, it takes the turn away and doubles the number of turns (up
//! to one per worker), so that a burst of slow requests gets its workers within a
//! few looks. A thread that merely waits for a core does not count: more pollers
//! would not help it. After a while without a stall the number of turns halves
//! again, down to one per core, where fast apps are served with the fewest
//! wake-ups. No clock is read on the path of a request.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How often the supervisor looks at workers that serve: one serving across two
/// looks loses its turn.
pub(crate) const STALL: Duration = Duration::from_millis(2);

/// Looks without a stall after which the number of turns halves.
const CALM_LOOKS: usize = 50;

/// Looks after which a worker still running the same request (computing, not
/// blocked) passes its turn anyway, so that one long computation cannot keep the
/// other clients waiting.
const BUSY_LOOKS: u32 = 10;

/// One worker's state, as the supervisor sees it.
#[derive(Debug, Default)]
struct Worker {
    /// Whether it holds a turn.
    holds: AtomicBool,
    /// Counts the starts and ends of its services: odd while it serves.
    serving: AtomicU64,
    /// `serving` as the supervisor saw it at its last look.
    seen: AtomicU64,
    /// Consecutive looks that found it serving the same request.
    looks: std::sync::atomic::AtomicU32,
    /// Its thread id, to ask the kernel whether it is blocked; 0 until known.
    tid: std::sync::atomic::AtomicI32,
    /// The request it serves now (method and target), for the graceful-stop log.
    request: Mutex<String>,
}

/// The turns of the workers.
#[derive(Debug)]
pub(crate) struct PollTurns {
    /// The fewest turns (one per core).
    base: usize,
    /// Turns now: between `base` and the number of workers.
    limit: AtomicUsize,
    holders: AtomicUsize,
    /// Looks since the last stall (the supervisor's alone).
    calm: AtomicUsize,
    /// Waiting workers sleep here; changes to `limit` and `holders` notify it.
    lock: Mutex<()>,
    freed: Condvar,
    workers: Box<[Worker]>,
}

impl PollTurns {
    /// At least `base` turns shared by `workers` workers.
    pub(crate) fn new(base: usize, workers: usize) -> Self {
        let base = base.clamp(1, workers.max(1));
        Self {
            base,
            limit: AtomicUsize::new(base),
            holders: AtomicUsize::new(0),
            calm: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
            workers: (0..workers).map(|_| Worker::default()).collect(),
        }
    }

    /// Takes a free turn, if there is one.
    fn try_take(&self) -> bool {
        let mut holders = self.holders.load(Ordering::Acquire);
        while holders < self.limit.load(Ordering::Acquire) {
            match self.holders.compare_exchange_weak(
                holders,
                holders + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => holders = now,
            }
        }
        false
    }

    /// Takes a turn for worker `me`, waiting up to `timeout` for one. Returns
    /// whether `me` holds a turn.
    pub(crate) fn acquire(&self, me: usize, timeout: Duration) -> bool {
        let worker = &self.workers[me];
        if worker.holds.load(Ordering::Acquire) {
            return true;
        }
        if !self.try_take() {
            let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            // Looked at again under the lock every change notifies under, so that
            // no wake-up is missed.
            if !self.try_take() {
                drop(
                    self.freed
                        .wait_timeout(guard, timeout)
                        .unwrap_or_else(PoisonError::into_inner),
                );
                if !self.try_take() {
                    return false;
                }
            }
        }
        worker.holds.store(true, Ordering::Release);
        true
    }

    /// Gives up `me`'s turn, if it holds one (a worker that stops).
    pub(crate) fn release(&self, me: usize) {
        if self.workers[me].holds.swap(false, Ordering::AcqRel) {
            self.holders.fetch_sub(1, Ordering::AcqRel);
            self.notify(false);
        }
    }

    /// Gives up `me`'s turn if more workers hold one than there are turns now.
    pub(crate) fn shed_excess(&self, me: usize) {
        if self.holders.load(Ordering::Acquire) > self.limit.load(Ordering::Acquire) {
            self.release(me);
        }
    }

    fn notify(&self, all: bool) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        if all {
            self.freed.notify_all();
        } else {
            self.freed.notify_one();
        }
    }

    /// Wakes every worker waiting for a turn (a stop).
    pub(crate) fn wake_all(&self) {
        self.notify(true);
    }

    /// Turns now.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// Records the calling thread as worker `me`'s.
    pub(crate) fn register_thread(&self, me: usize) {
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        self.workers[me].tid.store(tid, Ordering::Release);
    }

    pub(crate) fn begin_serving(&self, me: usize) {
        self.workers[me].serving.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn end_serving(&self, me: usize) {
        self.workers[me].serving.fetch_add(1, Ordering::AcqRel);
    }

    /// Records the request `me` serves now.
    pub(crate) fn name_request(&self, me: usize, method: &http::Method, target: &str) {
        let mut request = self.workers[me]
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Pieces pushed, not formatted: this runs for every request.
        request.clear();
        request.push_str(method.as_str());
        request.push(' ');
        request.push_str(target);
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
    /// previous look, doubles the turns if any did (halves them after
    /// [`CALM_LOOKS`] looks without), and wakes waiting workers to take them.
    /// Returns whether any worker is serving at all (the supervisor looks every
    /// [`STALL`] only then).
    pub(crate) fn pass_stalled_turns(&self) -> bool {
        let (mut any, mut stalled) = (false, 0usize);
        for worker in self.workers.iter() {
            let serving = worker.serving.load(Ordering::Acquire);
            let seen = worker.seen.swap(serving, Ordering::AcqRel);
            if serving % 2 == 0 {
                continue;
            }
            any = true;
            if serving != seen {
                worker.looks.store(0, Ordering::Release);
                continue;
            }
            let looks = worker.looks.fetch_add(1, Ordering::AcqRel) + 1;
            if !worker.holds.load(Ordering::Acquire) {
                continue; // no turn to pass: no need to ask the kernel
            }
            let held_up = looks >= BUSY_LOOKS || is_blocked(worker.tid.load(Ordering::Acquire));
            if held_up && worker.holds.swap(false, Ordering::AcqRel) {
                self.holders.fetch_sub(1, Ordering::AcqRel);
                stalled += 1;
            }
        }
        let limit = self.limit.load(Ordering::Acquire);
        if stalled > 0 {
            self.calm.store(0, Ordering::Release);
            let more = (limit * 2).min(self.workers.len()).max(self.base);
            self.limit.store(more, Ordering::Release);
            self.notify(true);
        } else if self.calm.fetch_add(1, Ordering::AcqRel) + 1 >= CALM_LOOKS {
            self.calm.store(0, Ordering::Release);
            self.limit
                .store((limit / 2).max(self.base), Ordering::Release);
        }
        any
    }
}

/// Whether thread `tid` of this process sleeps in the kernel (state `S` or `D` in
/// `/proc/self/task/TID/stat`), as opposed to running or waiting for a core. Read
/// only for a worker seen serving one request at two looks. Unknown counts as
/// blocked, which errs towards passing the turn.
fn is_blocked(tid: i32) -> bool {
    if tid == 0 {
        return true;
    }
    let Ok(stat) = std::fs::read(format!("/proc/self/task/{tid}/stat")) else {
        return true;
    };
    // "TID (comm) STATE ...": the state follows the last ')'.
    let state = stat
        .iter()
        .rposition(|&b| b == b')')
        .and_then(|end| stat.get(end + 2).copied());
    !matches!(state, Some(b'R'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_asleep_is_blocked_and_a_running_one_is_not() {
        let tid = || rustix::thread::gettid().as_raw_nonzero().get();
        assert!(!is_blocked(tid()), "the thread reading its own state runs");
        let (wake, asleep) = std::sync::mpsc::channel::<()>();
        let (tell, told) = std::sync::mpsc::channel();
        let sleeper = std::thread::spawn(move || {
            tell.send(tid()).unwrap();
            let _ = asleep.recv();
        });
        let sleeper_tid = told.recv().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !is_blocked(sleeper_tid) {
            assert!(std::time::Instant::now() < deadline, "never seen asleep");
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(wake);
        sleeper.join().unwrap();
    }

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
    fn a_stall_passes_the_turn_and_doubles_the_turns_up_to_one_per_worker() {
        let turns = PollTurns::new(1, 3);
        assert!(turns.acquire(0, Duration::ZERO));
        turns.begin_serving(0);
        turns.name_request(0, &http::Method::GET, "/slow");
        assert!(turns.pass_stalled_turns(), "worker 0 is serving");
        assert!(!turns.acquire(1, Duration::ZERO), "not stalled yet");
        assert!(
            turns.pass_stalled_turns(),
            "the same request at the next look"
        );
        assert_eq!(turns.limit(), 2);
        assert!(turns.acquire(1, Duration::ZERO), "the turn passed on");
        assert!(turns.acquire(2, Duration::ZERO), "and there is one more");
        assert_eq!(turns.serving(), 1);
        assert_eq!(turns.requests(), vec!["GET /slow".to_owned()]);
        assert!(
            turns.pass_stalled_turns(),
            "still stalled, but it holds no turn"
        );
        assert_eq!(
            turns.limit(),
            2,
            "a worker without a turn does not count twice"
        );
        turns.end_serving(0);
        assert!(!turns.acquire(0, Duration::ZERO), "both turns are held");
    }

    #[test]
    fn calm_halves_the_turns_and_surplus_holders_stand_by() {
        let turns = PollTurns::new(1, 2);
        assert!(turns.acquire(0, Duration::ZERO));
        turns.begin_serving(0);
        turns.pass_stalled_turns();
        turns.pass_stalled_turns();
        turns.end_serving(0);
        assert!(turns.acquire(0, Duration::ZERO) && turns.acquire(1, Duration::ZERO));
        for _ in 0..CALM_LOOKS {
            turns.pass_stalled_turns();
        }
        assert_eq!(turns.limit(), 1);
        turns.shed_excess(1);
        turns.shed_excess(0);
        assert!(
            turns.acquire(0, Duration::ZERO) != turns.acquire(1, Duration::ZERO),
            "one holder left"
        );
    }
}
