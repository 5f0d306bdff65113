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
    // Whether the app set Date or Server is seen on the way (two lookups fewer).
    let (mut has_date, mut has_server) = (false, false);
    for (name, value) in &head.headers {
        has_date |= name == http::header::DATE;
        has_server |= name == http::header::SERVER;
        append_field(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some(date) = defaults.date.filter(|_| !has_date) {
        append_field(out, b"date", date);
    }
    if let Some(server) = defaults.server.filter(|_| !has_server) {
        append_field(out, b"server", server);
    }
}

fn append_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn encoded(headers: HeaderMap) -> String {
        let mut out = Vec::new();
        let defaults = DefaultHeaders {
            date: Some(b"Thu, 03 Dec 2026 18:00:00 GMT"),
            server: Some(b"ours"),
        };
        let head = ResponseHead::new(StatusCode::OK, headers);
        encode_response_head(&mut out, Version::HTTP_11, &head, defaults);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_defaults_fill_in_only_what_the_app_did_not_set() {
        assert_eq!(
            encoded(HeaderMap::new()),
            "HTTP/1.1 200 OK\r\ndate: Thu, 03 Dec 2026 18:00:00 GMT\r\nserver: ours\r\n"
        );
        let mut own = HeaderMap::new();
        own.insert("server", "theirs".parse().unwrap());
        own.insert("date", "Mon, 01 Jan 2024 00:00:00 GMT".parse().unwrap());
        let text = encoded(own);
        assert_eq!(text.matches("date: ").count(), 1, "{text}");
        assert_eq!(text.matches("server: ").count(), 1, "{text}");
        assert!(
            text.contains("server: theirs\r\n") && text.contains("2024"),
            "{text}"
        );
        let mut only_date = HeaderMap::new();
        only_date.insert("date", "Mon, 01 Jan 2024 00:00:00 GMT".parse().unwrap());
        let text = encoded(only_date);
        assert!(text.contains("2024") && !text.contains("2026"), "{text}");
        assert!(text.contains("server: ours\r\n"), "{text}");
    }
}
