//! The `--processes` supervisor: binds once, re-executes this program as worker
//! processes sharing its sockets, and keeps them serving; it never runs the app.
//!
//! Each worker gets the listening sockets at descriptors 3 and up (`LISTEN_FDS`, as
//! systemd passes them) and a pipe to report readiness and heartbeats (no `fork`
//! of a threaded process, no `unsafe`). Signals: TERM or INT stop every worker
//! gracefully; HUP starts a new generation of workers and stops the old ones once
//! the new ones serve; TTIN and TTOU add and remove a worker; USR1 is passed on
//! (each worker reopens its access log). A worker that dies is respawned with
//! backoff; one that reached `--max-requests` is replaced before it stops; one
//! whose heartbeat stops for `--timeout` is killed and replaced.

use std::io;
use std::os::fd::AsFd;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use reference_server::Listener;
use rustix::process::Signal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR1};
use signal_hook::iterator::Signals;

use crate::processes::{COUNT_ENV, EXIT_APP_LOAD, WORKER_ENV};
use crate::worker_link::{self, LinkReader, LINK_ENV};

/// Longest wait between respawns of workers that keep dying.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// First wait before respawning a worker that died.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A worker that lived this long was healthy: the backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);
/// How often the supervisor looks at its workers, their pipes and the signals.
const TICK: Duration = Duration::from_millis(20);
/// Time a worker gets beyond the graceful timeout before it is killed.
const STOP_MARGIN: Duration = Duration::from_secs(5);
/// The first descriptor a worker's sockets take (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// What the supervisor needs besides its sockets.
pub(crate) struct Settings {
    /// Worker processes to keep serving.
    pub(crate) count: usize,
    /// How long a stopping worker's requests may take.
    pub(crate) graceful: Duration,
    /// A worker silent this long is killed (`--timeout`), `None` for never.
    pub(crate) timeout: Option<Duration>,
}

/// One worker process.
struct Worker {
    child: Child,
    link: LinkReader,
    /// Which generation (bumped by each SIGHUP) started it.
    generation: u64,
    started: Instant,
    /// When its pipe last said anything.
    last_sign: Instant,
    ready: bool,
    /// It reached `--max-requests` and waits for its replacement.
    retiring: bool,
    /// When TERM (or KILL) was sent to it.
    stop_sent: Option<Instant>,
}

impl Worker {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }

    fn stop(&mut self, why: &str) {
        if self.stop_sent.is_none() {
            log::info!("stopping worker pid {} ({why})", self.pid());
            self.signal(Signal::TERM);
            self.stop_sent = Some(Instant::now());
        }
    }
}

