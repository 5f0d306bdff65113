//! What a running server tells about itself: a snapshot of its gauges, and an
//! observer told of each finished response, for metrics a program exports.

use std::sync::Arc;
use std::time::Duration;

/// The server's state at one moment (see
/// [`Controller::stats`](crate::Controller::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests an app is running or whose response is still being sent.
    pub in_flight: usize,
    /// Complete requests waiting for a worker.
    pub queued: usize,
    /// Open connections.
    pub connections: usize,
    /// Responses parked in the connection table, waiting for a slow reader.
    pub parked: usize,
}

/// One finished (or cut) response, as an observer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseRecord {
    /// Its status; `None` when it was cut before its head went out.
    pub status: Option<u16>,
    /// From the request's admission to the response's end.
    pub duration: Duration,
}

/// Called on a worker thread for every finished response: keep it short (an
/// atomic add, a histogram observation).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use reference_server::{ResponseObserver, ResponseRecord};
///
/// let served = Arc::new(AtomicU64::new(0));
/// let counted = served.clone();
/// let observer = ResponseObserver::new(move |_: ResponseRecord| {
///     counted.fetch_add(1, Ordering::Relaxed);
/// });
/// # let _ = observer;
/// ```
#[derive(Clone)]
pub struct ResponseObserver(pub(crate) Arc<dyn Fn(ResponseRecord) + Send + Sync>);

impl ResponseObserver {
    /// An observer calling `f`.
    pub fn new(f: impl Fn(ResponseRecord) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl std::fmt::Debug for ResponseObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseObserver")
    }
}
