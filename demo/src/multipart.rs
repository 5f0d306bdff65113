//! A small streaming `multipart/form-data` parser (RFC 7578, RFC 2046 §5.1) over any
//! `Read`: part headers are parsed whole, part bodies are handed out chunk by chunk.
//!
//! # Why a parser of our own, and not `multer`
//!
//! `multer` 3.1 (axum's, well kept) was measured against this parser on this machine
//! (2 cores, release builds, a 100 MiB upload and a 64 MiB header flood, both read
//! from memory through a blocking adapter over `Read`, as a synchronous app must):
//!
//! | | this parser | multer 3.1 + blocking adapter |
//! | --- | --- | --- |
//! | 100 MiB upload | 35 ms, peak RSS +0.2 MiB | 366 ms, peak RSS +100 MiB |
//! | 64 MiB of part headers without an end | refused after 8 KiB, +0.2 MiB | read whole, +64 MiB, then "incomplete stream" |
//! | lines (without tests) | about 550 | about 120 of adapter, plus 11 crates |
//!
//! multer pulls its stream until it is pending and searches part headers without a
//! bound (only the whole-body limit stops it); a blocking source is never pending,
//! so it buffers the whole upload. That is the unbounded-header denial of service
//! that multipart parsers keep being reported for (python-multipart
//! GHSA-pp6c-gr5w-3c5g, npm multer's series). This parser holds one buffer of
//! [`BUFFER_BYTES`] whatever it reads, refuses headers past [`MAX_HEADER_BYTES`], and
//! is fuzzed: `demo/fuzz` (target `multipart`) asserts no panic, one buffer, and the
//! same parts and verdict however the reader splits the body; the same checks run on
//! fixed mutants in `cargo test` (`split_checks`).
//!
//! Memory is bounded by one fixed buffer of [`BUFFER_BYTES`], whatever the size of the
//! parts: a part body is returned in slices of that buffer, holding back only the
//! last few bytes that could be the start of the next delimiter (`CRLF--boundary`).
//!
//! ```
//! use gateway_demo::multipart::Multipart;
//!
//! let body: &[u8] = b"--XyZ\r\n\
//!     Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
//!     \r\n\
//!     hello\r\n--XyZ--\r\n";
//! let mut form = Multipart::new(body, "XyZ");
//! let part = form.next_part().unwrap().unwrap();
//! assert_eq!(part.name, "file");
//! assert_eq!(part.filename.as_deref(), Some(&b"a.txt"[..]));
//! let mut content = Vec::new();
//! while let Some(chunk) = form.part_chunk().unwrap() {
//!     content.extend_from_slice(chunk);
//! }
//! assert_eq!(content, b"hello");
//! assert!(form.next_part().unwrap().is_none());
//! ```

use std::io::{self, Read};

use memchr::memmem;
use thiserror::Error;

/// The size of the parser's one buffer. Part bodies are streamed through it, so this
/// (not the size of an upload) is what a parser holds in memory.
pub const BUFFER_BYTES: usize = 64 * 1024;

