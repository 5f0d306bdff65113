//! What the workers and the supervisor share (poller, connection table, turns), the
//! bounded queue that holds complete requests while every worker is busy, and the
//! words for handing a connection between them (`Job`, `Afterwards`).

use crate::listener::Listener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::thread::Thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use gateway_spec::App;

use crate::access_log::AccessLog;
use crate::body_budget::BodyBudget;
use crate::config::Config;
use crate::connection::Connection;
use crate::connection_table::ConnectionTable;
use crate::http1::RequestHead;
use crate::poll_turns::PollTurns;
use crate::poller::{Poller, Ready};
use crate::response_in_flight::Parked;

/// A request ready for a worker: its head is complete, and so is its body, or as
/// much of it as the table buffers (or it waits for `100 Continue`).
pub(crate) struct ReadyRequest {
    pub(crate) head: RequestHead,
    /// Bytes of the connection's buffer the head took; the body follows.
    pub(crate) head_len: usize,
    /// When the head was complete: the body's minimum rate counts from here.
    pub(crate) since: Instant,
    /// The body, when the table buffered it apart from the head.
    pub(crate) apart: Option<Vec<u8>>,
}

/// A ready request and its connection, for a worker.
pub(crate) struct Job {
    pub(crate) token: usize,
    pub(crate) conn: Connection,
    pub(crate) request: ReadyRequest,
}

/// What becomes of a connection when a worker lets go of it.
pub(crate) enum Afterwards {
    /// Ready for its next request (maybe partly buffered already).
    KeepAlive(Connection),
    /// To be closed gently: the server's side is shut down, the rest of what the
    /// client sends is read and dropped for a moment so that the response is not
    /// destroyed by a reset.
    Linger(Connection),
    /// Its response waits for the client: back to the table until writable.
    Parked(Box<Parked>),
}

/// Why accepting is paused, if it is.
#[derive(Debug, Default)]
pub(crate) struct AcceptPause {
    /// The connection limit is reached: resume when a connection closes.
    pub(crate) at_limit: bool,
    /// The process ran out of file descriptors: retry at this time.
    pub(crate) retry_at: Option<Instant>,
}

/// What every worker and the supervisor share.
pub(crate) struct Shared {
    pub(crate) app: Arc<dyn App>,
    pub(crate) config: Config,
    /// What is left of the memory bodies arriving in the table may hold.
    pub(crate) body_budget: BodyBudget,
    pub(crate) access_log: AccessLog,
    /// Told of every finished response, when a program asked.
    pub(crate) observer: Option<crate::ResponseObserver>,
    /// Set when a graceful stop is asked for: the supervisor then serves what
    /// had already arrived and sets `shutting_down`.
    /// Responses from then on close their connection.
    pub(crate) stop_requested: Arc<AtomicBool>,
    /// Set by a graceful stop: finish in-flight requests, accept nothing new.
    pub(crate) shutting_down: AtomicBool,
    /// Requests being served by workers now.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) poller: Poller,
    /// Taken away (closed) when a stop begins, so that new clients are refused.
    pub(crate) listeners: RwLock<Vec<Listener>>,
    pub(crate) accept_pause: Mutex<AcceptPause>,
    pub(crate) next_token: AtomicUsize,
    pub(crate) table: ConnectionTable,
    pub(crate) turns: PollTurns,
    /// Readiness events taken from the poller by a worker that had one to handle
    /// already: the next free worker handles them before it waits again.
    pub(crate) ready: Sender<Ready>,
    pub(crate) ready_rest: Receiver<Ready>,
    /// Complete requests read by the supervisor while every worker was busy.
    pub(crate) queue: Sender<Job>,
    pub(crate) queued: Receiver<Job>,
    /// Parked responses whose client became writable while every worker was busy
    /// (the supervisor runs no app, and resuming pulls the app's body). At most one
    /// token per parked connection and event, so it needs no bound of its own.
    pub(crate) resume: Sender<Ready>,
    pub(crate) resumable: Receiver<Ready>,
    /// The supervisor thread, unparked by a stop.
    pub(crate) supervisor: OnceLock<Thread>,
}

impl Shared {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Asks for a graceful stop; the supervisor begins it (`begin_stop`) once it
    /// has taken in the requests that had arrived by then.
    pub(crate) fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        if let Some(supervisor) = self.supervisor.get() {
            supervisor.unpark();
        }
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::SeqCst)
    }

    /// Begins a graceful stop: every thread notices at once.
    pub(crate) fn begin_stop(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.poller.wake();
        self.turns.wake_all();
        if let Some(supervisor) = self.supervisor.get() {
            supervisor.unpark();
        }
    }

    /// The next readiness event: one taken earlier by another worker, else one
    /// from the poller (waiting up to `timeout`).
    pub(crate) fn next_ready(
        &self,
        timeout: std::time::Duration,
    ) -> std::io::Result<Option<Ready>> {
        match self.ready_rest.try_recv() {
            Ok(ready) => Ok(Some(ready)),
            Err(_) => self.poller.wait(timeout, &self.ready),
        }
    }

    pub(crate) fn pause(&self) -> std::sync::MutexGuard<'_, AcceptPause> {
        self.accept_pause
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` for the next free worker; when the queue is full, gives it back
    /// so that the caller answers 503 (SRV-5).
    pub(crate) fn enqueue(&self, job: Job) -> Option<Job> {
        match self.queue.try_send(job) {
            Ok(()) => {
                // A worker may be waiting on the poller with nothing to do.
                self.poller.wake();
                None
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
        }
    }
}
