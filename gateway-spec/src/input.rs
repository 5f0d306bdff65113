//! The request body as the app reads it (`wsgi.input`): a `Read + BufRead` stream that
//! ends exactly at the end of the body and remembers a client's fault. It does not
//! decode framing; servers do.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, OnceLock};

use crate::client_error::BodyError;

/// The request body stream (INPUT-1).
///
/// It returns end-of-file exactly at the end of the request body whatever the framing
/// (Content-Length, chunked or none), so an app may read to the end without looking
/// at `CONTENT_LENGTH`; reading past the end is end-of-file again, never a hang. A
/// body the client cut short is an error of kind `UnexpectedEof`, never a clean end
/// (INPUT-5).
///
/// When a read fails through the client's fault (the server's reader returned a
/// [`BodyError`]), the input remembers it (INPUT-12): the exchange then answers
/// 400, 408 or 413 instead of 500 if the app fails (FAIL-10).
///
/// ```
/// use std::io::Read;
/// use gateway_spec::Input;
///
/// let mut input = Input::from_bytes("name=value");
/// let mut body = String::new();
/// input.read_to_string(&mut body).unwrap();
/// assert_eq!(body, "name=value");
/// assert_eq!(input.read(&mut [0; 8]).unwrap(), 0); // past the end: EOF again
/// ```
pub struct Input {
    inner: Box<dyn BufRead + Send>,
    client_error: ClientErrorRecord,
}

/// Where an [`Input`] records the first client fault of its body. Clones share it,
/// so a server (or middleware) keeps one while the app owns the input.
///
/// ```
/// use std::io::{self, Read};
/// use gateway_spec::client_error::{BodyError, ClientFault};
/// use gateway_spec::Input;
///
/// struct Broken;
/// impl Read for Broken {
///     fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
///         Err(BodyError::new(ClientFault::Malformed, "chunk size must be hexadecimal digits").into())
///     }
/// }
/// let mut input = Input::new(io::BufReader::new(Broken));
/// let record = input.client_error_record();
/// assert!(record.get().is_none());
/// assert!(input.read_to_end(&mut Vec::new()).is_err());
/// assert_eq!(record.get().map(BodyError::fault), Some(ClientFault::Malformed));
/// ```
///
/// The default record belongs to an input that cannot fail (no body): it holds no
/// cell, so a request without a body costs no allocation for it.
#[derive(Debug, Clone, Default)]
pub struct ClientErrorRecord(Option<Arc<OnceLock<BodyError>>>);

impl ClientErrorRecord {
    /// A record with a cell of its own, shared by its clones.
    fn shared() -> Self {
        Self(Some(Arc::default()))
    }

    /// The first client fault the input met, if any.
    pub fn get(&self) -> Option<&BodyError> {
        self.0.as_ref().and_then(|cell| cell.get())
    }

    /// Passes `result` through, remembering the client fault it carries.
    fn note<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let (Err(error), Some(cell)) = (&result, &self.0) {
            if let Some(fault) = BodyError::find(error) {
                let _ = cell.set(fault.clone());
            }
        }
        result
    }
}

impl Input {
    /// Wraps a server's body reader. The reader must end exactly at the end of the
    /// body: that is the server's obligation, not this type's.
    pub fn new(reader: impl BufRead + Send + 'static) -> Self {
        Self {
            inner: Box::new(reader),
            client_error: ClientErrorRecord::shared(),
        }
    }

    /// The first client fault a read of this input met (INPUT-12).
    pub fn client_error(&self) -> Option<&BodyError> {
        self.client_error.get()
    }

    /// A handle on this input's client fault that outlives the input's move into
    /// the app: what the exchange and the validator keep.
    pub fn client_error_record(&self) -> ClientErrorRecord {
        self.client_error.clone()
    }

    /// An input of no bytes, for requests without a body.
    pub fn empty() -> Self {
        // No allocation: `io::Empty` is zero-sized and it never fails, so it needs
        // no cell for a client fault.
        Self {
            inner: Box::new(io::empty()),
            client_error: ClientErrorRecord::default(),
        }
    }

    /// An input holding `bytes`, for tests and in-process calls.
    pub fn from_bytes(bytes: impl Into<bytes::Bytes>) -> Self {
        Self::new(io::Cursor::new(bytes.into()))
    }