/// The largest block of part headers accepted. Browsers send two or three short lines;
/// the limit keeps a client from filling the buffer with headers.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// The longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// What was wrong with a multipart request.
#[derive(Debug, Error)]
pub enum MultipartError {
    /// The request has no Content-Type.
    #[error("the request has no Content-Type; send the form as multipart/form-data")]
    MissingContentType,
    /// The Content-Type is another media type.
    #[error(
        "Content-Type {0:?} is not multipart/form-data; \
         send the form with enctype=\"multipart/form-data\""
    )]
    NotMultipart(String),
    /// The Content-Type names no boundary.
    #[error(
        "Content-Type multipart/form-data has no boundary parameter; \
         add one, e.g. `multipart/form-data; boundary=XyZ`"
    )]
    MissingBoundary,
    /// The Content-Type parameters do not parse (an unclosed quote, a stray word).
    #[error(
        "Content-Type {0:?} has malformed parameters; \
         send `multipart/form-data; boundary=...` with `name=value` parameters"
    )]
    InvalidContentType(String),
    /// The boundary breaks RFC 2046's grammar.
    #[error(
        "the multipart boundary {0:?} is invalid: use 1 to 70 letters, digits or \
         '()+_,-./:=? characters, not ending with a space"
    )]
    InvalidBoundary(String),
    /// The body breaks the multipart grammar.
    #[error("malformed multipart body: {0}; send a well-formed multipart/form-data body")]
    Malformed(&'static str),
    /// The headers of one part are larger than [`MAX_HEADER_BYTES`].
    #[error(
        "the headers of a multipart part exceed {MAX_HEADER_BYTES} bytes; \
         send only Content-Disposition and Content-Type"
    )]
    HeadersTooLarge,
    /// The body is longer than the limit set with [`Multipart::with_body_limit`].
    #[error("the request body exceeds {limit} bytes; send a smaller file")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Reading the body failed, usually because the client went away.
    #[error("reading the request body failed: {0}")]
    Io(#[from] io::Error),
}

/// The headers of one part that matter to a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHeaders {
    /// The form field name (`name=` of Content-Disposition), lossily decoded.
    pub name: String,
    /// The client's file name (`filename=`), raw octets as sent, when present. The
    /// parser does not judge it: callers decide what is a safe name.
    pub filename: Option<Vec<u8>>,
    /// The part's Content-Type, when present.
    pub content_type: Option<String>,
}

/// Where the parser stands in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter: the preamble is skipped.
    Preamble,
    /// Just after a delimiter (`CRLF--boundary`), before `--` or the line end.
    AfterDelimiter,
    /// Inside a part's body.
    PartBody,
    /// After the close delimiter; the epilogue has been discarded.
    End,
}

/// A streaming multipart reader over `R`.
///
/// Call [`Multipart::next_part`] for each part's headers and [`Multipart::part_chunk`]
/// for its body; an unread body is skipped by the next `next_part`. Errors are final:
/// after one, stop using the parser.
pub struct Multipart<R> {
    reader: R,
    /// Fixed-size: allocated once at [`BUFFER_BYTES`], never grown.
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// `CRLF--boundary`.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    state: State,
    body_limit: u64,
    body_read: u64,
}

impl<R: Read> Multipart<R> {
    /// A parser of `reader` with parts separated by `boundary` (as given by
    /// [`boundary_from_content_type`]).
    pub fn new(reader: R, boundary: &str) -> Self {
        let mut delimiter = Vec::with_capacity(4 + boundary.len());
        delimiter.extend_from_slice(b"\r\n--");
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memmem::Finder::new(&delimiter).into_owned();
        let mut buf = vec![0; BUFFER_BYTES];
        // The first delimiter of a body has no CRLF before it (it is the first line).
        // Starting the buffer with a virtual CRLF lets one search find every delimiter,
        // the first included, and treats any preamble uniformly.
        buf[..2].copy_from_slice(b"\r\n");
        Self {
            reader,
            buf,
            start: 0,
            end: 2,
            delimiter,
            finder,
            state: State::Preamble,
            body_limit: u64::MAX,
            body_read: 0,
        }
    }

    /// Fails with [`MultipartError::TooLarge`] once more than `limit` bytes were read
    /// from the reader, for bodies whose length is not known up front.
    pub fn with_body_limit(mut self, limit: u64) -> Self {
        self.body_limit = limit;
        self
    }

    /// The capacity of the parser's buffer: [`BUFFER_BYTES`] for the parser's whole
    /// life, whatever it reads. Exposed so tests can show memory does not grow with
    /// the size of an upload.
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes read from the reader so far.
    pub fn bytes_read(&self) -> u64 {
        self.body_read
    }

