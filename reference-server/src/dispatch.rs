//! The hand-offs between the I/O thread and the workers: complete requests go to
//! the workers through a bounded queue (full: 503 at once), connections come back
//! through a channel and a wake-up of the event loop. No HTTP is parsed here.

use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};
use gateway_spec::App;

use crate::access_log::AccessLog;
use crate::config::Config;
use crate::connection::Connection;
use crate::http1::RequestHead;

/// A complete request head and its connection, ready for a worker.
pub(crate) struct Job {
    pub(crate) token: usize,
    pub(crate) conn: Connection,
    pub(crate) head: RequestHead,
    /// Bytes of `conn.buf` the head took.
    pub(crate) head_len: usize,
}

/// A connection a worker is done with.
pub(crate) enum Returned {
    /// Ready for its next request (maybe partly buffered already).
    KeepAlive(usize, Connection),
    /// To be closed gently: the server's side is shut down, the rest of what the
    /// client sends is read and dropped for a moment so that the response is not
    /// destroyed by a reset.
    Linger(usize, Connection),
}

/// What the I/O thread and every worker share.
pub(crate) struct Shared {
    pub(crate) app: Arc<dyn App>,
    pub(crate) config: Config,
    pub(crate) access_log: AccessLog,
    /// Set by a graceful stop: finish in-flight requests, accept nothing new.
    pub(crate) shutting_down: Arc<AtomicBool>,
    /// Requests being served by workers now.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) returns: Sender<Returned>,
    pub(crate) waker: mio::Waker,
}

impl Shared {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Gives a connection back to the I/O thread.
    ///
    /// Without waking it: the I/O thread takes returned connections after every
    /// batch of events, and at least every tick. A request arriving on the
    /// connection meanwhile raises an event that is remembered for the connection
    /// until it is taken back, so nothing is lost, and the common keep-alive
    /// request costs no wake-up. During a graceful stop the I/O thread is woken,
    /// since it waits for in-flight requests to end.
    pub(crate) fn give_back(&self, returned: Returned) {
        let readable = match &returned {
            Returned::KeepAlive(_, conn) | Returned::Linger(_, conn) => {
                conn.readable_while_busy.clone()
            }
        };
        if self.returns.send(returned).is_err() {
            return;
        }
        // Pairs with the fence in the event loop: if an event for this connection
        // was handled before the connection was queued back, the I/O thread may be
        // asleep with it unnoticed, so wake it.
        fence(Ordering::SeqCst);
        if readable.load(Ordering::SeqCst) || self.is_shutting_down() {
            let _ = self.waker.wake();
        }
    }
}

/// Queues `job` for a worker; when every worker is busy and the queue is full,
/// gives it back so that the caller answers 503 (SRV-5).
pub(crate) fn dispatch(jobs: &Sender<Job>, job: Job) -> Option<Job> {
    match jobs.try_send(job) {
        Ok(()) => None,
        Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
    }
}
