//! The response status line and field lines in HTTP/1.1 syntax (RFC 9112 §4, §5), as
//! a pure function over a head `check_head` accepted. Framing headers are the writer's.

use gateway_spec::ResponseHead;
use http::Version;

/// Headers the server adds when the app set none of that name (FRAME-14, FRAME-15).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultHeaders<'a> {
    /// The `Date` value, an IMF-fixdate.
    pub date: Option<&'a [u8]>,
    /// The `Server` value; `None` when the operator turned it off.
    pub server: Option<&'a [u8]>,
}

/// Appends the status line and the field lines of `head`, then the defaults the app
/// did not set, but not the final empty line.
///
/// The head must have passed `gateway_spec::start_response::check_head`: its reason
/// phrase is then at most U+00FF per character, one octet each, and `http`'s types
/// keep CR, LF and NUL out of names and values, so no part can end a line early.
///
/// ```
/// use gateway_spec::ResponseHead;
/// use http::{HeaderMap, StatusCode, Version};
/// use reference_server::http1::{encode_response_head, DefaultHeaders};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", "text/plain".parse().unwrap());
/// let mut out = Vec::new();
/// let defaults = DefaultHeaders { date: None, server: Some(b"demo") };
/// encode_response_head(&mut out, Version::HTTP_11, &ResponseHead::new(StatusCode::OK, headers), defaults);
/// assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nserver: demo\r\n");
/// ```
pub fn encode_response_head(
    out: &mut Vec<u8>,
    version: Version,
    head: &ResponseHead,
    defaults: DefaultHeaders<'_>,
) {
    out.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(head.status.as_str().as_bytes());
    out.push(b' ');
    for c in head.reason_phrase().chars() {
        out.push(u8::try_from(u32::from(c)).unwrap_or(b'?'));
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in &head.headers {
        append_field(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some(date) = defaults
        .date
        .filter(|_| !head.headers.contains_key(http::header::DATE))
    {
        append_field(out, b"date", date);
    }
    if let Some(server) = defaults
        .server
        .filter(|_| !head.headers.contains_key(http::header::SERVER))
    {
        append_field(out, b"server", server);
    }
}

fn append_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}
