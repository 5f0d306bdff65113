//! The Python environ dict of one request: every CGI variable of the Rust
//! [`Environ`] as a native string, and the `wsgi.*` keys. Nothing from `os.environ`.

use gateway_spec::Environ;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::errors::WsgiErrors;
use crate::input::WsgiInput;

/// The per-process facts the environ carries.
pub(crate) struct EnvironFlags {
    pub(crate) multithread: bool,
    pub(crate) multiprocess: bool,
}

/// Builds the environ dict; `environ.input` and `environ.errors` move into it.
pub(crate) fn build<'py>(
    py: Python<'py>,
    environ: Environ,
    flags: &EnvironFlags,
    file_wrapper: &Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    // `vars` decodes every octet as latin-1: the native strings of PEP 3333.
    for (name, value) in environ.vars() {
        if !name.starts_with("wsgi.") {
            dict.set_item(name, value)?;
        }
    }
    dict.set_item(intern!(py, "wsgi.version"), (1, 0))?;
    dict.set_item(intern!(py, "wsgi.url_scheme"), environ.url_scheme.as_str())?;
    dict.set_item(intern!(py, "wsgi.multithread"), flags.multithread)?;
    dict.set_item(intern!(py, "wsgi.multiprocess"), flags.multiprocess)?;
    dict.set_item(intern!(py, "wsgi.run_once"), false)?;
    dict.set_item(intern!(py, "wsgi.input_terminated"), true)?;
    dict.set_item(intern!(py, "wsgi.file_wrapper"), file_wrapper)?;
    dict.set_item(
        intern!(py, "wsgi.errors"),
        Bound::new(py, WsgiErrors::new(environ.errors))?,
    )?;
    dict.set_item(
        intern!(py, "wsgi.input"),
        Bound::new(py, WsgiInput::new(environ.input))?,
    )?;
    Ok(dict)
}
