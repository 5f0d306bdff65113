//! The request body as the app reads it (`wsgi.input`): a `Read + BufRead` stream that
//! ends exactly at the end of the body. It does not decode framing; servers do.

use std::fmt;
use std::io::{self, BufRead, Read};

/// The request body stream (INPUT-1).
///
/// It returns end-of-file exactly at the end of the request body whatever the framing
/// (Content-Length, chunked or none), so an app may read to the end without looking
/// at `CONTENT_LENGTH`; reading past the end is end-of-file again, never a hang. A
/// body the client cut short is an error of kind `UnexpectedEof`, never a clean end
/// (INPUT-5).
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
}

impl Input {
    /// Wraps a server's body reader. The reader must end exactly at the end of the
    /// body: that is the server's obligation, not this type's.
    pub fn new(reader: impl BufRead + Send + 'static) -> Self {
        Self {
            inner: Box::new(reader),
        }
    }

    /// An input of no bytes, for requests without a body.
    pub fn empty() -> Self {
        Self::new(io::empty())
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
            let available = self.inner.fill_buf()?;
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
        self.inner.read(buf)
    }

    // Forwarded, so that a server's reader can append what it holds without the
    // generic loop (which zeroes room first and reads through small buffers).
    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.inner.read_to_end(buf)
    }

    fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        self.inner.read_to_string(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
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
    }
}
