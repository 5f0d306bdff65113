//! Strict parsing of an HTTP/1.1 request head (RFC 9112 §2–3): request line, field lines, body framing.
//! A pure function over the bytes received so far: it reads no socket, keeps no state and decodes no body.
//!
//! `httparse` does the tokenizing. This wrapper adds what it leaves out: CRLF-only
//! line endings (httparse accepts a bare LF), limits decided even while the head
//! is incomplete, the 505-versus-400 split for versions, the request-target's
//! URI grammar (httparse lets through any visible octet, `"` and `{` included) and
//! forms, and the field semantics that decide framing (see `head_fields`).
//!
//! Errors are found left to right: if a prefix of the bytes is refused, the whole
//! head is refused with the same error, so a caller may parse after every read.

use std::cell::Cell;
use std::mem::MaybeUninit;

use bytes::Bytes;
use gateway_spec::target::{check_syntax, TargetError};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};
use memchr::{memchr, memchr_iter};

use super::head_error::HeadError;
use super::head_fields::{interpret_fields, is_token};

/// Size limits for a request head. Exceeding one is an error, decided as soon as
/// the bytes received show it, even before the head is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request line, in bytes, without its CRLF (exceeded: 414).
    pub max_request_line: usize,
    /// Most field lines (exceeded: 431).
    pub max_headers: usize,
    /// Largest head, in bytes: request line, field lines and the empty line, from the
    /// first byte (empty lines ignored before the request line count too) to the
    /// empty line's CRLF included (exceeded: 431). SPEC.md §11.4 counts it the same way.
    pub max_head_bytes: usize,
}

impl Default for HeadLimits {
    /// 8 KiB request line, 100 fields, 64 KiB head: the values most servers converge on.
    fn default() -> Self {
        Self {
            max_request_line: 8192,
            max_headers: 100,
            max_head_bytes: 65536,
        }
    }
}

/// The outcome of parsing the bytes received so far.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A whole head; the body (if any) and the next request start at `buf[len..]`.
    Complete {
        /// The parsed head.
        head: RequestHead,
        /// Bytes of `buf` the head took, leading empty lines and final CRLF included.
        len: usize,
    },
    /// The head is not complete yet and nothing seen so far is wrong: read more.
    Partial,
}

/// A validated request head.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// Where the request-target lies in the parsed buffer (see
    /// [`RequestHead::target`]).
    target: (u32, u32),
    /// [`Version::HTTP_10`] or [`Version::HTTP_11`].
    pub version: Version,
    /// Where every field line lies in the parsed buffer, in the order received:
    /// the parser checks fields but copies none (see [`RequestHead::fields`]).
    pub spans: Vec<FieldSpan>,
    /// How the request body is delimited.
    pub framing: BodyFraming,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// Whether the client waits for `100 Continue` before sending the body (HTTP/1.1 only).
    pub expect_continue: bool,
}

/// How a request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No Content-Length and no Transfer-Encoding: the request has no body.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// A chunked body follows the head; decode it with [`super::ChunkedDecoder`].
    Chunked,
}

/// RFC 9112 §2.2 asks servers to ignore "at least one" empty line before the
/// request line (clients sometimes send a CRLF after a POST body); a few are
/// plenty, and more is a client sending junk.
const MAX_LEADING_EMPTY_LINES: usize = 4;

/// Header slots kept on the stack; larger `max_headers` fall back to the heap.
const INLINE_HEADER_SLOTS: usize = 128;

/// Where one field line's name and value lie in the buffer a head was parsed from
/// (byte offsets, ends excluded; the value without surrounding whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    name: (u32, u32),
    value: (u32, u32),
}

impl FieldSpan {
    /// The span of `name` and `value`, slices of the buffer starting at `base`.
    pub(crate) fn of(base: usize, name: &[u8], value: &[u8]) -> Self {
        Self {
            name: Self::range(base, name),
            value: Self::range(base, value),
        }
    }

    /// Where `part`, a slice of the buffer starting at address `base`, lies in it
    /// (offsets from addresses, without unsafe code).
    pub(crate) fn range(base: usize, part: &[u8]) -> (u32, u32) {
        let start = (part.as_ptr() as usize - base) as u32;
        (start, start + part.len() as u32)
    }

    fn slice(range: (u32, u32), buf: &[u8]) -> &[u8] {
        buf.get(range.0 as usize..range.1 as usize)
            .unwrap_or_default()
    }
}

