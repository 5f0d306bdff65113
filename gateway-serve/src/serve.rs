//! One run of the server for the command: open the access log, bind, start the
//! workers and the signal thread, wait for the stop, and turn it into an exit code.

use std::process::ExitCode;

use gateway_spec::App;
use reference_server::{AccessLog, Config, Listener, Server, WorkerWrapper};

use crate::flags::ServerArgs;
use crate::signals::Installed;

/// Exit code when the graceful timeout cut in-flight requests.
pub const EXIT_ABORTED: u8 = 3;
/// Exit code after a second SIGTERM or SIGINT stopped the server at once.
pub const EXIT_FORCED: i32 = 130;

/// An app, and what it asks of the server's worker threads: what [`main_hosted`]'s
/// set-up returns. [`Hosted::new`] asks nothing, which is what
/// [`main_with`](crate::main_with) gives every app.
///
/// ```
/// use gateway_serve::{Hosted, WorkerRun, WorkerWrapper};
/// use gateway_spec::{AppError, Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
///
/// fn hello(_: Environ, start: StartResponse) -> Result<Body, AppError> {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from("Hello, World!"))
/// }
///
/// let hosted = Hosted::new(hello)
///     .workers(2)
///     .worker_wrapper(WorkerWrapper::new(|run: WorkerRun| run.run()));
/// # let _ = hosted;
/// ```
///
/// [`main_hosted`]: crate::main_hosted
pub struct Hosted<P> {
    app: P,
    workers: Option<usize>,
    worker_wrapper: Option<WorkerWrapper>,
    liveness: Option<Box<dyn Fn() + Send + Sync>>,
}

impl<P: App> Hosted<P> {
    /// `app`, on the workers `--workers` and its default give, unwrapped.
    pub fn new(app: P) -> Self {
        Self {
            app,
            workers: None,
            worker_wrapper: None,
            liveness: None,
        }
    }

    /// Runs `workers` worker threads when `--workers` is not given (the queue
    /// depth's default follows).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Runs each worker thread inside `wrapper` (see
    /// [`Server::worker_wrapper`](reference_server::Server::worker_wrapper)).
    pub fn worker_wrapper(mut self, wrapper: WorkerWrapper) -> Self {
        self.worker_wrapper = Some(wrapper);
        self
    }

    /// Under `--processes`, each heartbeat a worker process sends its supervisor
    /// first waits for `liveness` to return: a check that the app could still run
    /// a request (the command's Python apps take the GIL), so a process whose app
    /// is wedged stops beating and is replaced after `--timeout`.
    pub fn liveness(mut self, liveness: impl Fn() + Send + Sync + 'static) -> Self {
        self.liveness = Some(Box::new(liveness));
        self
    }

    /// The server's settings: `flags`', with the app's worker count where
    /// `--workers` left it open.
    fn config(&self, flags: &ServerArgs) -> Config {
        let mut config = flags.config();
        if let (None, Some(workers)) = (flags.workers, self.workers) {
            config.workers = workers;
            if flags.queue_depth.is_none() {
                config.queue_depth = Config::default_queue_depth(workers);
            }
        }
        config
    }
}

/// Serves `app` with the settings of `flags` until a signal stops it, on
/// `listeners` when a supervisor handed them over (retiring after `limit`
/// requests, if set), else on `--bind`.
pub(crate) fn serve(
    flags: &ServerArgs,
    app: Hosted<impl App>,
    listeners: Option<Vec<(Listener, String)>>,
    limit: Option<u64>,
    signals: Installed,
) -> ExitCode {
    match run(flags, app, listeners, limit, signals) {
        Ok(code) => code,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    flags: &ServerArgs,
    hosted: Hosted<impl App>,
    listeners: Option<Vec<(Listener, String)>>,
    limit: Option<u64>,
    signals: Installed,
) -> Result<ExitCode, String> {
    let access_log = match flags.access_log.as_str() {
        "off" => AccessLog::off(),
        "stdout" | "-" => AccessLog::stdout(),
        "stderr" => AccessLog::stderr(),
        path => AccessLog::file(path.as_ref()).map_err(|e| {
            format!("cannot open the access log {path}: {e}; check the directory exists and is writable")
        })?,
    }
    .with_format(flags.log_formats.access_log_format.into());
    let listeners = match listeners {
        Some(listeners) => listeners,
        None => flags.listen.open()?,
    };
    let (listeners, names): (Vec<_>, Vec<_>) = listeners.into_iter().unzip();
    let mut server = Server::from_listeners(listeners)
        .config(hosted.config(flags))
        .access_log(access_log);
    if let Some(wrapper) = hosted.worker_wrapper {
        server = server.worker_wrapper(wrapper);
    }
    let metrics = flags
        .metrics
        .metrics_bind
        .as_ref()
        .map(|bind| (bind, crate::metrics::Metrics::new()));
    if let Some((_, metrics)) = &metrics {
        server = server.observe_responses(metrics.observer());
    }
    if let Some(liveness) = hosted.liveness {
        crate::worker_process::set_liveness(liveness);
    }
    let handle = match limit {
        Some(limit) => server.spawn(crate::worker_process::Retiring::new(hosted.app, limit)),
        None => server.spawn(hosted.app),
    }
    .map_err(|e| e.to_string())?;
    let metrics_server = match metrics {
        Some((bind, metrics)) => {
            let (metrics_handle, shown) = crate::metrics::serve(bind, metrics, handle.controller())
                .map_err(|e| {
                    handle.shutdown();
                    format!("cannot serve metrics on {bind}: {e}")
                })?;
            log::info!("metrics on {shown}/metrics");
            Some(metrics_handle)
        }
        None => None,
    };
    signals
        .handle(handle.controller())
        .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    // Announced only once everything, signal handling included, is running.
    let serving = names.join(", ");
    log::info!("serving on {serving} (Ctrl-C to stop)");
    crate::notify::ready(&format!("serving on {serving}"));
    let report = handle.join();
    if let Some(metrics_server) = metrics_server {
        metrics_server.shutdown();
        let _ = metrics_server.join();
    }
    if report.aborted > 0 {
        log::warn!(
            "the graceful timeout cut {} in-flight request(s)",
            report.aborted
        );
        return Ok(ExitCode::from(EXIT_ABORTED));
    }
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
