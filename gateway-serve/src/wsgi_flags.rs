//! The command's Python flags (`--wsgi` and its companions), the loading of the
//! WSGI app they name, and the worker wrapper that attaches each server worker to
//! the interpreter for life; the bridge itself is the `gateway-wsgi` crate.

use std::path::PathBuf;

use clap::Args;
use gateway_serve::{WorkerRun, WorkerWrapper};
use gateway_wsgi::{AppTarget, PathSetup, WsgiApp, WsgiConfig};

/// Python threads per process when neither `--threads` nor `--workers` says.
pub const DEFAULT_THREADS: usize = 4;

/// Flags for serving a Python WSGI app.
#[derive(Debug, Clone, Args)]
pub struct WsgiFlags {
    /// Serve a Python WSGI callable: module:callable, path/to/app.py:callable, or a
    /// factory module:make_app(args). The callable defaults to `application`.
    #[arg(long, env = "GATEWAY_WSGI", value_name = "TARGET", value_parser = parse_target)]
    pub wsgi: Option<AppTarget>,

    /// Directory to change to before importing the app.
    #[arg(long, env = "GATEWAY_CHDIR", requires = "wsgi")]
    pub chdir: Option<PathBuf>,

    /// Directories put first on sys.path (repeat the flag, or separate with ':').
    #[arg(
        long,
        env = "GATEWAY_PYTHONPATH",
        value_delimiter = ':',
        requires = "wsgi"
    )]
    pub pythonpath: Vec<PathBuf>,

    /// The virtualenv whose packages the app imports (default: $VIRTUAL_ENV).
    #[arg(long, env = "GATEWAY_VENV", requires = "wsgi")]
    pub venv: Option<PathBuf>,

    /// Threads per process that run the Python app: the server's worker threads,
    /// each attached to the interpreter for life, so for a WSGI app this is
    /// --workers by another name (give either; both must agree) [default: 4]
    #[arg(long, env = "GATEWAY_THREADS", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Read a chunked request body up to this size before calling the app and set
    /// CONTENT_LENGTH (Django ignores bodies without one); larger: 413. Off by default.
    #[arg(long, env = "GATEWAY_BUFFER_CHUNKED", value_name = "SIZE",
          value_parser = crate_parse_size)]
    pub buffer_chunked: Option<u64>,
}

fn parse_target(text: &str) -> Result<AppTarget, String> {
    AppTarget::parse(text).map_err(|e| e.to_string())
}

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "{text:?} is not a number of threads: write 1 or more"
        )),
        Ok(n) => Ok(n),
    }
}

fn crate_parse_size(text: &str) -> Result<u64, String> {
    gateway_serve::parse_size(text)
}

/// `--threads` and `--workers` name one number for a WSGI app and say different things.
#[derive(Debug)]
pub struct ThreadsDisagree {
    threads: usize,
    workers: usize,
}

impl std::fmt::Display for ThreadsDisagree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--threads {} and --workers {} disagree: a WSGI app runs on the server's worker \
             threads, so give one of them (or the same number twice)",
            self.threads, self.workers
        )
    }
}

impl std::error::Error for ThreadsDisagree {}

impl WsgiFlags {
    /// The worker threads that run the app: `--threads`, else `--workers`, else
    /// [`DEFAULT_THREADS`].
    pub fn threads(&self, workers: Option<usize>) -> Result<usize, ThreadsDisagree> {
        match (self.threads, workers) {
            (Some(threads), Some(workers)) if threads != workers => {
                Err(ThreadsDisagree { threads, workers })
            }
            (Some(n), _) | (None, Some(n)) => Ok(n),
            (None, None) => Ok(DEFAULT_THREADS),
        }
    }

    /// Loads the app to run on `threads` worker threads, logging the interpreter;
    /// exits 4 when it cannot be loaded.
    pub fn load(&self, target: &AppTarget, multiprocess: bool, threads: usize) -> WsgiApp {
        let config = WsgiConfig {
            threads,
            multiprocess,
            buffer_chunked: self.buffer_chunked,
            paths: PathSetup {
                chdir: self.chdir.clone(),
                pythonpath: self.pythonpath.clone(),
                venv: self.venv.clone(),
            },
        };
        match WsgiApp::load(target, config) {
            Ok(app) => {
                let info = app.python_info();
                log::info!(
                    "Python {} (prefix {}, base prefix {}), {} Python thread(s): the worker threads",
                    info.version,
                    info.prefix,
                    info.base_prefix,
                    threads
                );
                app
            }
            Err(e) => {
                log::error!("{e}");
                std::process::exit(i32::from(gateway_serve::EXIT_APP_LOAD));
            }
        }
    }
}

/// The wrapper of every server worker: attached to the interpreter for the whole
/// run, so the app runs on the worker itself (no hand-off to another thread) and
/// each worker keeps one Python thread state, its `threading.local` included.
pub fn attached_workers() -> WorkerWrapper {
    WorkerWrapper::new(|run: WorkerRun| gateway_wsgi::attach_for_life(|| run.run()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(threads: Option<usize>) -> WsgiFlags {
        WsgiFlags {
            wsgi: None,
            chdir: None,
            pythonpath: Vec::new(),
            venv: None,
            threads,
            buffer_chunked: None,
        }
    }

    #[test]
    fn threads_and_workers_are_one_number_for_a_wsgi_app() {
        assert_eq!(flags(None).threads(None).unwrap(), DEFAULT_THREADS);
        assert_eq!(flags(Some(2)).threads(None).unwrap(), 2);
        assert_eq!(flags(None).threads(Some(3)).unwrap(), 3);
        assert_eq!(flags(Some(3)).threads(Some(3)).unwrap(), 3);
        let disagree = flags(Some(2)).threads(Some(8)).unwrap_err();
        assert!(
            disagree
                .to_string()
                .contains("--threads 2 and --workers 8 disagree"),
            "{disagree}"
        );
    }
}