impl RequestHead {
    /// The request-target exactly as sent (origin-, absolute- or asterisk-form),
    /// visible ASCII only, read from `buf`: the buffer this head was parsed from
    /// (or a copy of its first bytes).
    pub fn target<'b>(&self, buf: &'b [u8]) -> &'b str {
        std::str::from_utf8(FieldSpan::slice(self.target, buf)).unwrap_or_default()
    }

    /// Each field line as `(name, value)`, in the order received, read from `buf`:
    /// the buffer this head was parsed from (or a copy of its first bytes).
    ///
    /// ```
    /// use reference_server::http1::{parse_request_head, HeadLimits, Parsed};
    ///
    /// let buf = b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Id:  7 \r\n\r\n";
    /// let Parsed::Complete { head, .. } = parse_request_head(buf, &HeadLimits::default())? else {
    ///     panic!("the head is complete");
    /// };
    /// let fields: Vec<_> = head.fields(buf).collect();
    /// assert_eq!(fields, [(&b"Host"[..], &b"example.com"[..]), (b"X-Id", b"7")]);
    /// # Ok::<(), reference_server::http1::HeadError>(())
    /// ```
    pub fn fields<'b>(&'b self, buf: &'b [u8]) -> impl Iterator<Item = (&'b [u8], &'b [u8])> + 'b {
        self.spans.iter().map(move |span| {
            (
                FieldSpan::slice(span.name, buf),
                FieldSpan::slice(span.value, buf),
            )
        })
    }

    /// Gives the space of the field spans back, for the next head this thread
    /// parses; the head has no fields after it. Called once the fields became a
    /// header map, it saves an allocation per request.
    pub(crate) fn recycle_spans(&mut self) {
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        SPARE_SPANS.set(spans);
    }

    /// The fields as a header map (names lower-cased), whose values share `buf`
    /// (the buffer this head was parsed from, or a copy of its first bytes)
    /// instead of copying each one.
    pub fn header_map(&self, buf: &Bytes) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.spans.len());
        for span in &self.spans {
            let name = HeaderName::from_bytes(FieldSpan::slice(span.name, buf));
            let (start, end) = (span.value.0 as usize, span.value.1 as usize);
            let value =
                HeaderValue::from_maybe_shared(buf.slice(start.min(end)..end.min(buf.len())));
            // The parser admitted only tokens and visible bytes, which both accept.
            if let (Ok(name), Ok(value)) = (name, value) {
                map.append(name, value);
            }
        }
        map
    }
}

thread_local! {
    /// A field-span vector given back by [`RequestHead::recycle_spans`].
    static SPARE_SPANS: Cell<Vec<FieldSpan>> = const { Cell::new(Vec::new()) };
}

/// An empty vector for `n` field spans, the thread's spare one when it has one.
pub(crate) fn spans_for(n: usize) -> Vec<FieldSpan> {
    let mut spans = SPARE_SPANS.take();
    spans.reserve(n);
    spans
}

/// Parses the request head at the start of `buf`.
///
/// Returns [`Parsed::Partial`] while the head is incomplete and valid so far,
/// so the caller can append what it reads next and call again with the whole buffer.
///
/// ```
/// use reference_server::http1::{parse_request_head, BodyFraming, HeadLimits, Parsed};
///
/// let buf = b"POST /submit HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello";
/// let Parsed::Complete { head, len } = parse_request_head(buf, &HeadLimits::default())? else {
///     panic!("the head is complete");
/// };
/// assert_eq!(head.target(buf), "/submit");
/// assert_eq!(head.framing, BodyFraming::Length(5));
/// assert_eq!(&buf[len..], b"hello");
/// # Ok::<(), reference_server::http1::HeadError>(())
/// ```
pub fn parse_request_head(buf: &[u8], limits: &HeadLimits) -> Result<Parsed, HeadError> {
    match parse_whole_valid_head(buf, limits) {
        Some(parsed) => Ok(parsed),
        None => parse_by_scan(buf, limits),
    }
}

