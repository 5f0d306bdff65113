//! `gateway-wsgi`: runs any Python WSGI (PEP 3333) callable, Flask and Django
//! included, as a Gateway Interface [`App`] through an embedded CPython (PyO3).
//!
//! # How a request travels
//!
//! The server's worker calls [`WsgiApp`] like any Rust app. Python runs on a
//! thread attached to the interpreter **once for its life** (so `threading.local`,
//! and Django's per-thread database connections, survive between requests):
//!
//! - the server's own worker thread, when the server runs each worker inside
//!   [`attach_for_life`] (`gateway-serve` does, through `reference-server`'s
//!   worker wrapper): the app runs right there, with no hand-off between threads;
//! - else (a test client, a server without the wrapper) one of the bridge's own
//!   Python threads, started the first time they are needed; the request is
//!   handed to it and the caller waits.
//!
//! There the environ dict is built (native strings, nothing from `os.environ`),
//! the callable runs, and its first chunk is pulled; later chunks are pulled the
//! same way as the server asks for them, on whichever thread asks. Reads of
//! `wsgi.input` and writes of `write()` release the GIL while they wait on the
//! client. HTTP itself (parsing, framing, keep-alive, timers) never touches Python.
//!
//! | PEP 3333 | here |
//! | --- | --- |
//! | environ | every CGI key of the Rust [`Environ`], latin-1 decoded; `wsgi.version` `(1, 0)`, `wsgi.url_scheme`, `wsgi.input`, `wsgi.errors`, `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.run_once`, `wsgi.input_terminated` (`True`), `wsgi.file_wrapper` |
//! | `wsgi.input` | `read()`, `read(n)`, `readline()`, `readline(n)`, `readlines(hint)`, iteration, over one buffer |
//! | `start_response` | status and headers checked, `exc_info` replaces the head until it went out and re-raises the same exception after, returns `write` |
//! | iterable | a one-element list gets a Content-Length, `close()` runs once on every path, `wsgi.file_wrapper` over a real file is sent as `Body::file` |
//! | exceptions | before the head: a 500 and the traceback in `wsgi.errors`; after: the connection is cut |
//!
//! Requests whose body is chunked carry no `CONTENT_LENGTH`; Django then reads an
//! empty body. [`WsgiConfig::buffer_chunked`] reads such bodies first (up to a size)
//! and sets `CONTENT_LENGTH`, as waitress does.
//!
//! The crate always links libpython: a Rust user of `gateway-spec` or
//! `reference-server` never builds it, and `gateway-serve` takes it only behind its
//! `wsgi` feature.

pub mod environ;
pub mod errors;
pub mod file_wrapper;
pub mod input;
pub mod interpreter;
mod pool;
pub mod response;
pub mod start_response;
pub mod target;
mod threads;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use gateway_spec::{App, AppError, Body, Environ, ErrorStream, Input, StartResponse};
use http::{HeaderValue, StatusCode};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

pub use interpreter::{PathSetup, PythonInfo};
pub use pool::PoolError;
pub use target::{AppTarget, ModuleRef, TargetError};
pub use threads::{attach_for_life, is_attached_for_life, wait_for_interpreter};

/// How the bridge runs the app.
#[derive(Debug, Clone)]
pub struct WsgiConfig {
    /// Threads that may run the app at once; `wsgi.multithread` is `threads > 1`.
    /// A server whose workers run inside [`attach_for_life`] sets its worker count
    /// here (the app runs on those threads); for calls from other threads it is the
    /// size of the bridge's own pool of Python threads, where requests beyond it
    /// wait.
    pub threads: usize,
    /// `wsgi.multiprocess`: other processes serve the same app.
    pub multiprocess: bool,
    /// Read a chunked request body (up to this many bytes, else 413) before calling
    /// the app, and set `CONTENT_LENGTH`; `None` passes it through unbuffered.
    pub buffer_chunked: Option<u64>,
    /// Working directory, `sys.path` and virtualenv.
    pub paths: PathSetup,
}

impl Default for WsgiConfig {
    fn default() -> Self {
        Self {
            threads: 4,
            multiprocess: false,
            buffer_chunked: None,
            paths: PathSetup::default(),
        }
    }
}

