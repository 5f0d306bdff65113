//! The worker's side of `--processes`: its heartbeat to the supervisor (proving the
//! app can still run) and the request count that retires it at `--max-requests`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use gateway_spec::{App, AppError, Body, Environ, StartResponse};

use crate::worker_link::{self, Message};

/// What the heartbeat runs before each beat: it returns once the app could run a
/// request (for a Python app: once this thread took the GIL).
pub(crate) type Liveness = Box<dyn Fn() + Send + Sync>;

static LIVENESS: OnceLock<Liveness> = OnceLock::new();

/// Ties this worker's life to its supervisor's, takes the supervisor's pipe and,
/// when `interval` is set, starts the heartbeat
/// thread. Called first in a worker, before the app loads: a load that wedges the
/// interpreter for longer than `--timeout` gets the worker replaced too.
pub(crate) fn start(interval: Option<Duration>) {
    // A worker never outlives its supervisor: the kernel sends TERM when it dies
    // (a graceful stop), and one that died before this line is seen here.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM));
    let parent = rustix::process::getppid().map(|pid| pid.as_raw_nonzero().get() as u32);
    let supervisor = std::env::var(crate::processes::WORKER_ENV)
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok());
    if supervisor.is_some() && parent != supervisor {
        log::error!("the supervisor is gone; this worker process stops");
        std::process::exit(1);
    }
    if !worker_link::adopt() {
        return;
    }
    let Some(interval) = interval else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("gateway-heartbeat".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            if let Some(liveness) = LIVENESS.get() {
                liveness();
            }
            worker_link::send(Message::Beat);
        });
    if let Err(e) = spawned {
        log::error!(
            "cannot start the heartbeat thread: {e}; the supervisor will replace this worker"
        );
    }
}

/// Makes each heartbeat wait for `liveness` first.
pub(crate) fn set_liveness(liveness: Liveness) {
    let _ = LIVENESS.set(liveness);
}

/// Tells the supervisor this worker serves.
pub(crate) fn ready() {
    worker_link::send(Message::Ready);
}

/// An app that counts its requests and, at `limit`, asks the supervisor for a
/// replacement (it keeps serving until the supervisor stops it gracefully).
pub(crate) struct Retiring<A> {
    app: A,
    served: AtomicU64,
    limit: u64,
}

impl<A: App> Retiring<A> {
    /// `app`, retired after `limit` requests.
    pub(crate) fn new(app: A, limit: u64) -> Arc<Self> {
        Arc::new(Self {
            app,
            served: AtomicU64::new(0),
            limit,
        })
    }
}

impl<A: App> App for Retiring<A> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        let result = self.app.call(environ, start_response);
        if self.served.fetch_add(1, Ordering::Relaxed) + 1 == self.limit {
            log::info!(
                "served {} requests (--max-requests): asking for a replacement",
                self.limit
            );
            worker_link::send(Message::Retiring);
        }
        result
    }
}
