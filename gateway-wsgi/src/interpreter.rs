//! Setting up the embedded interpreter before the app is imported: the check that
//! the libpython loaded is the one built against, the working directory, `sys.path`,
//! the virtualenv, `sys.argv`. It does not serve requests.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::LoadError;

/// The CPython this crate was built against: `major.minor.micro`.
pub const BUILT_VERSION: &str = env!("GATEWAY_WSGI_BUILT_PYTHON_VERSION");
/// The `sys.base_prefix` of the interpreter this crate was built against.
pub const BUILT_PREFIX: &str = env!("GATEWAY_WSGI_BUILT_PYTHON_PREFIX");

/// What the loaded interpreter says about itself, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonInfo {
    /// `major.minor.micro`.
    pub version: String,
    /// `sys.base_prefix`: where the standard library comes from.
    pub base_prefix: String,
    /// `sys.prefix`: the virtualenv, if one is active.
    pub prefix: String,
}

/// Refuses a libpython other than the one built against (same soname, other build:
/// imports would fail later with misleading errors).
pub(crate) fn check_libpython(py: Python<'_>) -> Result<PythonInfo, LoadError> {
    let sys = py.import("sys").map_err(LoadError::python(py))?;
    let (major, minor, micro, _, _): (u32, u32, u32, String, u32) = sys
        .getattr("version_info")
        .and_then(|v| v.extract())
        .map_err(LoadError::python(py))?;
    let version = format!("{major}.{minor}.{micro}");
    let base_prefix: String = sys
        .getattr("base_prefix")
        .and_then(|p| p.extract())
        .map_err(LoadError::python(py))?;
    let same_version = version == BUILT_VERSION;
    let same_prefix = BUILT_PREFIX.is_empty() || base_prefix == BUILT_PREFIX;
    if !(same_version && same_prefix) {
        return Err(LoadError::LibpythonMismatch {
            built: format!("{BUILT_VERSION} ({BUILT_PREFIX})"),
            loaded: format!("{version} ({base_prefix})"),
        });
    }
    Ok(PythonInfo {
        prefix: base_prefix.clone(),
        version,
        base_prefix,
    })
}

/// Where the interpreter looks for modules, and which directory is current.
#[derive(Debug, Clone, Default)]
pub struct PathSetup {
    /// `--chdir`: made the working directory before the import.
    pub chdir: Option<PathBuf>,
    /// `--pythonpath`: put first on `sys.path`, in order.
    pub pythonpath: Vec<PathBuf>,
    /// The virtualenv to use; `None` takes `VIRTUAL_ENV` from the environment.
    pub venv: Option<PathBuf>,
}

/// Applies `setup`; returns the virtualenv used, if any.
pub(crate) fn prepare(
    py: Python<'_>,
    setup: &PathSetup,
    module_dir: Option<&Path>,
) -> Result<Option<PathBuf>, LoadError> {
    if let Some(dir) = &setup.chdir {
        std::env::set_current_dir(dir).map_err(|source| LoadError::Chdir {
            dir: dir.clone(),
            source,
        })?;
    }
    let err = LoadError::python(py);
    let sys = py.import("sys").map_err(&err)?;
    let path = sys.getattr("path").map_err(&err)?;
    let path = path.cast::<PyList>().map_err(|e| err(e.into()))?;
    let venv = setup
        .venv
        .clone()
        .or_else(|| std::env::var_os("VIRTUAL_ENV").map(PathBuf::from));
    if let Some(venv) = &venv {
        let (major, minor, _, _, _): (u32, u32, u32, String, u32) = sys
            .getattr("version_info")
            .and_then(|v| v.extract())
            .map_err(&err)?;
        let site_packages = venv.join(format!("lib/python{major}.{minor}/site-packages"));
        if !site_packages.is_dir() {
            return Err(LoadError::Venv {
                venv: venv.clone(),
                site_packages,
            });
        }
        let before = path.len();
        py.import("site")
            .and_then(|site| {
                site.call_method1("addsitedir", (site_packages.display().to_string(),))
            })
            .map_err(&err)?;
        // addsitedir appends; the virtualenv must win over the base install.
        let added: Vec<Py<PyAny>> = (before..path.len())
            .filter_map(|i| path.get_item(i).ok().map(Bound::unbind))
            .collect();
        for (offset, entry) in added.iter().enumerate() {
            path.del_item(before).map_err(&err)?;
            path.insert(offset, entry.bind(py)).map_err(&err)?;
        }
        sys.setattr("prefix", venv.display().to_string())
            .map_err(&err)?;
        sys.setattr("exec_prefix", venv.display().to_string())
            .map_err(&err)?;
        sys.setattr("executable", venv.join("bin/python").display().to_string())
            .map_err(&err)?;
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut first: Vec<PathBuf> = setup.pythonpath.clone();
    if let Some(dir) = module_dir {
        first.push(dir.to_path_buf());
    }
    first.push(cwd);
    for (i, dir) in first.iter().enumerate() {
        path.insert(i, dir.display().to_string()).map_err(&err)?;
    }
    if !sys.hasattr("argv").map_err(&err)?
        || sys.getattr("argv").map_err(&err)?.len().map_err(&err)? == 0
    {
        let program = std::env::args()
            .next()
            .unwrap_or_else(|| "gateway-serve".into());
        sys.setattr("argv", vec![program]).map_err(&err)?;
    }
    Ok(venv)
}
