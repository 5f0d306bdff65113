//! `wsgi.file_wrapper`: wraps a file-like object so the server can send a real file
//! through the `Body::file` fast path, and anything else by `read(blksize)`.
//! Opening and positioning the file happens in `response.rs`; this is the Python type.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The `wsgi.file_wrapper` type (PEP 3333): iterable over `read(blksize)` blocks,
/// its `close()` closes the wrapped object.
#[pyclass(frozen, name = "FileWrapper", module = "gateway_wsgi")]
pub struct FileWrapper {
    pub(crate) filelike: Py<PyAny>,
    blksize: usize,
}

#[pymethods]
impl FileWrapper {
    #[new]
    #[pyo3(signature = (filelike, blksize = 8192))]
    fn new(filelike: Py<PyAny>, blksize: usize) -> Self {
        Self {
            filelike,
            blksize: blksize.max(1),
        }
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let block = self
            .filelike
            .bind(py)
            .call_method1("read", (self.blksize,))?;
        let empty = block
            .cast::<PyBytes>()
            .is_ok_and(|b| b.as_bytes().is_empty());
        Ok((!empty).then_some(block))
    }

    /// Closes the wrapped object, if it has a `close`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let filelike = self.filelike.bind(py);
        if filelike.hasattr("close")? {
            filelike.call_method0("close")?;
        }
        Ok(())
    }
}
