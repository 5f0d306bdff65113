//! The request body as `wsgi.input` reads it: like `std::io::BufReader`, but its
//! buffer is allocated only when a caller asks for buffered reads.
//!
//! Most apps read into their own buffer (`read`, `read_to_end`): those reads go
//! straight to the body, so a request with a body costs no 8 KiB buffer. Lines
//! (`fill_buf`, `read_line`) fill the buffer once one is needed.

use std::io::{self, BufRead, Read};

use crate::request_body::RequestBody;

/// The buffer's size, once there is one (`BufReader`'s default).
const BUFFER: usize = 8 * 1024;

/// A request body with a buffer made on first use.
pub(crate) struct BodyReader {
    body: RequestBody,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
}

impl BodyReader {
    pub(crate) fn new(body: RequestBody) -> Self {
        Self {
            body,
            buf: Vec::new(),
            pos: 0,
            filled: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buffered = self.buffered();
        if buffered.is_empty() {
            return self.body.read(out);
        }
        let n = buffered.len().min(out.len());
        out[..n].copy_from_slice(&buffered[..n]);
        self.consume(n);
        Ok(n)
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let buffered = self.buffered().len();
        out.extend_from_slice(self.buffered());
        self.consume(buffered);
        Ok(buffered + self.body.read_to_end(out)?)
    }
}

impl BufRead for BodyReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            if self.buf.is_empty() {
                self.buf = vec![0; BUFFER];
            }
            self.filled = self.body.read(&mut self.buf)?;
            self.pos = 0;
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
    }
}