/// Why the app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The dynamic loader found another libpython than the one built against.
    #[error(
        "the libpython loaded is CPython {loaded}, but gateway-wsgi was built against CPython {built}; \
         run with the libpython it was built against (check LD_LIBRARY_PATH), or rebuild with PYO3_PYTHON pointing at this one"
    )]
    LibpythonMismatch {
        /// Version and prefix at build time.
        built: String,
        /// Version and prefix loaded now.
        loaded: String,
    },
    /// `--chdir` failed.
    #[error("cannot change to the directory {dir:?}: {source}")]
    Chdir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The virtualenv has no site-packages for this Python version.
    #[error(
        "the virtualenv {venv:?} has no {site_packages:?}: create it with this Python ({})",
        interpreter::BUILT_VERSION
    )]
    Venv {
        /// The virtualenv.
        venv: PathBuf,
        /// Where its packages should be.
        site_packages: PathBuf,
    },
    /// Importing the module, finding the attribute or calling the factory raised.
    #[error("cannot load the WSGI app {target}: {traceback}")]
    Import {
        /// The `--wsgi` value.
        target: String,
        /// The Python traceback.
        traceback: String,
    },
    /// The object found is not callable.
    #[error("{target} is a {kind}, not a WSGI callable: name the application object (Flask: app, Django: application)")]
    NotCallable {
        /// The `--wsgi` value.
        target: String,
        /// Its Python type.
        kind: String,
    },
    /// A Python error while setting up the interpreter.
    #[error("setting up the Python interpreter failed: {0}")]
    Python(String),
}

impl LoadError {
    fn python(py: Python<'_>) -> impl Fn(PyErr) -> LoadError + '_ {
        move |e| LoadError::Python(format_traceback(py, &e))
    }
}

/// The exception with its traceback, as Python prints it.
pub(crate) fn format_traceback(py: Python<'_>, err: &PyErr) -> String {
    let args = (err.get_type(py), err.value(py), err.traceback(py));
    py.import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", args))
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| lines.concat())
        .unwrap_or_else(|_| err.to_string())
}

/// A Python WSGI callable as a Gateway Interface [`App`].
///
/// ```no_run
/// use gateway_wsgi::{AppTarget, WsgiApp, WsgiConfig};
///
/// let target = AppTarget::parse("examples/flask/app.py:app").unwrap();
/// let app = WsgiApp::load(&target, WsgiConfig::default()).unwrap();
/// let response = gateway_spec::testing::TestClient::new(app).get("/").send();
/// assert_eq!(response.status, 200);
/// ```
#[derive(Clone)]
pub struct WsgiApp {
    shared: Arc<Shared>,
}

struct Shared {
    callable: Py<PyAny>,
    file_wrapper: Py<PyType>,
    runner: Arc<threads::Runner>,
    config: WsgiConfig,
    info: PythonInfo,
}

impl WsgiApp {
    /// Starts the interpreter (once per process), checks its libpython, sets up the
    /// paths and imports the app named by `target`.
    pub fn load(target: &AppTarget, config: WsgiConfig) -> Result<Self, LoadError> {
        let shown = describe_target(target);
        let (callable, file_wrapper, info) = Python::attach(|py| -> Result<_, LoadError> {
            let mut info = interpreter::check_libpython(py)?;
            let module_dir = match &target.module {
                ModuleRef::File(path) => Some(
                    path.parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(|p| p.to_path_buf())
                        .unwrap_or_else(|| PathBuf::from(".")),
                ),
                ModuleRef::Name(_) => None,
            };
            let module_dir = match (&module_dir, &config.paths.chdir) {
                (Some(dir), _) => Some(std::path::absolute(dir).unwrap_or(dir.clone())),
                _ => None,
            };
            if let Some(venv) = interpreter::prepare(py, &config.paths, module_dir.as_deref())? {
                info.prefix = venv.display().to_string();
            }
            let callable = import(py, target).map_err(|e| LoadError::Import {
                target: shown.clone(),
                traceback: format_traceback(py, &e),
            })?;
            if !callable.is_callable() {
                return Err(LoadError::NotCallable {
                    target: shown.clone(),
                    kind: callable
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                });
            }
            let file_wrapper = py.get_type::<file_wrapper::FileWrapper>().unbind();
            Ok((callable.unbind(), file_wrapper, info))
        })?;
        let runner = Arc::new(threads::Runner::new(config.threads));
        Ok(Self {
            shared: Arc::new(Shared {
                callable,
                file_wrapper,
                runner,
                config,
                info,
            }),
        })
    }

