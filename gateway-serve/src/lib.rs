//! `gateway-serve`: the command, and the one-line entry point any app can reuse. It
//! owns flags, environment variables, logging, signals and exit codes; serving is
//! `reference-server`'s job.
//!
//! # Your own app in one line
//!
//! ```no_run
//! use std::process::ExitCode;
//! use gateway_spec::{AppError, Body, Environ, StartResponse};
//! use http::{HeaderMap, StatusCode};
//!
//! fn hello(_: Environ, start: StartResponse) -> Result<Body, AppError> {
//!     start.call(StatusCode::OK, HeaderMap::new())?;
//!     Ok(Body::from("Hello, World!"))
//! }
//!
//! fn main() -> ExitCode {
//!     gateway_serve::main(hello)
//! }
//! ```
//!
//! The program then has every flag and `GATEWAY_*` variable of `gateway-serve`
//! (`--bind`, `--workers`, the limits and timeouts, `--access-log`, `--log-level`;
//! `--help` lists them), its error log on standard error, and its signals:
//!
//! | signal | what happens |
//! | --- | --- |
//! | SIGTERM, SIGINT | graceful stop: no new connections, idle ones closed, in-flight requests finish within `--graceful-timeout`; exit 0, or 3 if requests were cut |
//! | the second SIGTERM or SIGINT | stop at once, exit 130 |
//! | SIGUSR1 | reopen the access log file by its name (after logrotate renamed it); under `--processes`, passed to every worker |
//! | SIGHUP | under `--processes`: graceful reload (new worker processes serve before the old ones stop); alone: logged and ignored |
//! | SIGTTIN, SIGTTOU | under `--processes`: one worker process more, one fewer; alone: logged and ignored |
//! | SIGUSR2 | logged and ignored: there is no binary upgrade yet |
//!
//! Exit codes: 0 after a clean stop, 1 when serving could not start (the address is
//! in use, the app's set-up failed), 2 for a bad flag or variable (the message names
//! it, its value and what is allowed), 3 when the graceful timeout cut requests, 130
//! after a second signal.
//!
//! An app that needs flags of its own, or set-up that can fail, uses [`main_with`];
//! one that must also set up the server's worker threads (a worker count of its
//! own, a [`WorkerWrapper`] around each worker's run), [`main_hosted`].

mod flags;
mod listen;
mod log_flags;
mod logging;
mod metrics;
mod notify;
mod processes;
mod proxy_flags;
mod serve;
mod signals;
mod supervisor;
mod units;
mod worker_link;
mod worker_process;

use std::fmt::Display;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser};
use gateway_spec::App;

pub use flags::ServerArgs;
pub use listen::{BindTarget, ListenArgs, DEFAULT_BIND};
pub use log_flags::{AccessLogFormat, ErrorLogFormat, LogFormatArgs};
pub use metrics::MetricsArgs;
pub use processes::{process_count, ProcessArgs, EXIT_APP_LOAD};
pub use proxy_flags::ProxyArgs;
pub use reference_server::{WorkerRun, WorkerWrapper};
pub use serve::{Hosted, EXIT_ABORTED, EXIT_FORCED};

/// Parses a size as the command line writes it (`64KiB`, `10MB`, `123`): for
/// apps' own flags, so they read sizes as `gateway-serve` does.
///
/// # Errors
///
/// A message naming the allowed suffixes, when `text` is not a size.
pub fn parse_size(text: &str) -> Result<u64, String> {
    units::parse_size(text).map(|size| size.0)
}

/// The whole command line: the server's flags, then the app's own.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Serves a Gateway Interface 1.0 app on the reference server.",
    after_help = format!("{}\n{}\n\n{}", units::SIZES_HELP, units::DURATIONS_HELP, signals::SIGNALS_HELP)
)]
struct Cli<A: Args> {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    processes: ProcessArgs,
    #[command(flatten)]
    app: A,
}

/// An app with no flags of its own.
#[derive(Debug, Clone, Copy, Args)]
pub struct NoArgs {}

/// Serves `app` as the `gateway-serve` command serves its apps: parses the command
/// line and the `GATEWAY_*` variables, sets up logging and signals, serves until a
/// signal stops it, and returns the exit code (see the crate docs).
pub fn main(app: impl App) -> ExitCode {
    main_with(|_: &NoArgs| Ok::<_, std::convert::Infallible>(app))
}

