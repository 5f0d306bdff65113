//! The bridge's own Python threads, for calls from threads not attached for life:
//! each attaches once for its life and runs jobs handed over by the caller, so
//! `threading.local` survives between requests. It knows nothing of WSGI; jobs are
//! closures.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{Receiver, Sender};
use pyo3::Python;

/// One piece of Python work, run on a pool thread with the GIL held.
pub(crate) type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// A handle on the pool; clones share it. The threads end when the last handle is
/// dropped and the queue is empty.
#[derive(Clone)]
pub(crate) struct Pool {
    jobs: Sender<Job>,
}

/// No Python thread of the bridge's pool ran the work.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The pool's threads could not be started (the first time one was needed).
    #[error("cannot start the bridge's Python threads: {0}")]
    Start(String),
    /// The pool ended before it answered: its threads are gone.
    #[error("the Python thread did not answer (its job panicked, or the interpreter is stopping)")]
    Gone,
}

impl Pool {
    /// Starts `threads` Python threads (at least one).
    pub(crate) fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("python-{n}"))
                .spawn(move || attached_for_life(queue))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a Python thread and waits for its result. The caller holds no
    /// GIL while it waits.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(Python<'_>) -> R + Send + 'static,
    ) -> Result<R, PoolError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let job: Job = Box::new(move |py| {
            let _ = reply.send(work(py));
        });
        self.jobs.send(job).map_err(|_| PoolError::Gone)?;
        answer.recv().map_err(|_| PoolError::Gone)
    }
}

/// The loop of one pool thread: attached once, detached while it waits for a job,
/// re-attached (with the same thread state) for each job.
fn attached_for_life(queue: Receiver<Job>) {
    Python::attach(|py| {
        py.detach(|| {
            while let Ok(job) = queue.recv() {
                // A panicking job drops its reply, which the waiting caller sees;
                // the thread itself lives on.
                let _ = catch_unwind(AssertUnwindSafe(|| Python::attach(job)));
            }
        })
    })
}
