//! The app's return value turned into a [`Body`]: a list gathered (one element: a
//! Content-Length), a `wsgi.file_wrapper` over a real file sent as `Body::file`,
//! any other iterable pulled chunk by chunk as the server asks (on whichever
//! thread asks, when it is attached for life); `close()` once.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use gateway_spec::{AppError, Body, ErrorStream};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::file_wrapper::FileWrapper;
use crate::start_response::PyStartResponse;
use crate::threads::Runner;

/// A Python exception, as the app error the exchange reports.
#[derive(Debug, thiserror::Error)]
#[error("the Python app raised {summary} (the traceback is in the error log)")]
pub struct PythonError {
    /// `TypeName: message`.
    pub summary: String,
}

/// Logs `err` with its traceback to `errors` and makes it an [`AppError`].
pub(crate) fn report(py: Python<'_>, err: &PyErr, errors: &ErrorStream, doing: &str) -> AppError {
    let summary = err.to_string();
    let traceback = crate::format_traceback(py, err);
    let mut errors = errors.clone();
    let _ = write!(errors, "gateway-wsgi: {doing}:\n{traceback}");
    let _ = errors.flush();
    Box::new(PythonError { summary })
}

fn chunk_bytes(item: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    let bytes = item.cast::<PyBytes>().map_err(|_| {
        PyTypeError::new_err(format!(
            "the response iterable yielded {}, not bytes",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(Bytes::copy_from_slice(bytes.as_bytes()))
}

/// Calls the iterable's `close()` if it has one, logging what it raises.
pub(crate) fn close_iterable(py: Python<'_>, iterable: &Bound<'_, PyAny>, errors: &ErrorStream) {
    match iterable.hasattr("close") {
        Ok(true) => {
            if let Err(e) = iterable.call_method0("close") {
                report(py, &e, errors, "close() of the response iterable raised");
            }
        }
        Ok(false) => {}
        Err(e) => {
            report(py, &e, errors, "looking up close() raised");
        }
    }
}

/// The app's return value as the body the server sends.
pub(crate) fn into_body(
    py: Python<'_>,
    result: Bound<'_, PyAny>,
    start_response: &Bound<'_, PyStartResponse>,
    runner: &Arc<Runner>,
    errors: &ErrorStream,
) -> Result<Body, AppError> {
    if let Ok(wrapper) = result.cast::<FileWrapper>() {
        if let Some(body) = file_body(py, wrapper.get()) {
            let iterable = result.clone().unbind();
            return Ok(body.on_close(close_hook(runner, iterable, errors)));
        }
    }
    if result.is_exact_instance_of::<PyList>() || result.is_exact_instance_of::<PyTuple>() {
        let chunks: PyResult<Vec<Bytes>> =
            result.try_iter()?.map(|item| chunk_bytes(&item?)).collect();
        return match chunks {
            Ok(mut chunks) if chunks.len() == 1 => Ok(Body::from_bytes(chunks.remove(0))),
            Ok(chunks) => Ok(Body::from_chunks(chunks)),
            Err(e) => Err(report(
                py,
                &e,
                errors,
                "the response list held a non-bytes item",
            )),
        };
    }
    let iterator = match result.try_iter() {
        Ok(iterator) => iterator,
        Err(e) => {
            close_iterable(py, &result, errors);
            return Err(report(
                py,
                &e,
                errors,
                "the app's return value is not iterable",
            ));
        }
    };
    // Pull up to the first non-empty chunk here: a lazy start_response runs now,
    // and a body that fills its declared Content-Length needs no second trip.
    let mut first = Vec::new();
    let mut sent = 0u64;
    let mut ended = false;
    for item in iterator.clone() {
        match item.and_then(|item| chunk_bytes(&item)) {
            Ok(chunk) if chunk.is_empty() => continue,
            Ok(chunk) => {
                sent += chunk.len() as u64;
                first.push(chunk);
                break;
            }
            Err(e) => {
                close_iterable(py, &result, errors);
                return Err(report(py, &e, errors, "the response iterable raised"));
            }
        }
    }
    if first.is_empty() {
        ended = true;
    }
    let filled = start_response
        .get()
        .declared_length()
        .is_some_and(|n| sent >= n);
    if ended || filled {
        close_iterable(py, &result, errors);
        return Ok(Body::from_chunks(first));
    }
    let rest = PulledIter {
        runner: runner.clone(),
        iterator: Some(Arc::new(iterator.into_any().unbind())),
        errors: errors.clone(),
    };
    let chunks = first.into_iter().map(Ok).chain(rest);
    Ok(Body::try_from_chunks(chunks).on_close(close_hook(runner, result.unbind(), errors)))
}

/// The close hook: `close()`, finished before the response ends (BODY-3), on the
/// thread that ends it if that thread is attached for life, else on the pool.
fn close_hook(
    runner: &Arc<Runner>,
    iterable: Py<PyAny>,
    errors: &ErrorStream,
) -> impl FnOnce() + Send {
    let runner = runner.clone();
    let errors = errors.clone();
    move || {
        let _ = runner.run(move |py| close_iterable(py, iterable.bind(py), &errors));
    }
}

/// The file fast path: a real file behind the wrapper, reopened through
/// `/proc/self/fd` (its own offset) and positioned where the Python object is.
fn file_body(py: Python<'_>, wrapper: &FileWrapper) -> Option<Body> {
    let filelike = wrapper.filelike.bind(py);
    let fd: i32 = filelike.call_method0("fileno").ok()?.extract().ok()?;
    let position: u64 = filelike.call_method0("tell").ok()?.extract().ok()?;
    let file = File::open(format!("/proc/self/fd/{fd}")).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let len = file.metadata().ok()?.len();
    Body::file_range(file, position, len.saturating_sub(position)).ok()
}

/// The rest of a Python iterator, each `next()` run when the server asks for the
/// next chunk: on the asking thread when it is attached for life (a parked response
/// may resume on another worker than the one that called the app: the generator
/// then goes on there, which Python allows to any thread holding the GIL), else on
/// the pool.
struct PulledIter {
    runner: Arc<Runner>,
    iterator: Option<Arc<Py<PyAny>>>,
    errors: ErrorStream,
}

impl Iterator for PulledIter {
    type Item = Result<Bytes, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        let iterator = self.iterator.clone()?;
        let errors = self.errors.clone();
        let step = self
            .runner
            .run(move |py| -> Option<Result<Bytes, AppError>> {
                let iterator = iterator.bind(py);
                let item = match iterator.call_method0("__next__") {
                    Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
                        return None
                    }
                    other => other,
                };
                Some(
                    item.and_then(|item| chunk_bytes(&item))
                        .map_err(|e| report(py, &e, &errors, "the response iterable raised")),
                )
            });
        match step {
            Ok(Some(chunk)) => Some(chunk),
            Ok(None) => {
                self.iterator = None;
                None
            }
            Err(gone) => {
                self.iterator = None;
                Some(Err(Box::new(gone)))
            }
        }
    }
}
