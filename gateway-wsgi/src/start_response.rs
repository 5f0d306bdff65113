//! `start_response` and `write` for Python: the status line and header list checked
//! (native strings, latin-1, no CR/LF), `exc_info` honoured, the write callable
//! returned. Sending is the exchange's job (gateway-spec); this only translates.

use std::io::Write;
use std::sync::Mutex;

use gateway_spec::{ResponseHead, StartResponse, StartResponseError, WriteHandle};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// The Python exception given as `exc_info`, as a Rust error for the exchange.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ExcInfo(String);

/// The `start_response` callable (PEP 3333), one per request.
#[pyclass(frozen, name = "StartResponse", module = "gateway_wsgi")]
pub struct PyStartResponse {
    inner: StartResponse,
    /// The Content-Length of the last accepted head, if it declared one.
    content_length: Mutex<Option<u64>>,
}

impl PyStartResponse {
    pub(crate) fn new(inner: StartResponse) -> Self {
        Self {
            inner,
            content_length: Mutex::new(None),
        }
    }

    /// The Content-Length the app declared, once it called start_response.
    pub(crate) fn declared_length(&self) -> Option<u64> {
        *self
            .content_length
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// Parses `"200 OK"`: three digits, a space, the reason phrase.
pub(crate) fn parse_status(status: &str) -> Result<(StatusCode, String), String> {
    let bytes = status.as_bytes();
    let digits_ok =
        bytes.len() >= 4 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b' ';
    if !digits_ok {
        return Err(format!(
            "status {status:?} must be three digits, a space and a reason phrase, e.g. \"200 OK\""
        ));
    }
    let code: u16 = status[..3]
        .parse()
        .map_err(|_| format!("status {status:?} has no code"))?;
    let code =
        StatusCode::from_u16(code).map_err(|_| format!("status code {code} is outside 100-999"))?;
    Ok((code, status[4..].to_owned()))
}

/// The octets of a native string: each character must be U+0000..U+00FF.
fn latin1(text: &str, what: &str) -> PyResult<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "{what} {text:?} has a character above U+00FF; header text must be latin-1 (encode other text, e.g. RFC 8187)"
            ))
        })
}

/// Checks the header list and builds the map.
pub(crate) fn parse_headers(headers: &Bound<'_, PyAny>) -> PyResult<HeaderMap> {
    let list = headers.cast::<PyList>().map_err(|_| {
        PyTypeError::new_err(format!(
            "headers must be a list of (name, value) tuples, not {}",
            headers
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let mut map = HeaderMap::with_capacity(list.len());
    for item in list.iter() {
        let pair = item
            .cast::<PyTuple>()
            .ok()
            .filter(|t| t.len() == 2)
            .ok_or_else(|| {
                PyTypeError::new_err(format!("header {item} must be a (name, value) tuple"))
            })?;
        let (name, value) = (pair.get_item(0)?, pair.get_item(1)?);
        let (Ok(name), Ok(value)) = (name.cast::<PyString>(), value.cast::<PyString>()) else {
            return Err(PyTypeError::new_err(format!(
                "header {item}: name and value must both be str (native strings), not bytes"
            )));
        };
        let (name, value) = (name.to_str()?, value.to_str()?);
        let name_bytes = latin1(name, "header name")?;
        let header_name = HeaderName::from_bytes(&name_bytes).map_err(|_| {
            PyValueError::new_err(format!("header name {name:?} is not an HTTP token"))
        })?;
        let value_bytes = latin1(value, "header value")?;
        let header_value = HeaderValue::from_bytes(&value_bytes).map_err(|_| {
            PyValueError::new_err(format!(
                "header value {value:?} of {name} holds CR, LF or another control character"
            ))
        })?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

fn sink_error(e: StartResponseError) -> PyErr {
    match e {
        StartResponseError::AlreadyStarted | StartResponseError::ResponseFinished => {
            PyRuntimeError::new_err(e.to_string())
        }
        other => PyValueError::new_err(other.to_string()),
    }
}

#[pymethods]
impl PyStartResponse {
    #[pyo3(signature = (status, headers, exc_info = None))]
    fn __call__(
        &self,
        status: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        exc_info: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyWrite> {
        let status = status
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("status must be a str (a native string)"))?
            .to_str()?;
        let (code, reason) = parse_status(status).map_err(PyValueError::new_err)?;
        latin1(&reason, "reason phrase")?;
        let head = ResponseHead {
            status: code,
            reason: Some(reason),
            headers: parse_headers(headers)?,
        };
        let declared = head.content_length().ok().flatten();
        // exc_info is (type, value, traceback); (None, None, None) is no error.
        let error = match exc_info {
            Some(info) if !info.is_none() => {
                let value = info.get_item(1)?;
                (!value.is_none()).then_some(value)
            }
            _ => None,
        };
        let started = match &error {
            Some(value) => {
                let described = ExcInfo(value.to_string());
                self.inner.start(head, Some(&described))
            }
            None => self.inner.start(head, None),
        };
        match started {
            Ok(write) => {
                *self
                    .content_length
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = declared;
                Ok(PyWrite {
                    handle: Mutex::new(write),
                })
            }
            // The head already went out: re-raise the app's own exception (PEP 3333).
            Err(StartResponseError::HeadersSent) => match error {
                Some(value) => Err(PyErr::from_value(value)),
                None => Err(sink_error(StartResponseError::HeadersSent)),
            },
            Err(e) => Err(sink_error(e)),
        }
    }
}

/// The `write` callable `start_response` returns: bytes sent at once.
#[pyclass(frozen, name = "Write", module = "gateway_wsgi")]
pub struct PyWrite {
    handle: Mutex<WriteHandle>,
}

#[pymethods]
impl PyWrite {
    fn __call__(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = data
            .cast::<PyBytes>()
            .map_err(|_| PyTypeError::new_err("write() takes bytes"))?
            .as_bytes()
            .to_vec();
        py.detach(|| {
            let mut handle = self.handle.lock().unwrap_or_else(|e| e.into_inner());
            handle.write_all(&data)
        })
        .map_err(|e| PyRuntimeError::new_err(format!("write() failed: {e}")))
    }
}
