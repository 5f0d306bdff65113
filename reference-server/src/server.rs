//! The library's front door: a builder that binds (or adopts) a listener, starts the
//! supervisor and the workers, and a handle that stops them gracefully.
//! Signals and command-line parsing belong to `gateway-serve`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use gateway_spec::App;
use thiserror::Error;

use crate::access_log::AccessLog;
use crate::body_budget::BodyBudget;
use crate::config::Config;
use crate::connection_table::ConnectionTable;
use crate::poll_turns::PollTurns;
use crate::poller::{Poller, LISTENER};
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
    listener: TcpListener,
    config: Config,
    access_log: AccessLog,
}

impl Server {
    /// Binds `addr` (with `SO_REUSEADDR`, backlog 1024).
    pub fn bind(addr: impl ToSocketAddrs + std::fmt::Display) -> Result<Self, ServeError> {
        let shown = addr.to_string();
        let bind_error = |source: io::Error| match source.kind() {
            io::ErrorKind::AddrInUse => ServeError::AddrInUse {
                addr: shown.clone(),
            },
            _ => ServeError::Bind {
                addr: shown.clone(),
                source,
            },
        };
        let resolve_error = |source| ServeError::Resolve {
            addr: shown.clone(),
            source,
        };
        let resolved: SocketAddr = addr
            .to_socket_addrs()
            .map_err(resolve_error)?
            .next()
            .ok_or_else(|| resolve_error(io::Error::other("the address resolves to nothing")))?;
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(resolved),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .map_err(bind_error)?;
        socket.set_reuse_address(true).map_err(bind_error)?;
        socket.bind(&resolved.into()).map_err(bind_error)?;
        socket.listen(1024).map_err(bind_error)?;
        Ok(Self::from_listener(socket.into()))
    }

    /// Serves on a listener bound elsewhere (tests bind `127.0.0.1:0`).
    pub fn from_listener(listener: TcpListener) -> Self {
        Self {
            listener,
            config: Config::default(),
            access_log: AccessLog::Off,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
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

    /// Serves `app` on this thread until a graceful stop finishes. Without a
    /// [`ServerHandle`] nothing stops it but the process ending; the binary wires
    /// signals to [`Server::spawn`]'s handle instead.
    pub fn serve(self, app: impl App) -> Result<ServeReport, ServeError> {
        Ok(self.spawn(app)?.join())
    }

    /// Starts serving `app` on background threads and returns a handle to stop it.
    pub fn spawn(self, app: impl App) -> Result<ServerHandle, ServeError> {
        let config = self.config;
        if config.workers == 0 {
            return Err(ServeError::Config("workers must be at least 1".into()));
        }
        if config.queue_depth == 0 {
            return Err(ServeError::Config("queue depth must be at least 1".into()));
        }
        let addr = self.listener.local_addr()?;
        self.listener.set_nonblocking(true)?;
        let poller = Poller::new()?;
        poller.add(&self.listener, LISTENER)?;
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
            shutting_down: Arc::new(AtomicBool::new(false)),
            in_flight: AtomicUsize::new(0),
            poller,
            listener: RwLock::new(Some(self.listener)),
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
            threads.push(
                std::thread::Builder::new()
                    .name(format!("gateway-worker-{i}"))
                    .spawn(move || run_worker(shared, i))?,
            );
        }
        Ok(ServerHandle {
            addr,
            shared,
            supervisor: Some(supervisor),
            workers: threads,
        })
    }
}

/// A running server: its address, and how to stop it.
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    supervisor: Option<JoinHandle<Stopped>>,
    workers: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
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
        self.shared.begin_stop();
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
        self.0.begin_stop();
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
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
