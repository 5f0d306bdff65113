//! `--processes N`: a supervisor that binds once and re-executes this program N
//! times, each worker inheriting the listening socket as its standard input (no
//! `fork` of a threaded process, no `unsafe`); it respawns dead workers with
//! backoff and stops them all on TERM or INT. It never runs the app itself.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use reference_server::{BindAddr, BindOptions, Listener};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The variable that tells a re-executed worker its listener is on standard input.
pub(crate) const LISTENER_ENV: &str = "GATEWAY_LISTENER_ON_STDIN";

/// Exit code of a worker whose app cannot be loaded: the supervisor stops instead
/// of respawning it (gunicorn's APP_LOAD_ERROR).
pub const EXIT_APP_LOAD: u8 = 4;

/// Longest wait between respawns of a worker that keeps dying.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A worker that lived this long is healthy again: its backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);
/// How often the supervisor looks at its workers and at the signals.
const TICK: Duration = Duration::from_millis(50);

/// The process flags.
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Worker processes sharing the listening socket, supervised and respawned
    /// (default 1: no supervisor; with --wsgi, one per core).
    #[arg(long, env = "GATEWAY_PROCESSES", value_parser = parse_processes)]
    pub processes: Option<usize>,
}

fn parse_processes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "{text:?} is not a number of processes: write 1 or more"
        )),
        Ok(n) => Ok(n),
    }
}

/// The variable that tells a worker how many worker processes there are.
const COUNT_ENV: &str = "GATEWAY_WORKER_PROCESSES";

/// How many worker processes serve the same app: N under `--processes N`, else 1
/// (what `wsgi.multiprocess` reports).
pub fn process_count() -> usize {
    std::env::var(COUNT_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|_| is_worker())
        .unwrap_or(1)
}

/// Whether this process is a worker started by a supervisor.
pub(crate) fn is_worker() -> bool {
    std::env::var_os(LISTENER_ENV).is_some()
}

/// The listener a supervisor handed this worker on its standard input. The worker
/// also asks the kernel to end it when the supervisor dies.
pub(crate) fn adopt_listener() -> io::Result<TcpListener> {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM));
    let fd: OwnedFd = io::stdin().as_fd().try_clone_to_owned()?;
    let listener = TcpListener::from(fd);
    listener.local_addr().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{LISTENER_ENV} is set but standard input is not a listening socket: {e}"),
        )
    })?;
    Ok(listener)
}

/// One worker slot: its process, when it started, and its respawn backoff.
struct Slot {
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    respawn_at: Option<Instant>,
}

/// Binds `bind`, runs `count` workers until TERM or INT, and returns the exit
/// code: 0 after a clean stop, 3 if a worker's graceful timeout cut requests, 4
/// when a worker could not load the app, 1 when binding failed.
pub(crate) fn supervise(
    bind: &str,
    options: &BindOptions,
    count: usize,
    graceful: Duration,
) -> ExitCode {
    match run(bind, options, count, graceful) {
        Ok(code) => code,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Binds `bind` with `options` as a single server would, keeping the listener for
/// the workers to inherit.
fn bind_listener(bind: &str, options: &BindOptions) -> Result<TcpListener, String> {
    let addr = BindAddr::Tcp(bind.to_owned());
    match Listener::bind(&addr, options).map_err(|e| e.to_string())? {
        Listener::Tcp(listener) => Ok(listener),
        Listener::Unix { .. } => Err(format!("{bind} is not a TCP address")),
    }
}

fn spawn_worker(listener: &TcpListener, count: usize) -> io::Result<Child> {
    let socket: OwnedFd = listener.as_fd().try_clone_to_owned()?;
    Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(LISTENER_ENV, "1")
        .env(COUNT_ENV, count.to_string())
        .stdin(Stdio::from(socket))
        .spawn()
}

fn signal(child: &Child, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

fn run(
    bind: &str,
    options: &BindOptions,
    count: usize,
    graceful: Duration,
) -> Result<ExitCode, String> {
    let listener = bind_listener(bind, options)?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Polled, never waited on in a thread: the supervisor stays single-threaded.
    let mut signals = Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    let mut stops = 0usize;
    log::info!("supervising {count} worker processes on http://{addr} (Ctrl-C to stop)");
    let now = Instant::now();
    let mut slots: Vec<Slot> = (0..count)
        .map(|_| Slot {
            child: None,
            started: now,
            backoff: Duration::from_millis(100),
            respawn_at: Some(now),
        })
        .collect();
    let mut app_load_failed = false;
    while !app_load_failed {
        // Signals first: after a Ctrl-C to the whole process group the workers'
        // exits must not be taken for crashes and respawned.
        stops += signals.pending().count();
        if stops > 0 {
            break;
        }
        for (n, slot) in slots.iter_mut().enumerate() {
            if let Some(child) = &mut slot.child {
                if let Ok(Some(status)) = child.try_wait() {
                    slot.child = None;
                    if status.code() == Some(i32::from(EXIT_APP_LOAD)) {
                        log::error!(
                            "worker {n} could not load the app (exit 4); stopping, not respawning"
                        );
                        app_load_failed = true;
                        continue;
                    }
                    if slot.started.elapsed() >= HEALTHY_AFTER {
                        slot.backoff = Duration::from_millis(100);
                    }
                    log::warn!(
                        "worker {n} ended ({status}); respawning in {:?}",
                        slot.backoff
                    );
                    slot.respawn_at = Some(Instant::now() + slot.backoff);
                    slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
                }
            }
            if slot.child.is_none() && slot.respawn_at.is_some_and(|at| Instant::now() >= at) {
                match spawn_worker(&listener, count) {
                    Ok(child) => {
                        log::info!("worker {n} started, pid {}", child.id());
                        slot.child = Some(child);
                        slot.started = Instant::now();
                        slot.respawn_at = None;
                    }
                    Err(e) => {
                        log::error!(
                            "cannot start worker {n}: {e}; retrying in {:?}",
                            slot.backoff
                        );
                        slot.respawn_at = Some(Instant::now() + slot.backoff);
                        slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        std::thread::sleep(TICK);
    }
    // New connections are refused once the workers close their copies too.
    drop(listener);
    // Stop: TERM to every worker, which stops gracefully; a second TERM or INT to
    // the supervisor passes a second one on (they stop at once).
    for child in slots.iter().filter_map(|s| s.child.as_ref()) {
        signal(child, rustix::process::Signal::TERM);
    }
    stops += signals.pending().count();
    let mut forwarded = stops;
    let deadline = Instant::now() + graceful + Duration::from_secs(5);
    let mut code = if app_load_failed { EXIT_APP_LOAD } else { 0 };
    loop {
        let mut running = 0;
        for slot in slots.iter_mut() {
            if let Some(child) = &mut slot.child {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        if status.code() == Some(i32::from(crate::EXIT_ABORTED)) && code == 0 {
                            code = crate::EXIT_ABORTED;
                        }
                        slot.child = None;
                    }
                    _ => running += 1,
                }
            }
        }
        if running == 0 {
            break;
        }
        stops += signals.pending().count();
        if stops > forwarded || Instant::now() > deadline {
            forwarded = stops;
            let kill = Instant::now() > deadline;
            for child in slots.iter().filter_map(|s| s.child.as_ref()) {
                signal(
                    child,
                    if kill {
                        rustix::process::Signal::KILL
                    } else {
                        rustix::process::Signal::TERM
                    },
                );
            }
        }
        std::thread::sleep(TICK);
    }
    log::info!("all workers stopped");
    Ok(ExitCode::from(code))
}
