//! The library's front door: a builder that binds (or adopts) a listener, starts the
//! supervisor and the workers, and a handle that stops them gracefully.
//! Signals and command-line parsing belong to `gateway-serve`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use gateway_spec::App;
use thiserror::Error;

use crate::access_log::AccessLog;
use crate::body_budget::BodyBudget;
use crate::config::Config;
use crate::connection_table::ConnectionTable;
use crate::listener::{BindAddr, BindOptions, ListenAddr, Listener};
use crate::poll_turns::PollTurns;
use crate::poller::{listener_token, Poller, MAX_LISTENERS};
use crate::shared::{AcceptPause, Shared};
use crate::supervisor::{supervise, Stopped};
use crate::worker::run_worker;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The address is not a `host:port` that resolves.
    #[error("cannot listen on {addr}: {source}; give host:port, such as 127.0.0.1:8000")]
    Resolve {
        /// The address asked for.
        addr: String,
        /// What the resolver said.
        source: io::Error,
    },
    /// Another socket already listens on the address.
    #[error(
        "cannot listen on {addr}: the address is already in use; is another server using the port?"
    )]
    AddrInUse {
        /// The address asked for.
        addr: String,
    },
    /// The address could not be bound for another reason (permissions, an
    /// address this machine does not have).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// A Unix socket's path is taken by something this server must not remove.
    #[error("cannot listen on {addr}: {why}")]
    PathTaken {
        /// The address asked for.
        addr: String,
        /// What is in the way, and what to do.
        why: String,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
    /// Setting up the poller or a thread failed.
    #[error("cannot start the server: {0}")]
    Start(#[from] io::Error),
}

/// How a server run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeReport {
    /// Requests still running when the graceful timeout ran out; they were cut.
    pub aborted: usize,
}

/// A server for one app, being configured.
///
/// ```no_run
/// use gateway_spec::{Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
/// use reference_server::Server;
///
/// let app = |_: Environ, start: StartResponse| {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from("Hello, World!"))
/// };
/// Server::bind("127.0.0.1:8000").unwrap().workers(8).serve(app).unwrap();
/// ```
pub struct Server {
    listeners: Vec<Listener>,
    config: Config,
    access_log: AccessLog,
    worker_wrapper: Option<WorkerWrapper>,
    observer: Option<crate::ResponseObserver>,
}

impl Server {
    /// Binds `addr` (with `SO_REUSEADDR`, backlog 1024).
    pub fn bind(addr: impl ToSocketAddrs + std::fmt::Display) -> Result<Self, ServeError> {
        let shown = addr.to_string();
        let resolved = crate::listener::resolve(addr, &shown)?;
        let listener = crate::listener::bind_tcp(resolved, &shown, &BindOptions::default())?;
        Ok(Self::from_listeners([listener]))
    }

