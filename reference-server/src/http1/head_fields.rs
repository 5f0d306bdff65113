//! The meaning of the fields that decide how a request is framed and handled: Host, Content-Length,
//! Transfer-Encoding, Connection, Expect (RFC 9110, RFC 9112 §6). It does not tokenize lines; httparse did that.
//!
//! Every rule here rejects rather than repairs: a value a proxy in front could
//! read differently (two lengths, an unknown coding before `chunked`, a `+5`)
//! is how request smuggling starts.

use http::Version;

use super::head_error::HeadError;
use super::request_head::{spans_for, BodyFraming, FieldSpan};

/// What the fields say, once checked.
pub(crate) struct Fields {
    pub(crate) spans: Vec<FieldSpan>,
    pub(crate) framing: BodyFraming,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
}

/// The fields whose meaning the server acts on.
enum Known {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    Expect,
    Other,
}

/// Recognizes a field name by its length first, so that most names cost one
/// comparison of lengths and none of bytes.
fn known(name: &[u8]) -> Known {
    let is = |known: &[u8]| name.eq_ignore_ascii_case(known);
    match name.len() {
        4 if is(b"host") => Known::Host,
        14 if is(b"content-length") => Known::ContentLength,
        17 if is(b"transfer-encoding") => Known::TransferEncoding,
        10 if is(b"connection") => Known::Connection,
        6 if is(b"expect") => Known::Expect,
        _ => Known::Other,
    }
}

/// Applies the semantic rules in one pass over the fields, and records where each
/// lies in the buffer that starts at address `base` (no field is copied).
pub(crate) fn interpret_fields(
    fields: &[httparse::Header<'_>],
    base: usize,
    version: Version,
) -> Result<Fields, HeadError> {
    let mut spans = spans_for(fields.len());
    let mut hosts = 0usize;
    let mut host: &[u8] = b"";
    let mut content_length: Option<u64> = None;
    let mut codings = Codings::default();
    let mut connection = ConnectionOptions::default();
    let mut expectation = Expectation::None;

    for field in fields {
        match known(field.name.as_bytes()) {
            Known::Host => {
                hosts += 1;
                host = field.value;
            }
            Known::ContentLength => {
                let length = parse_content_length(field.value)?;
                if content_length.is_some_and(|seen| seen != length) {
                    return Err(HeadError::ConflictingContentLength);
                }
                content_length = Some(length);
            }
            Known::TransferEncoding => codings.add(field.value)?,
            Known::Connection => connection.add(field.value),
            Known::Expect => expectation = expectation.add(field.value),
            Known::Other => {}
        }
        spans.push(FieldSpan::of(base, field.name.as_bytes(), field.value));
    }

    match hosts {
        0 if version == Version::HTTP_11 => return Err(HeadError::MissingHost),
        0 => {}
        1 if is_valid_host(host) => {}
        1 => return Err(HeadError::InvalidHost),
        _ => return Err(HeadError::DuplicateHost),
    }

    let framing = if codings.present {
        if version == Version::HTTP_10 {
            // RFC 9112 §6.1: an HTTP/1.0 peer cannot be trusted to have framed it.
            return Err(HeadError::TransferEncodingInHttp10);
        }
        if content_length.is_some() {
            // RFC 9112 §6.3 allows letting TE win; refusing is safer than guessing
            // which of the two a front proxy used.
            return Err(HeadError::TransferEncodingWithContentLength);
        }
        codings.finish()?
    } else {
        content_length.map_or(BodyFraming::None, BodyFraming::Length)
    };

    let expect_continue = match expectation {
        Expectation::None => false,
        Expectation::Unsupported => return Err(HeadError::UnsupportedExpectation),
        // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client MUST be ignored.
        Expectation::Continue => version == Version::HTTP_11,
    };
    let keep_alive = if version == Version::HTTP_11 {
        !connection.close
    } else {
        connection.keep_alive && !connection.close
    };

    Ok(Fields {
        spans,
        framing,
        keep_alive,
        expect_continue,
    })
}

/// A 256-entry membership table for a byte class: one load per byte tested.
const fn byte_class(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

static TCHAR: [bool; 256] = byte_class(b"!#$%&'*+-.^_`|~");
static REG_NAME: [bool; 256] = byte_class(b"-._~!$&'()*+,;=%");

/// RFC 9110 tchar.
pub(crate) fn is_token(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Splits a field value into list elements with optional whitespace trimmed (RFC 9110 §5.6.1).
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows)
}

fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Digits only, by hand: `str::parse` accepts `+5`, which let a proxy and a
/// server disagree on the length (CVE-2021-32715). A list of equal values is
/// one value (RFC 9110 §8.6); unequal values or empty elements are refused.
fn parse_content_length(value: &[u8]) -> Result<u64, HeadError> {
    let mut length = None;
    for element in list_elements(value) {
        if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
            return Err(HeadError::InvalidContentLength);
        }
        let parsed = element.iter().try_fold(0u64, |acc, &digit| {
            acc.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        });
        let parsed = parsed.ok_or(HeadError::ContentLengthTooLarge)?;
        if length.is_some_and(|seen| seen != parsed) {
            return Err(HeadError::ConflictingContentLength);
        }
        length = Some(parsed);
    }
    length.ok_or(HeadError::InvalidContentLength)
}