/// Runs workers on `listeners` until TERM or INT, and returns the exit code: 0
/// after a clean stop, 3 if a worker's graceful timeout cut requests, 4 when the
/// app could not be loaded, 1 when the supervisor could not start.
pub(crate) fn supervise(listeners: Vec<(Listener, String)>, settings: Settings) -> ExitCode {
    match Supervisor::new(listeners, settings).and_then(Supervisor::run) {
        Ok(code) => code,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

struct Supervisor {
    listeners: Vec<(Listener, String)>,
    settings: Settings,
    signals: Signals,
    workers: Vec<Worker>,
    /// Workers to keep serving (changed by TTIN and TTOU).
    target: usize,
    generation: u64,
    backoff: Duration,
    respawn_at: Instant,
    /// READY=1 was sent for the current generation.
    announced: bool,
    /// Signals to stop seen so far.
    stops: usize,
}

impl Supervisor {
    fn new(listeners: Vec<(Listener, String)>, settings: Settings) -> Result<Self, String> {
        // Polled, never waited on in a thread: the supervisor stays single-threaded,
        // so spawning (fork and exec) is safe.
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1])
            .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
        Ok(Self {
            target: settings.count,
            listeners,
            settings,
            signals,
            workers: Vec::new(),
            generation: 0,
            backoff: FIRST_BACKOFF,
            respawn_at: Instant::now(),
            announced: false,
            stops: 0,
        })
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.listeners.iter().map(|(_, n)| n.as_str()).collect();
        names.join(", ")
    }

    fn run(mut self) -> Result<ExitCode, String> {
        log::info!(
            "supervising {} worker processes on {} (Ctrl-C to stop)",
            self.target,
            self.names()
        );
        loop {
            if !self.take_signals() {
                break;
            }
            if let Err(code) = self.reap() {
                return Ok(self.stop_all(code));
            }
            self.read_links();
            self.watch_heartbeats();
            self.spawn_missing();
            self.stop_surplus();
            self.announce();
            std::thread::sleep(TICK);
        }
        Ok(self.stop_all(0))
    }

    /// Acts on the signals that came; false once a stop was asked for.
    fn take_signals(&mut self) -> bool {
        let pending: Vec<i32> = self.signals.pending().collect();
        for signal in pending {
            match signal {
                SIGTERM | SIGINT => {
                    log::info!("stopping gracefully (send it again to stop at once)");
                    self.stops += 1;
                }
                SIGHUP => self.reload(),
                SIGTTIN => {
                    self.target += 1;
                    log::info!("SIGTTIN: {} worker processes", self.target);
                }
                SIGTTOU if self.target > 1 => {
                    self.target -= 1;
                    log::info!("SIGTTOU: {} worker processes", self.target);
                }
                SIGTTOU => log::info!("SIGTTOU: ignored, one worker process is the fewest"),
                SIGUSR1 => {
                    log::info!("SIGUSR1: passed on to every worker (each reopens its access log)");
                    for worker in &self.workers {
                        worker.signal(Signal::USR1);
                    }
                }
                _ => {}
            }
        }
        self.stops == 0
    }

    /// SIGHUP: a new generation; the old one stops once the new one serves.
    fn reload(&mut self) {
        self.generation += 1;
        self.announced = false;
        self.backoff = FIRST_BACKOFF;
        self.respawn_at = Instant::now();
        log::info!(
            "SIGHUP: starting {} new worker processes; the old ones stop once they serve",
            self.target
        );
        crate::notify::reloading();
    }

    /// Takes the workers that ended. `Err(4)` when the app cannot be loaded and no
    /// worker serves it.
    fn reap(&mut self) -> Result<(), u8> {
        let mut index = 0;
        while index < self.workers.len() {
            let status = match self.workers[index].child.try_wait() {
                Ok(Some(status)) => status,
                _ => {
                    index += 1;
                    continue;
                }
            };
            let worker = self.workers.swap_remove(index);
            self.ended(worker, status)?;
        }
        Ok(())
    }

    fn ended(&mut self, worker: Worker, status: ExitStatus) -> Result<(), u8> {
        let pid = worker.pid();
        if status.code() == Some(i32::from(EXIT_APP_LOAD)) && !worker.ready {
            let serving = self
                .workers
                .iter()
                .any(|w| w.ready && w.stop_sent.is_none());
            if !serving {
                log::error!(
                    "worker pid {pid} could not load the app (exit 4); stopping, not respawning"
                );
                return Err(EXIT_APP_LOAD);
            }
            if worker.stop_sent.is_some() {
                return Ok(());
            }
            // A reload whose new code does not load: the workers that serve go on,
            // those of the failed generation that do not serve yet are stopped.
            log::error!(
                "reload failed: worker pid {pid} could not load the app (exit 4); the serving workers go on"
            );
            for other in &mut self.workers {
                if other.generation == self.generation && !other.ready {
                    other.stop("its reload failed");
                } else {
                    other.generation = self.generation;
                }
            }
            self.respawn_at = Instant::now() + self.backoff;
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
            self.announced = true;
            crate::notify::ready("reload failed: the app does not load; the old workers serve");
            return Ok(());
        }
        if worker.stop_sent.is_some() {
            log::info!("worker pid {pid} stopped ({status})");
            return Ok(());
        }
        if worker.started.elapsed() >= HEALTHY_AFTER {
            self.backoff = FIRST_BACKOFF;
        }
        log::warn!(
            "worker pid {pid} ended ({status}); respawning in {:?}",
            self.backoff
        );
        self.respawn_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Ok(())
    }

    fn read_links(&mut self) {
        let now = Instant::now();
        for worker in &mut self.workers {
            let received = worker.link.receive();
            if received.alive {
                worker.last_sign = now;
            }
            if received.ready && !worker.ready {
                worker.ready = true;
                log::info!("worker pid {} serves", worker.pid());
            }
            if received.retiring && !worker.retiring {
                worker.retiring = true;
                log::info!(
                    "worker pid {} reached --max-requests; starting its replacement",
                    worker.pid()
                );
            }
        }
    }

    /// Kills a worker whose heartbeat stopped, and one that outlived its stop.
    fn watch_heartbeats(&mut self) {
        let graceful = self.settings.graceful + STOP_MARGIN;
        for worker in &mut self.workers {
            match worker.stop_sent {
                Some(sent) if sent.elapsed() > graceful => {
                    log::warn!(
                        "worker pid {} did not stop in time; killing it",
                        worker.pid()
                    );
                    worker.signal(Signal::KILL);
                }
                Some(_) => {}
                None => {
                    if let Some(timeout) = self.settings.timeout {
                        let silent = worker.last_sign.elapsed();
                        if silent > timeout {
                            log::error!(
                                "worker pid {} sent no heartbeat for {silent:.1?} (--timeout {timeout:?}): killing and replacing it",
                                worker.pid()
                            );
                            worker.signal(Signal::KILL);
                            worker.stop_sent = Some(Instant::now());
                        }
                    }
                }
            }
        }
    }

    /// Workers of the current generation that are neither retiring nor stopping.
    fn current(&self) -> impl Iterator<Item = &Worker> {
        self.workers
            .iter()
            .filter(|w| w.generation == self.generation && !w.retiring && w.stop_sent.is_none())
    }

    fn spawn_missing(&mut self) {
        while self.current().count() < self.target && Instant::now() >= self.respawn_at {
            match self.spawn() {
                Ok(worker) => {
                    log::info!("worker pid {} started", worker.pid());
                    self.workers.push(worker);
                }
                Err(e) => {
                    log::error!("cannot start a worker: {e}; retrying in {:?}", self.backoff);
                    self.respawn_at = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Stops workers beyond the target (TTOU), and old or retiring workers once
    /// enough current ones serve, so that the count serving never drops.
    fn stop_surplus(&mut self) {
        let generation = self.generation;
        let mut extra = self.current().count().saturating_sub(self.target);
        // The newest go first: the older ones have warm caches.
        for worker in self.workers.iter_mut().rev() {
            if extra == 0 {
                break;
            }
            if worker.generation == generation && !worker.retiring && worker.stop_sent.is_none() {
                worker.stop("SIGTTOU");
                extra -= 1;
            }
        }
        let serving = self.current().filter(|w| w.ready).count();
        if serving < self.target {
            return;
        }
        for worker in &mut self.workers {
            if worker.generation != generation {
                worker.stop("replaced by a reload");
            } else if worker.retiring {
                worker.stop("replaced after --max-requests");
            }
        }
    }

    /// READY=1 once the current generation serves in full (at start, and after a
    /// reload).
    fn announce(&mut self) {
        if self.announced {
            return;
        }
        let serving = self.current().filter(|w| w.ready).count();
        let old = self
            .workers
            .iter()
            .any(|w| w.generation != self.generation && w.stop_sent.is_none());
        if serving >= self.target && !old {
            self.announced = true;
            if self.generation > 0 {
                log::info!("reload complete: {serving} new worker processes serve");
            }
            crate::notify::ready(&format!(
                "{serving} worker processes serving on {}",
                self.names()
            ));
        }
    }

    fn spawn(&self) -> io::Result<Worker> {
        let (link, link_end) = worker_link::pair()?;
        let mut mappings = Vec::with_capacity(self.listeners.len() + 1);
        for (fd, (listener, _)) in (FIRST_FD..).zip(&self.listeners) {
            mappings.push(FdMapping {
                parent_fd: listener.as_fd().try_clone_to_owned()?,
                child_fd: fd,
            });
        }
        let link_fd = FIRST_FD + self.listeners.len() as i32;
        mappings.push(FdMapping {
            parent_fd: link_end,
            child_fd: link_fd,
        });
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(std::env::args_os().skip(1))
            .env(WORKER_ENV, std::process::id().to_string())
            .env(COUNT_ENV, self.target.to_string())
            .env("LISTEN_FDS", self.listeners.len().to_string())
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDNAMES")
            .env(LINK_ENV, link_fd.to_string())
            .stdin(Stdio::null());
        command.fd_mappings(mappings).map_err(io::Error::other)?;
        let child = command.spawn()?;
        // Dropping the command closes the supervisor's copies of the mapped ends.
        drop(command);
        let now = Instant::now();
        Ok(Worker {
            child,
            link,
            generation: self.generation,
            started: now,
            last_sign: now,
            ready: false,
            retiring: false,
            stop_sent: None,
        })
    }

    /// Stops every worker: TERM (they stop gracefully), a second TERM or INT to the
    /// supervisor passes a second one on (they stop at once), and KILL after the
    /// graceful timeout and a margin. Returns the exit code.
    fn stop_all(mut self, code: u8) -> ExitCode {
        crate::notify::stopping();
        // New connections are refused once the workers close their copies too.
        self.listeners.clear();
        for worker in &mut self.workers {
            worker.stop("stopping");
        }
        let mut forwarded = self.stops;
        let deadline = Instant::now() + self.settings.graceful + STOP_MARGIN;
        let mut code = code;
        while !self.workers.is_empty() {
            self.workers
                .retain_mut(|worker| match worker.child.try_wait() {
                    Ok(Some(status)) => {
                        if status.code() == Some(i32::from(crate::EXIT_ABORTED)) && code == 0 {
                            code = crate::EXIT_ABORTED;
                        }
                        false
                    }
                    _ => true,
                });
            self.stops += self
                .signals
                .pending()
                .filter(|s| [SIGTERM, SIGINT].contains(s))
                .count();
            let late = Instant::now() > deadline;
            if self.stops > forwarded || late {
                forwarded = self.stops;
                for worker in &self.workers {
                    worker.signal(if late { Signal::KILL } else { Signal::TERM });
                }
            }
            std::thread::sleep(TICK);
        }
        log::info!("all workers stopped");
        ExitCode::from(code)
    }
}