    /// Binds every address of `addrs` with `options`: TCP and Unix sockets, served
    /// alike.
    pub fn bind_all<'a>(
        addrs: impl IntoIterator<Item = &'a BindAddr>,
        options: &BindOptions,
    ) -> Result<Self, ServeError> {
        let listeners = addrs
            .into_iter()
            .map(|addr| Listener::bind(addr, options))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_listeners(listeners))
    }

    /// Serves on a listener bound elsewhere (tests bind `127.0.0.1:0`).
    pub fn from_listener(listener: TcpListener) -> Self {
        Self::from_listeners([Listener::Tcp(listener)])
    }

    /// Serves on every one of `listeners` (bound elsewhere, or with
    /// [`Listener::bind`]); a server needs at least one, and at most 1024.
    pub fn from_listeners(listeners: impl IntoIterator<Item = Listener>) -> Self {
        Self {
            listeners: listeners.into_iter().collect(),
            config: Config::default(),
            access_log: AccessLog::off(),
            worker_wrapper: None,
            observer: None,
        }
    }

    /// The TCP address the server listens on first; see [`Server::listen_addrs`]
    /// for all of them.
    ///
    /// # Errors
    ///
    /// When the server listens on no TCP socket (only Unix ones).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        first_tcp(&self.listen_addrs()?)
    }

    /// What the server listens on, in the order the listeners were given.
    pub fn listen_addrs(&self) -> io::Result<Vec<ListenAddr>> {
        self.listeners.iter().map(Listener::local_addr).collect()
    }

    /// Replaces every setting at once.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the number of worker threads.
    pub fn workers(mut self, workers: usize) -> Self {
        self.config.workers = workers;
        self
    }

    /// Sets how many complete requests may wait for a worker.
    pub fn queue_depth(mut self, depth: usize) -> Self {
        self.config.queue_depth = depth;
        self
    }

    /// Sets the graceful shutdown timeout.
    pub fn graceful_timeout(mut self, timeout: Duration) -> Self {
        self.config.graceful_timeout = timeout;
        self
    }

    /// Sets where access log lines go.
    pub fn access_log(mut self, log: AccessLog) -> Self {
        self.access_log = log;
        self
    }

    /// Tells `observer` of every finished response (for metrics); none by default.
    pub fn observe_responses(mut self, observer: crate::ResponseObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Runs each worker thread's whole life inside `wrapper` (see [`WorkerWrapper`]):
    /// for set-up an app needs on the very threads that call it, such as attaching
    /// them to an embedded interpreter once for their life. Without one (the
    /// default) the workers just serve.
    pub fn worker_wrapper(mut self, wrapper: WorkerWrapper) -> Self {
        self.worker_wrapper = Some(wrapper);
        self
    }

    /// Serves `app` on this thread until a graceful stop finishes. Without a
    /// [`ServerHandle`] nothing stops it but the process ending; the binary wires
    /// signals to [`Server::spawn`]'s handle instead.
    pub fn serve(self, app: impl App) -> Result<ServeReport, ServeError> {
        Ok(self.spawn(app)?.join())
    }

    /// Starts serving `app` on background threads and returns a handle to stop it.
    pub fn spawn(self, app: impl App) -> Result<ServerHandle, ServeError> {
        let addrs = self.listen_addrs()?;
        let config = self.config;
        if config.workers == 0 {
            return Err(ServeError::Config("workers must be at least 1".into()));
        }
        if config.queue_depth == 0 {
            return Err(ServeError::Config("queue depth must be at least 1".into()));
        }
        if self.listeners.is_empty() || self.listeners.len() > MAX_LISTENERS {
            return Err(ServeError::Config(format!(
                "a server listens on 1 to {MAX_LISTENERS} sockets, not {}",
                self.listeners.len()
            )));
        }
        let poller = Poller::new()?;
        for (index, listener) in self.listeners.iter().enumerate() {
            listener.set_nonblocking(true)?;
            poller.add(listener, listener_token(index))?;
        }
        let (queue, queued) = crossbeam_channel::bounded(config.queue_depth);
        let (ready, ready_rest) = crossbeam_channel::unbounded();
        let (resume, resumable) = crossbeam_channel::unbounded();
        let workers = config.workers;
        // One worker per core waits on the poller at a time: more only add
        // wake-ups; the others stand by for workers held up in an app.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shared = Arc::new(Shared {
            app: Arc::new(app),
            body_budget: BodyBudget::new(config.body_buffer_total_bytes),
            config,
            access_log: self.access_log,
            observer: self.observer,
            stop_requested: Arc::new(AtomicBool::new(false)),
            shutting_down: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            poller,
            listeners: RwLock::new(self.listeners),
            accept_pause: Mutex::new(AcceptPause::default()),
            next_token: AtomicUsize::new(0),
            table: ConnectionTable::default(),
            turns: PollTurns::new(cores, workers),
            ready,
            ready_rest,
            queue,
            queued,
            resume,
            resumable,
            supervisor: OnceLock::new(),
        });
        let supervisor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gateway-supervisor".into())
                .spawn(move || supervise(shared))?
        };
        let mut threads = Vec::with_capacity(workers);
        for i in 0..workers {
            let shared = shared.clone();
            let wrapper = self.worker_wrapper.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("gateway-worker-{i}"))
                    .spawn(move || match wrapper {
                        None => run_worker(shared, i),
                        Some(wrapper) => wrapper.wrap(shared, i),
                    })?,
            );
        }
        Ok(ServerHandle {
            addrs,
            shared,
            supervisor: Some(supervisor),
            workers: threads,
        })
    }
}

/// What every worker thread runs inside, set with [`Server::worker_wrapper`]: a
/// function called once on each worker thread, on that thread, with the thread's
/// whole run ([`WorkerRun`]), which it must start with [`WorkerRun::run`]. Whatever
/// it does before `run` happens before the worker serves its first request; what it
/// does after, once the worker stopped (after a graceful stop, or never if the
/// process exits first).
///
/// The server knows nothing of what the wrapper is for. Only the worker threads,
/// which run the app, are wrapped; the supervisor thread is not (it runs no app
/// code but the `close()` of a response body it cuts because its client is too
/// slow), so an app must still work when called from an unwrapped thread.
///
/// A wrapper that returns without calling `run` leaves the worker to serve
/// unwrapped, and an error is logged; one that panics ends its worker thread.
///
/// ```no_run
/// use gateway_spec::{Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
/// use reference_server::{Server, WorkerRun, WorkerWrapper};
///
/// thread_local!(static SCRATCH: std::cell::RefCell<Vec<u8>> = Default::default());
///
/// let wrapper = WorkerWrapper::new(|run: WorkerRun| {
///     log::info!("worker {} starting", run.worker());
///     SCRATCH.with(|s| s.borrow_mut().reserve(1 << 20)); // per-thread set-up
///     run.run();
///     log::info!("worker stopped");
/// });
/// let app = |_: Environ, start: StartResponse| {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from("Hello, World!"))
/// };
/// Server::bind("127.0.0.1:8000")?.worker_wrapper(wrapper).serve(app)?;
/// # Ok::<(), reference_server::ServeError>(())
/// ```
#[derive(Clone)]
pub struct WorkerWrapper(Arc<dyn Fn(WorkerRun) + Send + Sync>);