    /// Reads one line, up to and including `\n`, but at most `limit` bytes (like
    /// Python's `readline(size)`), so that a client cannot make an app buffer an
    /// endless line. Returns an empty vector at the end of the body.
    ///
    /// ```
    /// use gateway_spec::Input;
    ///
    /// let mut input = Input::from_bytes("first line\nsecond\n");
    /// assert_eq!(input.read_line_max(5).unwrap(), b"first");
    /// assert_eq!(input.read_line_max(100).unwrap(), b" line\n");
    /// assert_eq!(input.read_line_max(100).unwrap(), b"second\n");
    /// assert!(input.read_line_max(100).unwrap().is_empty());
    /// ```
    pub fn read_line_max(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        while line.len() < limit {
            let available = self.client_error.note(self.inner.fill_buf())?;
            if available.is_empty() {
                break;
            }
            let room = limit - line.len();
            let window = &available[..available.len().min(room)];
            match window.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&window[..=i]);
                    self.inner.consume(i + 1);
                    break;
                }
                None => {
                    let n = window.len();
                    line.extend_from_slice(window);
                    self.inner.consume(n);
                }
            }
        }
        Ok(line)
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.client_error.note(self.inner.read(buf))
    }

    // Forwarded, so that a server's reader can append what it holds without the
    // generic loop (which zeroes room first and reads through small buffers).
    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.client_error.note(self.inner.read_to_end(buf))
    }

    fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        self.client_error.note(self.inner.read_to_string(buf))
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.client_error.note(self.inner.fill_buf())
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

impl Default for Input {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_to_end_and_read_to_string_reach_the_inner_reader() {
        let mut input = Input::from_bytes("abc");
        let mut bytes = b"<".to_vec();
        assert_eq!(input.read_to_end(&mut bytes).unwrap(), 3);
        assert_eq!(bytes, b"<abc");
        let mut text = String::new();
        assert_eq!(
            Input::from_bytes("\u{e9}")
                .read_to_string(&mut text)
                .unwrap(),
            2
        );
        assert_eq!(text, "\u{e9}");
    }

    #[test]
    fn read_line_max_stops_at_limit_without_newline() {
        let mut input = Input::from_bytes("abcdef");
        assert_eq!(input.read_line_max(4).unwrap(), b"abcd");
        assert_eq!(input.read_line_max(4).unwrap(), b"ef");
        assert!(input.read_line_max(4).unwrap().is_empty());
    }

    #[test]
    fn read_line_max_of_zero_reads_nothing() {
        let mut input = Input::from_bytes("abc\n");
        assert!(input.read_line_max(0).unwrap().is_empty());
        assert_eq!(input.read_line_max(10).unwrap(), b"abc\n");
    }

    #[test]
    fn read_line_max_works_across_small_buffers() {
        let reader = io::BufReader::with_capacity(2, io::Cursor::new(b"hello\nworld".to_vec()));
        let mut input = Input::new(reader);
        assert_eq!(input.read_line_max(64).unwrap(), b"hello\n");
        assert_eq!(input.read_line_max(64).unwrap(), b"world");
    }

    #[test]
    fn errors_from_the_server_reader_reach_the_app() {
        struct CutShort;
        impl Read for CutShort {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "client went away",
                ))
            }
        }
        let mut input = Input::new(io::BufReader::new(CutShort));
        let err = input.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // A plain error of the same kind is not the client's fault.
        assert!(input.client_error().is_none());
    }

    #[test]
    fn the_first_client_fault_is_remembered_whichever_read_met_it() {
        use crate::client_error::ClientFault;
        struct Faults(Vec<ClientFault>);
        impl Read for Faults {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                let fault = self.0.remove(0);
                Err(BodyError::new(fault, format!("{fault:?}")).into())
            }
        }
        let reader = Faults(vec![ClientFault::TooSlow, ClientFault::TooLarge]);
        let mut input = Input::new(io::BufReader::new(reader));
        assert!(input.read_line_max(10).is_err());
        assert!(input.read(&mut [0; 4]).is_err());
        let fault = input.client_error().map(BodyError::fault);
        assert_eq!(fault, Some(ClientFault::TooSlow));
    }
}