    /// The headers of the next part, skipping what is left of the current one;
    /// `None` after the close delimiter (the epilogue is read and discarded).
    pub fn next_part(&mut self) -> Result<Option<PartHeaders>, MultipartError> {
        loop {
            match self.state {
                State::End => return Ok(None),
                State::Preamble | State::PartBody => while self.next_body_slice()?.is_some() {},
                State::AfterDelimiter => {
                    if self.at_close_delimiter()? {
                        self.discard_epilogue()?;
                        self.state = State::End;
                        return Ok(None);
                    }
                    let headers = self.read_part_headers()?;
                    self.state = State::PartBody;
                    return Ok(Some(headers));
                }
            }
        }
    }

    /// The next chunk of the current part's body, a slice of the parser's buffer;
    /// `None` at the end of the part (or when no part is open).
    pub fn part_chunk(&mut self) -> Result<Option<&[u8]>, MultipartError> {
        if self.state != State::PartBody {
            return Ok(None);
        }
        match self.next_body_slice()? {
            Some((from, to)) => Ok(Some(&self.buf[from..to])),
            None => Ok(None),
        }
    }

    /// Consumes the next run of body bytes (preamble or part) and returns its range
    /// in `buf`; at the delimiter, consumes it, moves to `AfterDelimiter` and returns
    /// `None`.
    fn next_body_slice(&mut self) -> Result<Option<(usize, usize)>, MultipartError> {
        loop {
            let window = &self.buf[self.start..self.end];
            if let Some(at) = self.finder.find(window) {
                if at == 0 {
                    self.start += self.delimiter.len();
                    self.state = State::AfterDelimiter;
                    return Ok(None);
                }
                let from = self.start;
                self.start += at;
                return Ok(Some((from, self.start)));
            }
            // No whole delimiter: everything but the last `len - 1` bytes is body for
            // sure; those few may be the start of a delimiter split across reads.
            let safe = window.len().saturating_sub(self.delimiter.len() - 1);
            if safe > 0 {
                let from = self.start;
                self.start += safe;
                return Ok(Some((from, self.start)));
            }
            if !self.fill()? {
                return Err(MultipartError::Malformed(
                    if self.state == State::Preamble {
                        "no boundary delimiter found; the body uses another boundary or is not multipart"
                    } else {
                        "the body ended inside a part, before its closing boundary"
                    },
                ));
            }
        }
    }

    /// After a delimiter: `--` ends the body (`true`); otherwise optional transport
    /// padding and CRLF start a part (`false`). Leaves `start` on that CRLF, which the
    /// header search counts as the line end before the first header.
    fn at_close_delimiter(&mut self) -> Result<bool, MultipartError> {
        self.ensure(2, "the body ended right after a boundary delimiter")?;
        if &self.buf[self.start..self.start + 2] == b"--" {
            self.start += 2;
            return Ok(true);
        }
        loop {
            self.ensure(1, "the body ended right after a boundary delimiter")?;
            match self.buf[self.start] {
                // Transport padding (RFC 2046 §5.1.1): whitespace before the CRLF.
                b' ' | b'\t' => self.start += 1,
                _ => break,
            }
        }
        self.ensure(2, "the body ended right after a boundary delimiter")?;
        if &self.buf[self.start..self.start + 2] != b"\r\n" {
            return Err(MultipartError::Malformed(
                "a boundary delimiter is followed by bytes other than CRLF or `--`",
            ));
        }
        Ok(false)
    }

    /// Reads the header block that starts at the CRLF under `start` and ends with an
    /// empty line, and parses it.
    fn read_part_headers(&mut self) -> Result<PartHeaders, MultipartError> {
        let end_of_block = loop {
            let window = &self.buf[self.start..self.end];
            if let Some(at) = memmem::find(window, b"\r\n\r\n") {
                break at;
            }
            if window.len() > MAX_HEADER_BYTES {
                return Err(MultipartError::HeadersTooLarge);
            }
            if !self.fill()? {
                return Err(MultipartError::Malformed(
                    "the body ended inside the headers of a part",
                ));
            }
        };
        if end_of_block > MAX_HEADER_BYTES {
            return Err(MultipartError::HeadersTooLarge);
        }
        // Skip the CRLF that ended the delimiter line; keep each header's CRLF.
        let block = &self.buf[self.start + 2..self.start + end_of_block + 2];
        let headers = parse_part_headers(block)?;
        self.start += end_of_block + 4;
        Ok(headers)
    }