impl WorkerWrapper {
    /// A wrapper that calls `wrap` on each worker thread with that thread's run.
    pub fn new(wrap: impl Fn(WorkerRun) + Send + Sync + 'static) -> Self {
        Self(Arc::new(wrap))
    }

    /// The body of a wrapped worker thread: the wrapper around the worker's loop.
    fn wrap(&self, shared: Arc<Shared>, worker: usize) {
        let ran = Arc::new(AtomicBool::new(false));
        let serve = {
            let shared = shared.clone();
            Box::new(move || run_worker(shared, worker))
        };
        (self.0)(WorkerRun {
            worker,
            thread: std::thread::current().id(),
            ran: ran.clone(),
            serve,
        });
        if !ran.load(Ordering::SeqCst) {
            // A worker that never serves would leave its share of the turns unused
            // and a graceful stop waiting: serve, unwrapped, rather than not at all.
            log::error!(
                "the worker wrapper returned without running worker {worker}: it serves unwrapped"
            );
            run_worker(shared, worker);
        }
    }
}

impl std::fmt::Debug for WorkerWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerWrapper").finish_non_exhaustive()
    }
}

/// One worker thread's whole run, handed to its [`WorkerWrapper`]. It is `Send` so
/// that a wrapper may move it into closures that demand it (an interpreter's "run
/// this without the lock" call, say), but it runs only on its own thread.
#[must_use = "the worker serves only once WorkerRun::run is called"]
pub struct WorkerRun {
    worker: usize,
    thread: ThreadId,
    ran: Arc<AtomicBool>,
    serve: Box<dyn FnOnce() + Send>,
}

impl WorkerRun {
    /// The worker's number, from 0 (its thread is named `gateway-worker-N`).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Serves requests on this thread until the server stops.
    ///
    /// # Panics
    ///
    /// When called on another thread than the worker's own: the server tracks its
    /// workers by thread.
    pub fn run(self) {
        assert_eq!(
            std::thread::current().id(),
            self.thread,
            "WorkerRun::run must be called on the worker thread it was handed to"
        );
        self.ran.store(true, Ordering::SeqCst);
        (self.serve)();
    }
}

impl std::fmt::Debug for WorkerRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerRun")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

/// The first TCP address among `addrs`.
fn first_tcp(addrs: &[ListenAddr]) -> io::Result<SocketAddr> {
    addrs
        .iter()
        .find_map(|addr| match addr {
            ListenAddr::Tcp(addr) => Some(*addr),
            ListenAddr::Unix(_) => None,
        })
        .ok_or_else(|| io::Error::other("the server listens on Unix sockets only"))
}

/// A running server: its addresses, and how to stop it.
pub struct ServerHandle {
    addrs: Vec<ListenAddr>,
    shared: Arc<Shared>,
    supervisor: Option<JoinHandle<Stopped>>,
    workers: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The first TCP address the server listens on; on a server with Unix sockets
    /// only, the unspecified `0.0.0.0:0` (see [`ServerHandle::listen_addrs`]).
    pub fn local_addr(&self) -> SocketAddr {
        first_tcp(&self.addrs).unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Every address the server listens on, in the order its listeners were given.
    pub fn listen_addrs(&self) -> &[ListenAddr] {
        &self.addrs
    }

    /// A cloneable handle that can start the graceful stop, or reopen the access
    /// log, from another thread (a signal handler, say).
    pub fn controller(&self) -> Controller {
        Controller(self.shared.clone())
    }

    /// The old name of [`ServerHandle::controller`].
    #[deprecated(note = "use controller(), which also reopens the access log")]
    pub fn stopper(&self) -> Controller {
        self.controller()
    }

    /// Requests being served right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Starts a graceful stop: no new connections, idle ones closed at once,
    /// in-flight requests finish (answered with `Connection: close`) within the
    /// graceful timeout. Returns at once; [`ServerHandle::join`] waits.
    pub fn shutdown(&self) {
        self.shared.request_stop();
    }

    /// Waits until the server stopped. Workers still serving past the graceful
    /// timeout are left to finish on their own; the report counts them.
    pub fn join(mut self) -> ServeReport {
        let end = self.supervisor.take().and_then(|t| t.join().ok()).map_or(
            ServeReport { aborted: 0 },
            |end| ServeReport {
                aborted: end.aborted.len(),
            },
        );
        if end.aborted == 0 {
            for worker in self.workers.drain(..) {
                let _ = worker.join();
            }
        }
        end
    }

    /// Stops gracefully and waits: [`ServerHandle::shutdown`] then
    /// [`ServerHandle::join`].
    pub fn stop(self) -> ServeReport {
        self.shutdown();
        self.join()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        // A handle dropped without a stop (a failing test) must not leave threads
        // serving in the background.
        if self.supervisor.is_some() {
            self.shutdown();
        }
    }
}

/// Controls a running server from any thread: a graceful stop, a fresh access log.
#[derive(Clone)]
pub struct Controller(Arc<Shared>);

/// The old name of [`Controller`].
#[deprecated(note = "renamed Controller")]
pub type Stopper = Controller;

impl Controller {
    /// Same as [`ServerHandle::shutdown`].
    pub fn shutdown(&self) {
        self.0.request_stop();
    }