/// The common case, a whole valid head already in `buf`, without the line-by-line
/// scan of `find_head`: httparse finds the end, then each line it saw is checked
/// to end in CRLF (httparse also ends lines at a bare LF). Returns `None` for
/// anything else (incomplete, over a limit, a bare LF, any error), so that the
/// scan decides and names the error exactly as before: this path only accepts
/// what the scan accepts, with the same result.
pub(crate) fn parse_whole_valid_head(buf: &[u8], limits: &HeadLimits) -> Option<Parsed> {
    if limits.max_headers > INLINE_HEADER_SLOTS {
        return None;
    }
    let view = &buf[..buf.len().min(limits.max_head_bytes)];
    let start = skip_leading_empty_lines(view).ok()??;
    let mut slots = [MaybeUninit::<httparse::Header<'_>>::uninit(); INLINE_HEADER_SLOTS];
    let mut no_fields: [httparse::Header<'_>; 0] = [];
    let mut request = httparse::Request::new(&mut no_fields);
    let len =
        match request.parse_with_uninit_headers(&view[start..], &mut slots[..limits.max_headers]) {
            Ok(httparse::Status::Complete(len)) => len,
            _ => return None,
        };
    let (base, end) = (buf.as_ptr() as usize, start + len);
    let crlf_before = |at: usize| at >= start + 2 && buf[at - 2] == b'\r' && buf[at - 1] == b'\n';
    let name_at = |field: &httparse::Header<'_>| field.name.as_ptr() as usize - base;
    // Where the request line ends: at the first field, or at the final CRLF.
    let line_end = request.headers.first().map_or(end - 2, name_at);
    let crlf_everywhere = crlf_before(line_end)
        && crlf_before(end - 2)
        && crlf_before(end)
        && request
            .headers
            .iter()
            .skip(1)
            .all(|field| crlf_before(name_at(field)));
    // The request line's LF within max_request_line + CRLF bytes, as the scan counts.
    if !crlf_everywhere || line_end - start > limits.max_request_line + 2 {
        return None;
    }
    let head = build_head(&request, base).ok()?;
    Some(Parsed::Complete { head, len: end })
}

/// The general path: scan line by line (limits and line endings are decided even
/// while the head is incomplete), then tokenize a complete head.
pub(crate) fn parse_by_scan(buf: &[u8], limits: &HeadLimits) -> Result<Parsed, HeadError> {
    match find_head(buf, limits)? {
        Scan::Partial => Ok(Parsed::Partial),
        Scan::Complete(bounds) => {
            let base = buf.as_ptr() as usize;
            let head = parse_complete_head(&buf[bounds.start..bounds.end], base, bounds, limits)?;
            Ok(Parsed::Complete {
                head,
                len: bounds.end,
            })
        }
    }
}

/// Where a complete head lies in the buffer.
#[derive(Debug, Clone, Copy)]
struct HeadBounds {
    /// First byte of the request line (after leading empty lines).
    start: usize,
    /// One past the request line's LF.
    line_end: usize,
    /// One past the empty line's LF.
    end: usize,
}

enum Scan {
    Complete(HeadBounds),
    Partial,
}

/// Finds the end of the head and enforces every limit and the CRLF rule, in one
/// memchr pass, before `httparse` runs: a request that is over a limit or uses
/// bare LFs is refused without tokenizing it, even while still incomplete.
fn find_head(buf: &[u8], limits: &HeadLimits) -> Result<Scan, HeadError> {
    // Only the first max_head_bytes matter: the head must end within them.
    let view = &buf[..buf.len().min(limits.max_head_bytes)];
    match scan_view(view, limits)? {
        Scan::Partial if buf.len() >= limits.max_head_bytes => Err(HeadError::HeadTooLarge {
            limit: limits.max_head_bytes,
        }),
        scan => Ok(scan),
    }
}

fn scan_view(view: &[u8], limits: &HeadLimits) -> Result<Scan, HeadError> {
    let Some(start) = skip_leading_empty_lines(view)? else {
        return Ok(Scan::Partial);
    };

    // The request line's LF must come within max_request_line + CRLF bytes.
    let line_limit_end = start
        .saturating_add(limits.max_request_line)
        .saturating_add(2);
    let line_window = &view[start..view.len().min(line_limit_end)];
    let Some(lf) = memchr(b'\n', line_window).map(|i| start + i) else {
        if view.len() >= line_limit_end {
            return Err(HeadError::RequestLineTooLong {
                limit: limits.max_request_line,
            });
        }
        return Ok(Scan::Partial);
    };
    if lf == start || view[lf - 1] != b'\r' {
        return Err(HeadError::BareLineEnding);
    }
    let line_end = lf + 1;
    let request_line = &view[start..line_end];

    let mut line_start = line_end;
    let mut fields = 0usize;
    for lf in memchr_iter(b'\n', &view[line_end..]).map(|i| line_end + i) {
        if lf == line_start || view[lf - 1] != b'\r' {
            check_request_line(request_line)?;
            return Err(HeadError::BareLineEnding);
        }
        if lf - 1 == line_start {
            return Ok(Scan::Complete(HeadBounds {
                start,
                line_end,
                end: lf + 1,
            }));
        }
        fields += 1;
        if fields > limits.max_headers {
            check_request_line(request_line)?;
            return Err(HeadError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        line_start = lf + 1;
    }
    // Reject a bad request line now rather than after the client sends 64 KiB.
    check_request_line(request_line)?;
    Ok(Scan::Partial)
}

/// Returns the offset of the request line, or `None` if `buf` ends among empty lines.
fn skip_leading_empty_lines(buf: &[u8]) -> Result<Option<usize>, HeadError> {
    let mut pos = 0;
    for _ in 0..MAX_LEADING_EMPTY_LINES {
        match buf.get(pos) {
            None => return Ok(None),
            Some(b'\r') => match buf.get(pos + 1) {
                None => return Ok(None),
                Some(b'\n') => pos += 2,
                Some(_) => return Err(HeadError::BareLineEnding),
            },
            Some(b'\n') => return Err(HeadError::BareLineEnding),
            Some(_) => return Ok(Some(pos)),
        }
    }
    match buf.get(pos) {
        None => Ok(None),
        Some(b'\r' | b'\n') => Err(HeadError::TooManyEmptyLines),
        Some(_) => Ok(Some(pos)),
    }
}

/// Tokenizes just the request line (CRLF included) and checks its parts, so its
/// errors can be reported before the rest of the head has arrived.
fn check_request_line(line: &[u8]) -> Result<(), HeadError> {
    let mut no_fields: [httparse::Header<'_>; 0] = [];
    let mut request = httparse::Request::new(&mut no_fields);
    match request.parse(line) {
        // With zero field slots and no more bytes, a good line stops at Partial.
        Ok(_) => match (request.method, request.path, request.version) {
            (Some(method), Some(target), Some(minor)) => {
                check_line_parts(method, target, minor).map(|_| ())
            }
            _ => Ok(()),
        },
        Err(_) => Err(request_line_error(line)),
    }
}

/// Checks the parts of a request line httparse tokenized: the method, the
/// version, and the target's grammar (not yet its form, which depends on the
/// method). `check_request_line` and `build_head` both call it, so a request line
/// gets the same verdict whether or not the rest of the head has arrived.
fn check_line_parts(method: &str, target: &str, minor: u8) -> Result<(Method, Version), HeadError> {
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| HeadError::InvalidMethod)?;
    let version = match minor {
        0 => Version::HTTP_10,
        1 => Version::HTTP_11,
        _ => return Err(HeadError::UnsupportedVersion),
    };
    check_target_syntax(target)?;
    Ok((method, version))
}

/// REQ-11, REQ-40 and REQ-41 by the very function `Target::parse` uses, so the
/// parser never admits a target the environ would refuse (httparse lets UTF-8
/// and every visible octet through).
fn check_target_syntax(target: &str) -> Result<(), HeadError> {
    check_syntax(target).map_err(|error| match error {
        TargetError::UserInfo => HeadError::UserInfoInTarget,
        _ => HeadError::InvalidTarget,
    })
}

/// Names what is wrong with a request line httparse refused. Runs only on the
/// error path, so it can afford to re-split the line.
fn request_line_error(line: &[u8]) -> HeadError {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return HeadError::InvalidMethod;
    }
    match parts.next() {
        Some(target) if !target.is_empty() && target.iter().all(|&b| is_visible_ascii(b)) => {}
        _ => return HeadError::InvalidTarget,
    }
    match parts.next() {
        Some(b"HTTP/1.0" | b"HTTP/1.1") => HeadError::MalformedRequestLine,
        Some([b'H', b'T', b'T', b'P', b'/', major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            HeadError::UnsupportedVersion
        }
        _ => HeadError::MalformedVersion,
    }
}

fn is_visible_ascii(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// Tokenizes a head already known to end in CRLFCRLF with CRLF-only lines and
/// at most `max_headers` fields, then applies the semantic rules.
fn parse_complete_head(
    head: &[u8],
    base: usize,
    bounds: HeadBounds,
    limits: &HeadLimits,
) -> Result<RequestHead, HeadError> {
    // Uninitialized slots: httparse fills only what it uses, so a large limit costs nothing.
    let mut inline = [MaybeUninit::<httparse::Header<'_>>::uninit(); INLINE_HEADER_SLOTS];
    let mut heap = Vec::new();
    let slots = if limits.max_headers <= INLINE_HEADER_SLOTS {
        &mut inline[..limits.max_headers]
    } else {
        heap.resize(limits.max_headers, MaybeUninit::uninit());
        &mut heap[..]
    };
    let mut no_fields: [httparse::Header<'_>; 0] = [];
    let mut request = httparse::Request::new(&mut no_fields);
    let request_line = &head[..bounds.line_end - bounds.start];
    match request.parse_with_uninit_headers(head, slots) {
        Ok(httparse::Status::Complete(_)) => {}
        // Unreachable after find_head's scan; refuse rather than panic if it ever happens.
        Ok(httparse::Status::Partial) => return Err(HeadError::MalformedRequestLine),
        Err(error) => {
            return Err(tokenizer_error(
                error,
                head,
                request_line,
                limits.max_headers,
            ))
        }
    }
    build_head(&request, base)
}

/// Checks what httparse tokenized (method, version, target form, fields) and
/// makes the head.
fn build_head(request: &httparse::Request<'_, '_>, base: usize) -> Result<RequestHead, HeadError> {
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(HeadError::MalformedRequestLine);
    };

    let (method, version) = check_line_parts(method, target, minor)?;
    check_target_form(&method, target)?;

    let fields = interpret_fields(request.headers, base, version)?;
    Ok(RequestHead {
        method,
        target: FieldSpan::range(base, target.as_bytes()),
        version,
        spans: fields.spans,
        framing: fields.framing,
        keep_alive: fields.keep_alive,
        expect_continue: fields.expect_continue,
    })
}

/// Maps an httparse error on a whole head to the variant that says what was wrong.
fn tokenizer_error(
    error: httparse::Error,
    head: &[u8],
    request_line: &[u8],
    max_headers: usize,
) -> HeadError {
    check_request_line(request_line).err().unwrap_or_else(|| {
        let fields = &head[request_line.len()..];
        let bare_cr = memchr_iter(b'\r', fields).any(|i| fields.get(i + 1) != Some(&b'\n'));
        match error {
            _ if bare_cr => HeadError::BareLineEnding,
            httparse::Error::HeaderName if starts_a_line_with_whitespace(fields) => {
                HeadError::ObsoleteLineFolding
            }
            httparse::Error::HeaderName => HeadError::InvalidFieldName,
            httparse::Error::TooManyHeaders => HeadError::TooManyHeaders { limit: max_headers },
            _ => HeadError::InvalidFieldValue,
        }
    })
}

fn starts_a_line_with_whitespace(fields: &[u8]) -> bool {
    matches!(fields.first(), Some(b' ' | b'\t'))
        || memchr_iter(b'\n', fields).any(|i| matches!(fields.get(i + 1), Some(b' ' | b'\t')))
}

/// RFC 9112 §3.2: origin-form for everything, absolute-form as proxies send it,
/// asterisk-form for OPTIONS only; authority-form belongs to CONNECT, which is not supported.
fn check_target_form(method: &Method, target: &str) -> Result<(), HeadError> {
    if method == Method::CONNECT {
        return Err(HeadError::ConnectNotSupported);
    }
    if target.starts_with('/') || is_http_absolute_form(target) {
        return Ok(());
    }
    if target == "*" {
        return if method == Method::OPTIONS {
            Ok(())
        } else {
            Err(HeadError::AsteriskFormNotAllowed)
        };
    }
    Err(HeadError::InvalidTarget)
}

/// Only `http://` and `https://` targets: a gateway serves nothing else, and
/// refusing other schemes keeps `PATH_INFO` derivation simple.
fn is_http_absolute_form(target: &str) -> bool {
    let Some((scheme, rest)) = target.split_once("://") else {
        return false;
    };
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && !rest.is_empty()
        && !rest.starts_with('/')
}