/// Like [`main`], for an app that adds flags of its own (`A`, a `clap::Args`) or
/// whose set-up can fail: `make` builds the app from its parsed flags once logging
/// is set up; an error it returns is logged and exits 1.
///
/// ```no_run
/// use std::process::ExitCode;
/// use gateway_spec::{AppError, Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
///
/// #[derive(clap::Args)]
/// struct Greeting {
///     /// Whom to greet.
///     #[arg(long, default_value = "World")]
///     name: String,
/// }
///
/// fn main() -> ExitCode {
///     gateway_serve::main_with(|flags: &Greeting| {
///         let text = format!("Hello, {}!", flags.name);
///         Ok::<_, std::io::Error>(move |_: Environ, start: StartResponse| -> Result<Body, AppError> {
///             start.call(StatusCode::OK, HeaderMap::new())?;
///             Ok(Body::from(text.clone()))
///         })
///     })
/// }
/// ```
pub fn main_with<A, P, E>(make: impl FnOnce(&A) -> Result<P, E>) -> ExitCode
where
    A: Args,
    P: App,
    E: Display,
{
    main_with_processes(|_: &A| 1, make)
}

/// Like [`main_with`], where `default_processes` picks the `--processes` default
/// from the app's flags (the command takes one per core for Python apps).
///
/// With `--processes N` (or `--max-requests`) the program becomes a supervisor: it
/// binds, re-executes itself N times with the listening sockets inherited, never
/// calls `make` itself, respawns a worker that dies (with backoff), replaces
/// workers on SIGHUP, at `--max-requests` and when their heartbeat stops for
/// `--timeout`, passes TERM, INT and USR1 on, and exits 4 without respawning when a
/// worker exits 4 at start-up ([`EXIT_APP_LOAD`]: the app cannot be loaded).
pub fn main_with_processes<A, P, E>(
    default_processes: impl FnOnce(&A) -> usize,
    make: impl FnOnce(&A) -> Result<P, E>,
) -> ExitCode
where
    A: Args,
    P: App,
    E: Display,
{
    main_hosted(default_processes, |flags: &A, _: &ServerArgs| {
        make(flags).map(Hosted::new)
    })
}

/// Like [`main_with_processes`], for an app that also says how the server's worker
/// threads run it ([`Hosted`]): `make` sees the server's flags too, and returns
/// the app with, say, a [`WorkerWrapper`] (the command's Python apps attach each
/// worker to the interpreter that way) or a worker count of its own.
pub fn main_hosted<A, P, E>(
    default_processes: impl FnOnce(&A) -> usize,
    make: impl FnOnce(&A, &ServerArgs) -> Result<Hosted<P>, E>,
) -> ExitCode
where
    A: Args,
    P: App,
    E: Display,
{
    // Before any thread starts: taking the passed sockets edits the environment.
    listen::take_passed_sockets();
    let cli = parse_command_line::<A>();
    logging::init(cli.server.log_level, cli.server.log_formats.log_format);
    let listeners = if processes::is_worker() {
        worker_process::start(cli.processes.heartbeat_interval());
        match listen::open_passed() {
            Ok(listeners) => Some(listeners),
            Err(e) => {
                log::error!("cannot take over the supervisor's sockets: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let default = default_processes(&cli.app);
        if cli.processes.supervised(default) && cli.server.metrics.metrics_bind.is_some() {
            log::error!(
                "--metrics-bind serves one process's metrics: it cannot be used with --processes \
                 or --max-requests yet (each worker process would need its own port)"
            );
            return ExitCode::from(2);
        }
        if cli.processes.supervised(default) {
            let listeners = match cli.server.listen.open() {
                Ok(listeners) => listeners,
                Err(e) => {
                    log::error!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            let settings = supervisor::Settings {
                count: cli.processes.processes.unwrap_or(default),
                graceful: cli.server.config().graceful_timeout,
                timeout: cli.processes.heartbeat_timeout(),
            };
            return supervisor::supervise(listeners, settings);
        }
        None
    };
    // Before the app loads: from here on a TERM waits for the server and stops it
    // gracefully, so the app's exit handlers run (a worker may already be sent one).
    let signals = match signals::install() {
        Ok(signals) => signals,
        Err(e) => {
            log::error!("cannot install the signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = match make(&cli.app, &cli.server) {
        Ok(app) => app,
        Err(e) => {
            log::error!("cannot set up the app: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limit = listeners
        .is_some()
        .then(|| cli.processes.request_limit())
        .flatten();
    serve::serve(&cli.server, app, listeners, limit, signals)
}

/// Parses the command line under the program's own name, exiting 2 (with the
/// message) on a bad flag or value, 0 for `--help` and `--version`.
fn parse_command_line<A: Args>() -> Cli<A> {
    let program = std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "gateway-serve".to_owned());
    let matches = Cli::<A>::command().name(program).get_matches();
    Cli::<A>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
