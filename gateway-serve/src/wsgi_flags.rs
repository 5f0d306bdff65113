//! The command's Python flags (`--wsgi` and its companions) and the loading of the
//! WSGI app they name; the bridge itself is the `gateway-wsgi` crate.

use std::path::PathBuf;

use clap::Args;
use gateway_wsgi::{AppTarget, PathSetup, WsgiApp, WsgiConfig};

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

    /// Python threads that run the app, each attached to the interpreter for life.
    #[arg(long, env = "GATEWAY_THREADS", default_value_t = 4, value_parser = parse_threads)]
    pub threads: usize,

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

impl WsgiFlags {
    /// Loads the app, logging the interpreter; exits 4 when it cannot be loaded.
    pub fn load(&self, target: &AppTarget, multiprocess: bool) -> WsgiApp {
        let config = WsgiConfig {
            threads: self.threads,
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
                    "Python {} (prefix {}, base prefix {}), {} Python thread(s)",
                    info.version,
                    info.prefix,
                    info.base_prefix,
                    self.threads
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