/// The Transfer-Encoding codings seen so far, across every TE field in order.
#[derive(Default)]
struct Codings {
    present: bool,
    chunked: usize,
    last_is_chunked: bool,
    other: bool,
}

impl Codings {
    fn add(&mut self, value: &[u8]) -> Result<(), HeadError> {
        self.present = true;
        for element in list_elements(value) {
            // Parameters (`gzip;q=1`) are legal syntax for other codings, never for chunked.
            let (name, parameters) = match element.iter().position(|&b| b == b';') {
                Some(i) => (trim_ows(&element[..i]), Some(&element[i + 1..])),
                None => (element, None),
            };
            // Empty elements are refused, not skipped as RFC 9110 §5.6.1 allows:
            // `chunked,` is exactly the kind of value proxies disagree on.
            if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
                return Err(HeadError::InvalidTransferEncoding);
            }
            if name.eq_ignore_ascii_case(b"chunked") {
                if parameters.is_some() {
                    return Err(HeadError::InvalidTransferEncoding);
                }
                self.chunked += 1;
                self.last_is_chunked = true;
            } else {
                self.other = true;
                self.last_is_chunked = false;
            }
        }
        Ok(())
    }

    /// RFC 9112 §6.3: chunked not final means the length is unknowable (400);
    /// §6.1: a coding the server does not understand is 501.
    fn finish(self) -> Result<BodyFraming, HeadError> {
        if self.chunked != 1 || !self.last_is_chunked {
            return Err(HeadError::ChunkedNotFinal);
        }
        if self.other {
            return Err(HeadError::UnsupportedTransferCoding);
        }
        Ok(BodyFraming::Chunked)
    }
}

/// The Connection options this server acts on; others (e.g. `upgrade`) are ignored.
#[derive(Default)]
struct ConnectionOptions {
    close: bool,
    keep_alive: bool,
}

impl ConnectionOptions {
    fn add(&mut self, value: &[u8]) {
        for option in list_elements(value) {
            self.close |= option.eq_ignore_ascii_case(b"close");
            self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
        }
    }
}

/// The expectations across every Expect field.
#[derive(Clone, Copy)]
enum Expectation {
    None,
    Continue,
    Unsupported,
}

impl Expectation {
    /// RFC 9110 §10.1.1: any expectation but 100-continue may be answered with 417.
    fn add(self, value: &[u8]) -> Self {
        let all_continue = list_elements(value).all(|e| e.eq_ignore_ascii_case(b"100-continue"));
        match self {
            Self::None | Self::Continue if all_continue => Self::Continue,
            _ => Self::Unsupported,
        }
    }
}

/// `uri-host [ ":" port ]` (RFC 9110 §7.2), checked by character class: enough to
/// refuse whitespace, paths, userinfo and smuggled bytes without a full URI parser.
/// An empty value is valid: RFC 9112 §3.2 makes clients send it when there is no authority.
fn is_valid_host(value: &[u8]) -> bool {
    let (host, port) = if let Some(rest) = value.strip_prefix(b"[") {
        // IP-literal: hex digits, dots and colons (IPv6), or IPvFuture's unreserved/sub-delims.
        let Some(close) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        let literal = &rest[..close];
        if literal.is_empty() || !literal.iter().all(|&b| is_reg_name_byte(b) || b == b':') {
            return false;
        }
        match &rest[close + 1..] {
            [] => return true,
            [b':', port @ ..] => (&b""[..], port),
            _ => return false,
        }
    } else {
        match value.iter().position(|&b| b == b':') {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, &b""[..]),
        }
    };
    host.iter().all(|&b| is_reg_name_byte(b)) && port.iter().all(u8::is_ascii_digit)
}

/// unreserved / sub-delims / "%" (pct-encoded) from RFC 3986 reg-name.
fn is_reg_name_byte(b: u8) -> bool {
    REG_NAME[usize::from(b)]
}