    /// Reads and drops the epilogue after the close delimiter, so the whole body is
    /// consumed (within the body limit).
    fn discard_epilogue(&mut self) -> Result<(), MultipartError> {
        loop {
            self.start = self.end;
            if !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Makes at least `n` unconsumed bytes available, or fails with `Malformed(why)`
    /// at the end of the body.
    fn ensure(&mut self, n: usize, why: &'static str) -> Result<(), MultipartError> {
        while self.end - self.start < n {
            if !self.fill()? {
                return Err(MultipartError::Malformed(why));
            }
        }
        Ok(())
    }

    /// Moves the unconsumed bytes to the front and reads more after them. Returns
    /// `false` at the end of the body.
    fn fill(&mut self) -> Result<bool, MultipartError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // Callers never ask for more than a header block or a delimiter's worth of
        // unconsumed bytes, both far below the buffer size, so there is always room.
        debug_assert!(self.end < self.buf.len());
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(MultipartError::Io(e)),
            }
        };
        self.body_read += n as u64;
        if self.body_read > self.body_limit {
            return Err(MultipartError::TooLarge {
                limit: self.body_limit,
            });
        }
        self.end += n;
        Ok(n > 0)
    }
}

/// The boundary of a `multipart/form-data` Content-Type value (raw header octets).
///
/// ```
/// use gateway_demo::multipart::boundary_from_content_type;
///
/// let ct = b"multipart/form-data; boundary=\"----WebKitFormBoundary7MA4\"";
/// assert_eq!(boundary_from_content_type(Some(ct)).unwrap(), "----WebKitFormBoundary7MA4");
/// assert!(boundary_from_content_type(Some(b"text/plain")).is_err());
/// ```
pub fn boundary_from_content_type(value: Option<&[u8]>) -> Result<String, MultipartError> {
    let value = value.ok_or(MultipartError::MissingContentType)?;
    let shown = || String::from_utf8_lossy(value).into_owned();
    let (media_type, rest) = split_first_param(value);
    if !trim(media_type).eq_ignore_ascii_case(b"multipart/form-data") {
        return Err(MultipartError::NotMultipart(shown()));
    }
    let params = parse_params(rest).map_err(|_| MultipartError::InvalidContentType(shown()))?;
    let boundary = params
        .into_iter()
        .find(|(name, _)| name == "boundary")
        .map(|(_, value)| value)
        .ok_or(MultipartError::MissingBoundary)?;
    let valid = !boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY_LEN
        && boundary.last() != Some(&b' ')
        && boundary.iter().all(|&b| is_bchar(b));
    let text = String::from_utf8_lossy(&boundary).into_owned();
    if valid {
        Ok(text)
    } else {
        Err(MultipartError::InvalidBoundary(text))
    }
}

