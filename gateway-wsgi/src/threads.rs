//! Where the bridge runs Python: right on the calling thread when that thread is
//! attached to the interpreter for life ([`attach_for_life`]), else on the pool.
//! It does not decide how many threads a server has; its caller does.

use std::cell::Cell;
use std::sync::OnceLock;

use pyo3::Python;

use crate::pool::{Pool, PoolError};

thread_local! {
    /// Whether this thread runs inside [`attach_for_life`].
    static ATTACHED_FOR_LIFE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on this thread with a Python thread state that lasts as long as `f`:
/// the thread attaches to the interpreter once, then releases the GIL for `f`, and
/// every [`WsgiApp`](crate::WsgiApp) request `f` makes on this thread runs the app
/// right here, re-attaching with that same thread state (about 0.1 µs) instead of
/// handing the request to a pool thread and waiting for it (two wake-ups and two
/// context switches). So `threading.local`, Django's per-thread database
/// connections included, survives between the requests of this thread.
///
/// A server calls it around each worker thread's whole run (for
/// `reference-server`: in a `WorkerWrapper`); the thread must not hold the GIL
/// while it waits for work, which `f` guarantees by running detached.
///
/// ```no_run
/// gateway_wsgi::attach_for_life(|| {
///     assert!(gateway_wsgi::is_attached_for_life());
///     // serve requests on this thread
/// });
/// ```
pub fn attach_for_life<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    Python::attach(|py| {
        let _mark = Marked::set();
        py.detach(f)
    })
}

/// Whether this thread runs inside [`attach_for_life`], so that the app runs on it.
pub fn is_attached_for_life() -> bool {
    ATTACHED_FOR_LIFE.with(Cell::get)
}

/// Returns once this thread could take the GIL, so once the interpreter would run
/// a request: a watchdog calls it to tell a busy interpreter (Python code running,
/// the GIL changing hands every few milliseconds) from a wedged one (a C call that
/// holds the GIL and never returns), where it blocks.
///
/// ```no_run
/// gateway_wsgi::wait_for_interpreter();
/// ```
pub fn wait_for_interpreter() {
    Python::attach(|_| ());
}

/// Marks this thread as attached for life until dropped (unwinding included).
struct Marked {
    before: bool,
}

impl Marked {
    fn set() -> Self {
        Self {
            before: ATTACHED_FOR_LIFE.with(|a| a.replace(true)),
        }
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        ATTACHED_FOR_LIFE.with(|a| a.set(self.before));
    }
}

/// Runs the bridge's Python work: on the calling thread when it is attached for
/// life, else on a pool of Python threads started the first time an unattached
/// thread (a test client, a server without the wrapper, the supervisor closing a
/// cut response) needs one.
pub(crate) struct Runner {
    pool_threads: usize,
    pool: OnceLock<Result<Pool, String>>,
}

impl Runner {
    /// A runner whose pool, once needed, has `pool_threads` threads.
    pub(crate) fn new(pool_threads: usize) -> Self {
        Self {
            pool_threads,
            pool: OnceLock::new(),
        }
    }

    /// Runs `work` with the GIL held and returns its result.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(Python<'_>) -> R + Send + 'static,
    ) -> Result<R, PoolError> {
        if is_attached_for_life() {
            return Ok(Python::attach(work));
        }
        let pool = self
            .pool
            .get_or_init(|| Pool::start(self.pool_threads).map_err(|e| e.to_string()));
        match pool {
            Ok(pool) => pool.run(work),
            Err(why) => Err(PoolError::Start(why.clone())),
        }
    }
}
