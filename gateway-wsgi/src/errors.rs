//! `wsgi.errors` for Python: a text stream (`write`, `writelines`, `flush`) onto the
//! request's [`ErrorStream`], which the server points at its error log. No
//! buffering or formatting of its own.

use std::io::Write;
use std::sync::Mutex;

use gateway_spec::ErrorStream;
use pyo3::prelude::*;

/// The errors stream as a Python file-like object (PEP 3333 `wsgi.errors`).
#[pyclass(frozen, name = "Errors", module = "gateway_wsgi")]
pub struct WsgiErrors {
    stream: Mutex<ErrorStream>,
}

impl WsgiErrors {
    pub(crate) fn new(stream: ErrorStream) -> Self {
        Self {
            stream: Mutex::new(stream),
        }
    }
}

#[pymethods]
impl WsgiErrors {
    /// Writes a string.
    fn write(&self, text: &str) -> PyResult<usize> {
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        stream.write_all(text.as_bytes())?;
        Ok(text.chars().count())
    }

    /// Writes each string of `lines`.
    fn writelines(&self, lines: Vec<String>) -> PyResult<()> {
        for line in lines {
            self.write(&line)?;
        }
        Ok(())
    }

    /// Flushes the stream.
    fn flush(&self) -> PyResult<()> {
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        stream.flush()?;
        Ok(())
    }
}