/// RFC 2046 `bchars`.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// Parses a part's header lines (each ending with CRLF); only Content-Disposition
/// and Content-Type are kept, others are ignored as RFC 7578 §4.8 asks.
fn parse_part_headers(block: &[u8]) -> Result<PartHeaders, MultipartError> {
    let mut disposition = None;
    let mut content_type = None;
    for line in block.split(|&b| b == b'\n') {
        let Some(line) = line.strip_suffix(b"\r") else {
            if line.is_empty() {
                continue; // after the last CRLF
            }
            return Err(MultipartError::Malformed(
                "a part header line does not end with CRLF",
            ));
        };
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            return Err(MultipartError::Malformed(
                "a part header is folded over several lines",
            ));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(MultipartError::Malformed("a part header line has no `:`"))?;
        let (name, value) = (trim(&line[..colon]), trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-disposition") {
            if disposition.is_some() {
                return Err(MultipartError::Malformed(
                    "a part has two Content-Disposition headers",
                ));
            }
            disposition = Some(value);
        } else if name.eq_ignore_ascii_case(b"content-type") {
            content_type = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    let disposition = disposition.ok_or(MultipartError::Malformed(
        "a part has no Content-Disposition header",
    ))?;
    let (kind, rest) = split_first_param(disposition);
    if !trim(kind).eq_ignore_ascii_case(b"form-data") {
        return Err(MultipartError::Malformed(
            "a part's Content-Disposition is not `form-data`",
        ));
    }
    let mut name = None;
    let mut filename = None;
    for (param, value) in parse_params(rest)? {
        // RFC 7578 §4.2: `filename*` must not be used by senders; it is ignored, so
        // the one name a part has is the plain `filename`.
        match param.as_str() {
            "name" => name = Some(String::from_utf8_lossy(&value).into_owned()),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    let name = name.ok_or(MultipartError::Malformed(
        "a part's Content-Disposition has no name parameter",
    ))?;
    Ok(PartHeaders {
        name,
        filename,
        content_type,
    })
}

/// Splits `type; params` at the first `;` (the media or disposition type never
/// holds one).
fn split_first_param(value: &[u8]) -> (&[u8], &[u8]) {
    match value.iter().position(|&b| b == b';') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &[]),
    }
}

/// Parses `; name=value; name="quoted value"` into lower-cased names and raw values.
///
/// In quoted strings only `\"` and `\\` are escapes: other backslashes stay, because
/// old browsers sent Windows paths (`C:\dir\a.txt`) unescaped, and a name that keeps
/// its backslash is refused later rather than silently changed.
fn parse_params(mut rest: &[u8]) -> Result<Vec<(String, Vec<u8>)>, MultipartError> {
    let mut params: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        rest = trim_start(rest);
        while let Some(after) = rest.strip_prefix(b";") {
            rest = trim_start(after);
        }
        if rest.is_empty() {
            return Ok(params);
        }
        let eq = rest
            .iter()
            .position(|&b| b == b'=')
            .ok_or(MultipartError::Malformed("a header parameter has no `=`"))?;
        let name = String::from_utf8_lossy(trim(&rest[..eq])).to_ascii_lowercase();
        rest = trim_start(&rest[eq + 1..]);
        let value;
        if let Some(quoted) = rest.strip_prefix(b"\"") {
            let mut out = Vec::new();
            let mut i = 0;
            loop {
                match quoted.get(i) {
                    None => {
                        return Err(MultipartError::Malformed(
                            "a quoted header parameter is not closed",
                        ))
                    }
                    Some(b'"') => break,
                    Some(b'\\') if matches!(quoted.get(i + 1), Some(b'"' | b'\\')) => {
                        out.push(quoted[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            value = out;
            rest = &quoted[i + 1..];
            let after = trim_start(rest);
            if !(after.is_empty() || after.starts_with(b";")) {
                return Err(MultipartError::Malformed(
                    "unexpected bytes after a quoted header parameter",
                ));
            }
        } else {
            let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
            value = trim(&rest[..end]).to_vec();
            rest = &rest[end..];
        }
        // Two values for one parameter (two `filename=`) would let a client show one
        // name to a filter and another to the app; refuse rather than pick one.
        if params.iter().any(|(n, _)| *n == name) {
            return Err(MultipartError::Malformed(
                "a header parameter appears twice",
            ));
        }
        params.push((name, value));
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    &s[n..]
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let n = s
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `step` bytes per call, to put every delimiter
    /// across read boundaries at some point.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn parts(
        body: &[u8],
        boundary: &str,
        step: usize,
    ) -> Result<Vec<(PartHeaders, Vec<u8>)>, MultipartError> {
        let mut form = Multipart::new(Trickle { data: body, step }, boundary);
        let mut out = Vec::new();
        while let Some(headers) = form.next_part()? {
            let mut content = Vec::new();
            while let Some(chunk) = form.part_chunk()? {
                content.extend_from_slice(chunk);
            }
            out.push((headers, content));
        }
        Ok(out)
    }

    const TWO_PARTS: &[u8] = b"preamble to ignore\r\n--b0\r\n\
        Content-Disposition: form-data; name=\"note\"\r\n\r\n\
        hi\r\n--b0 \t\r\n\
        content-disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\
        Content-Type: application/octet-stream\r\n\r\n\
        a\r\n--b\r\n-b0x--b0\r\n\r\n--b0--\r\nepilogue";

    #[test]
    fn parses_parts_at_every_read_size() {
        for step in [1, 2, 3, 7, 64, 4096] {
            let got = parts(TWO_PARTS, "b0", step).unwrap();
            assert_eq!(got.len(), 2, "step {step}");
            assert_eq!(got[0].0.name, "note");
            assert_eq!(got[0].1, b"hi");
            assert_eq!(got[1].0.filename.as_deref(), Some(&b"x.bin"[..]));
            assert_eq!(
                got[1].0.content_type.as_deref(),
                Some("application/octet-stream")
            );
            assert_eq!(got[1].1, b"a\r\n--b\r\n-b0x--b0\r\n", "step {step}");
        }
    }

    #[test]
    fn a_part_without_headers_is_malformed_for_lack_of_disposition() {
        let err = parts(b"--b\r\n\r\nx\r\n--b--", "b", 5).unwrap_err();
        assert!(matches!(err, MultipartError::Malformed(m) if m.contains("Content-Disposition")));
    }

    #[test]
    fn truncated_bodies_are_malformed() {
        for body in [
            &b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc"[..],
            b"--b\r\nContent-Disposition: form-data; name=\"a\"",
            b"--b",
            b"no delimiter at all",
            b"--bX\r\n",
        ] {
            assert!(
                matches!(parts(body, "b", 3), Err(MultipartError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn boundary_parsing() {
        let ok = |v: &str| boundary_from_content_type(Some(v.as_bytes()));
        assert_eq!(ok("multipart/form-data; boundary=abc").unwrap(), "abc");
        assert_eq!(
            ok("Multipart/Form-Data;charset=utf-8; Boundary=\"a b\"").unwrap(),
            "a b"
        );
        assert!(matches!(
            boundary_from_content_type(None),
            Err(MultipartError::MissingContentType)
        ));
        assert!(matches!(
            ok("application/json"),
            Err(MultipartError::NotMultipart(_))
        ));
        assert!(matches!(
            ok("multipart/form-data"),
            Err(MultipartError::MissingBoundary)
        ));
        assert!(matches!(
            ok("multipart/form-data; boundary="),
            Err(MultipartError::InvalidBoundary(_))
        ));
        assert!(matches!(
            ok("multipart/form-data; boundary=a;b"),
            Err(MultipartError::InvalidContentType(_))
        ));
        let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
        assert!(matches!(ok(&long), Err(MultipartError::InvalidBoundary(_))));
    }

    #[test]
    fn quoted_parameters_keep_plain_backslashes() {
        let params = parse_params(br#"; name="f"; filename="..\x \"q\" \\""#).unwrap();
        assert_eq!(
            params[1],
            ("filename".to_owned(), br#"..\x "q" \"#.to_vec())
        );
        assert!(parse_params(b"; name=\"open").is_err());
        assert!(parse_params(b"; name=a; name=b").is_err());
    }

    #[test]
    fn body_limit_applies_while_reading() {
        let mut form = Multipart::new(TWO_PARTS, "b0").with_body_limit(10);
        assert!(matches!(
            form.next_part(),
            Err(MultipartError::TooLarge { limit: 10 })
        ));
    }
}