    /// Runs the app's `atexit` handlers and flushes Python's standard streams, once
    /// per process (later calls, and the drop of the last handle, do nothing): what
    /// a server calls after it stopped serving.
    pub fn shutdown(&self) {
        run_exit_handlers();
    }

    /// The interpreter's version and prefixes, for the start-up log.
    pub fn python_info(&self) -> &PythonInfo {
        &self.shared.info
    }
}

/// Runs what `python app.py` runs at exit: the `atexit` handlers, then a flush of
/// Python's standard streams. PyO3 never finalizes the interpreter, so the
/// server calls this once it stopped.
fn run_exit_handlers() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let _ = Python::try_attach(|py| {
            let run = py
                .import("atexit")
                .and_then(|atexit| atexit.call_method0("_run_exitfuncs"));
            if let Err(e) = run {
                log::warn!("an atexit handler of the Python app failed: {e}");
            }
            for stream in ["stdout", "stderr"] {
                let _ = py
                    .import("sys")
                    .and_then(|sys| sys.getattr(stream))
                    .and_then(|s| s.call_method0("flush"));
            }
        });
    });
}

impl Drop for Shared {
    fn drop(&mut self) {
        run_exit_handlers();
    }
}

fn describe_target(target: &AppTarget) -> String {
    let module = match &target.module {
        ModuleRef::Name(name) => name.clone(),
        ModuleRef::File(path) => path.display().to_string(),
    };
    format!("{module}:{}", target.attr)
}

fn import<'py>(py: Python<'py>, target: &AppTarget) -> PyResult<Bound<'py, PyAny>> {
    let module = match &target.module {
        ModuleRef::Name(name) => py.import(name.as_str())?.into_any(),
        ModuleRef::File(path) => {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "app".into());
            let util = py.import("importlib.util")?;
            let spec = util.call_method1(
                "spec_from_file_location",
                (name.as_str(), path.display().to_string()),
            )?;
            if spec.is_none() {
                return Err(pyo3::exceptions::PyImportError::new_err(format!(
                    "no Python file at {}",
                    path.display()
                )));
            }
            let module = util.call_method1("module_from_spec", (&spec,))?;
            py.import("sys")?
                .getattr("modules")?
                .set_item(name.as_str(), &module)?;
            spec.getattr("loader")?
                .call_method1("exec_module", (&module,))?;
            module
        }
    };
    let mut object = module;
    for part in target.attr.split('.') {
        object = object.getattr(part)?;
    }
    if let Some(args) = &target.factory_args {
        let globals = PyDict::new(py);
        globals.set_item("__factory", &object)?;
        let code = std::ffi::CString::new(format!("__factory({args})"))
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        object = py.eval(&code, Some(&globals), None)?;
    }
    Ok(object)
}

impl App for WsgiApp {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        if let Some(limit) = self.shared.config.buffer_chunked {
            if environ.content_length.is_none()
                && environ
                    .headers
                    .contains_key(http::header::TRANSFER_ENCODING)
            {
                let mut body = Vec::new();
                (&mut environ.input)
                    .take(limit + 1)
                    .read_to_end(&mut body)?;
                if body.len() as u64 > limit {
                    return Ok(start_response.text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("the chunked request body is larger than {limit} bytes\n"),
                    )?);
                }
                environ.content_length = Some(body.len() as u64);
                environ
                    .headers
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
                environ.input = Input::from_bytes(body);
            }
        }
        let shared = Arc::clone(&self.shared);
        self.shared
            .runner
            .run(move |py| handle(py, &shared, environ, start_response))?
    }
}

/// One request, on a thread attached for life.
fn handle(
    py: Python<'_>,
    shared: &Shared,
    environ: Environ,
    start_response: StartResponse,
) -> Result<Body, AppError> {
    let errors: ErrorStream = environ.errors.clone();
    let flags = environ::EnvironFlags {
        multithread: shared.config.threads > 1,
        multiprocess: shared.config.multiprocess,
    };
    let dict = environ::build(py, environ, &flags, shared.file_wrapper.bind(py))
        .map_err(|e| response::report(py, &e, &errors, "building the environ failed"))?;
    let start = Bound::new(py, start_response::PyStartResponse::new(start_response))
        .map_err(|e| response::report(py, &e, &errors, "creating start_response failed"))?;
    let result = shared
        .callable
        .bind(py)
        .call1((dict, &start))
        .map_err(|e| response::report(py, &e, &errors, "the WSGI app raised"))?;
    response::into_body(py, result, &start, &shared.runner, &errors)
}
