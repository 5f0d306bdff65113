//! `wsgi.input` for Python: `read`, `readline`, `readlines` and iteration over the
//! Rust [`Input`], sharing its one buffer, with the GIL released while a read waits
//! on the client. It does not decode framing; the server did.

use std::io::{BufRead, Read};
use std::sync::Mutex;

use gateway_spec::Input;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// The request body as a Python file-like object (PEP 3333 `wsgi.input`).
#[pyclass(frozen, name = "Input", module = "gateway_wsgi")]
pub struct WsgiInput {
    input: Mutex<Input>,
}

impl WsgiInput {
    pub(crate) fn new(input: Input) -> Self {
        Self {
            input: Mutex::new(input),
        }
    }

    /// Runs `f` on the input without the GIL.
    fn with_input<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Input) -> std::io::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut input = self.input.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut input)
        })
        .map_err(|e| PyOSError::new_err(format!("reading the request body failed: {e}")))
    }
}

/// `None` or a negative size means "no limit", as for Python files.
fn limit(size: Option<i64>) -> Option<usize> {
    size.filter(|n| *n >= 0).map(|n| n as usize)
}

fn read_line(input: &mut Input, max: Option<usize>) -> std::io::Result<Vec<u8>> {
    match max {
        Some(max) => input.read_line_max(max),
        None => {
            let mut line = Vec::new();
            input.read_until(b'\n', &mut line)?;
            Ok(line)
        }
    }
}

#[pymethods]
impl WsgiInput {
    /// `read(size=-1)`: at most `size` bytes, fewer only at the end of the body;
    /// everything left without a size.
    #[pyo3(signature = (size = None))]
    fn read<'py>(&self, py: Python<'py>, size: Option<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let data = self.with_input(py, |input| {
            let mut data = Vec::new();
            match limit(size) {
                None => {
                    input.read_to_end(&mut data)?;
                }
                Some(n) => {
                    input.take(n as u64).read_to_end(&mut data)?;
                }
            }
            Ok(data)
        })?;
        Ok(PyBytes::new(py, &data))
    }

    /// `readline(size=-1)`: one line with its `\n`, at most `size` bytes.
    #[pyo3(signature = (size = None))]
    fn readline<'py>(&self, py: Python<'py>, size: Option<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let line = self.with_input(py, |input| read_line(input, limit(size)))?;
        Ok(PyBytes::new(py, &line))
    }

    /// `readlines(hint=-1)`: the lines left, stopping once `hint` bytes were read.
    #[pyo3(signature = (hint = None))]
    fn readlines<'py>(&self, py: Python<'py>, hint: Option<i64>) -> PyResult<Bound<'py, PyList>> {
        let hint = limit(hint).filter(|n| *n > 0);
        let lines = self.with_input(py, |input| {
            let mut lines = Vec::new();
            let mut total = 0;
            loop {
                let line = read_line(input, None)?;
                if line.is_empty() {
                    break;
                }
                total += line.len();
                lines.push(line);
                if hint.is_some_and(|h| total >= h) {
                    break;
                }
            }
            Ok(lines)
        })?;
        let list = PyList::empty(py);
        for line in lines {
            list.append(PyBytes::new(py, &line))?;
        }
        Ok(list)
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.with_input(py, |input| read_line(input, None))?;
        Ok((!line.is_empty()).then(|| PyBytes::new(py, &line)))
    }
}