    /// Opens the access log file again by its path (after a rotation); see
    /// [`AccessLog::reopen`].
    ///
    /// # Errors
    ///
    /// When the file cannot be opened; the old one stays in use.
    pub fn reopen_access_log(&self) -> io::Result<()> {
        self.0.access_log.reopen()
    }

    /// The server's gauges now: requests in flight, queued, open connections and
    /// parked responses.
    pub fn stats(&self) -> crate::Stats {
        let shared = &self.0;
        crate::Stats {
            in_flight: shared.in_flight.load(std::sync::atomic::Ordering::Relaxed),
            queued: shared.queued.len(),
            connections: shared.table.len(),
            parked: shared.table.parked(),
        }
    }
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use gateway_spec::{Body, Environ, StartResponse};
    use http::{HeaderMap, StatusCode};

    thread_local!(static WRAPPED_AS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) });

    /// Answers which worker's wrapper set up the thread the app runs on.
    fn which_wrapper(_: Environ, start: StartResponse) -> Result<Body, gateway_spec::AppError> {
        start.call(StatusCode::OK, HeaderMap::new())?;
        let wrapped = WRAPPED_AS.with(|w| w.get());
        Ok(Body::from(format!("{wrapped:?}")))
    }

    fn get(addr: SocketAddr) -> String {
        fixtures::raw_client::exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .text()
    }

    #[test]
    fn the_app_runs_inside_the_worker_wrapper_and_its_tail_runs_after_the_stop() {
        let finished = Arc::new(AtomicUsize::new(0));
        let wrapper = {
            let finished = finished.clone();
            WorkerWrapper::new(move |run: WorkerRun| {
                WRAPPED_AS.with(|w| w.set(Some(run.worker())));
                run.run();
                finished.fetch_add(1, Ordering::SeqCst);
            })
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Server::from_listener(listener)
            .workers(2)
            .worker_wrapper(wrapper)
            .spawn(which_wrapper)
            .unwrap();
        let body = get(server.local_addr());
        assert!(body == "Some(0)" || body == "Some(1)", "{body}");
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        assert_eq!(server.stop(), ServeReport { aborted: 0 });
        assert_eq!(finished.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn without_a_wrapper_or_with_one_that_never_runs_the_worker_it_still_serves() {
        let plain = Server::from_listener(TcpListener::bind("127.0.0.1:0").unwrap())
            .workers(1)
            .spawn(which_wrapper)
            .unwrap();
        assert_eq!(get(plain.local_addr()), "None");
        plain.stop();

        let forgetful = WorkerWrapper::new(|run: WorkerRun| drop(run));
        let served = Server::from_listener(TcpListener::bind("127.0.0.1:0").unwrap())
            .workers(1)
            .worker_wrapper(forgetful)
            .spawn(which_wrapper)
            .unwrap();
        assert_eq!(get(served.local_addr()), "None");
        assert_eq!(served.stop(), ServeReport { aborted: 0 });
    }

    #[test]
    fn only_a_port_in_use_gets_the_port_in_use_hint() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let in_use = Server::bind(addr.as_str())
            .err()
            .expect("the port is taken");
        assert!(matches!(in_use, ServeError::AddrInUse { .. }), "{in_use:?}");
        assert!(in_use
            .to_string()
            .contains("is another server using the port?"));

        let unresolved = Server::bind("127.0.0.1:http").err().expect("not a port");
        assert!(
            matches!(unresolved, ServeError::Resolve { .. }),
            "{unresolved:?}"
        );
        assert!(unresolved.to_string().contains("give host:port"));
        assert!(!unresolved.to_string().contains("another server"));

        let other = ServeError::Bind {
            addr: "127.0.0.1:80".into(),
            source: io::ErrorKind::PermissionDenied.into(),
        };
        assert!(!other.to_string().contains("another server"), "{other}");
    }
}
