//! How a response body is delimited on the wire (FRAME rules): one pure decision from
//! the request, the status, the app's headers and the body's known length.

use std::cell::RefCell;

use bytes::BytesMut;
use http::{HeaderValue, Method, StatusCode, Version};

use crate::start_response::{ResponseHead, StartResponseError};

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body bytes go on the wire: HEAD, 1xx, 204 and 304 (FRAME-10, FRAME-12).
    NoBody,
    /// Exactly this many bytes, announced by Content-Length (FRAME-3).
    Length(u64),
    /// Chunked transfer coding, for a body of unknown length on HTTP/1.1 (FRAME-7).
    Chunked,
    /// The body ends when the connection closes (HTTP/1.0, unknown length).
    CloseDelimited,
}

impl Framing {
    /// Whether the connection must close after this response whatever the client
    /// asked for.
    pub fn ends_connection(self) -> bool {
        self == Framing::CloseDelimited
    }
}

/// Whether a response to `method` with `status` carries no body (FRAME-10, FRAME-12).
pub fn has_no_body(method: &Method, status: StatusCode) -> bool {
    method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// Chooses the framing of a response and adjusts `head` to announce it: adds
/// Content-Length for a body of known length when the app set none, and removes it
/// where HTTP forbids it (1xx, 204).
///
/// ```
/// use gateway_spec::framing::{plan, Framing};
/// use gateway_spec::ResponseHead;
/// use http::{HeaderMap, Method, StatusCode, Version};
///
/// let mut head = ResponseHead::new(StatusCode::OK, HeaderMap::new());
/// assert_eq!(plan(&Method::GET, Version::HTTP_11, &mut head, Some(13)).unwrap(), Framing::Length(13));
/// assert_eq!(head.headers["content-length"], "13");
///
/// let mut head = ResponseHead::new(StatusCode::OK, HeaderMap::new());
/// assert_eq!(plan(&Method::GET, Version::HTTP_11, &mut head, None).unwrap(), Framing::Chunked);
/// assert_eq!(plan(&Method::GET, Version::HTTP_10, &mut head, None).unwrap(), Framing::CloseDelimited);
/// ```
pub fn plan(
    method: &Method,
    version: Version,
    head: &mut ResponseHead,
    body_len: Option<u64>,
) -> Result<Framing, StartResponseError> {
    let declared = head.content_length()?;
    Ok(plan_declared(method, version, head, body_len, declared))
}

/// [`plan`] for a head whose Content-Length was already checked: `declared`.
pub(crate) fn plan_declared(
    method: &Method,
    version: Version,
    head: &mut ResponseHead,
    body_len: Option<u64>,
    declared: Option<u64>,
) -> Framing {
    let status = head.status;
    if status.is_informational() || status == StatusCode::NO_CONTENT {
        head.headers.remove(http::header::CONTENT_LENGTH);
        return Framing::NoBody;
    }
    if has_no_body(method, status) {
        // HEAD and 304 may announce the length a GET would have had.
        if declared.is_none() && method == Method::HEAD {
            if let Some(n) = body_len {
                head.headers
                    .insert(http::header::CONTENT_LENGTH, length_value(n));
            }
        }
        return Framing::NoBody;
    }
    if let Some(n) = declared {
        return Framing::Length(n);
    }
    if let Some(n) = body_len {
        head.headers
            .insert(http::header::CONTENT_LENGTH, length_value(n));
        return Framing::Length(n);
    }
    if version == Version::HTTP_11 {
        Framing::Chunked
    } else {
        Framing::CloseDelimited
    }
}

/// `n` as a Content-Length value. The digits go into a space the thread keeps and
/// the values share, where `HeaderValue::from(n)` would allocate twice per response;
/// the space is reused once every value in it is dropped, or replaced while some
/// value still holds it.
fn length_value(n: u64) -> HeaderValue {
    /// Values per space, at the longest (20 digits).
    const SPACE: usize = 64 * 20;
    thread_local! {
        static DIGITS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
    }
    let shared = DIGITS.with(|space| {
        let mut space = space.borrow_mut();
        if space.capacity() < 20 {
            space.reserve(SPACE);
        }
        // Room for 20 digits is there: the copy does not grow the space.
        space.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        space.split().freeze()
    });
    HeaderValue::from_maybe_shared(shared).expect("decimal digits make a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn head(status: u16, content_length: Option<&str>) -> ResponseHead {
        let mut headers = HeaderMap::new();
        if let Some(cl) = content_length {
            headers.insert("content-length", cl.parse().unwrap());
        }
        ResponseHead::new(StatusCode::from_u16(status).unwrap(), headers)
    }

    #[test]
    fn length_values_are_the_decimal_digits() {
        for n in [0, 7, 10, 13, 4096, 1 << 20, u64::MAX] {
            assert_eq!(length_value(n).to_str().unwrap(), n.to_string());
        }
        // Values made one after another stay intact while they share a space.
        let values: Vec<_> = (0..200u64).map(|n| length_value(n * 997)).collect();
        for (n, value) in (0..200u64).zip(&values) {
            assert_eq!(value.to_str().unwrap(), (n * 997).to_string());
        }
    }

    #[test]
    fn app_content_length_wins_over_known_length() {
        let mut h = head(200, Some("5"));
        assert_eq!(
            plan(&Method::GET, Version::HTTP_11, &mut h, Some(9)),
            Ok(Framing::Length(5))
        );
    }

    #[test]
    fn no_content_drops_content_length() {
        let mut h = head(204, Some("5"));
        assert_eq!(
            plan(&Method::GET, Version::HTTP_11, &mut h, None),
            Ok(Framing::NoBody)
        );
        assert!(h.headers.get("content-length").is_none());
    }

    #[test]
    fn not_modified_keeps_app_content_length_but_sends_no_body() {
        let mut h = head(304, Some("5"));
        assert_eq!(
            plan(&Method::GET, Version::HTTP_11, &mut h, Some(5)),
            Ok(Framing::NoBody)
        );
        assert_eq!(h.headers["content-length"], "5");
    }

    #[test]
    fn head_announces_the_length_a_get_would_have() {
        let mut h = head(200, None);
        assert_eq!(
            plan(&Method::HEAD, Version::HTTP_11, &mut h, Some(42)),
            Ok(Framing::NoBody)
        );
        assert_eq!(h.headers["content-length"], "42");
        let mut h = head(200, None);
        assert_eq!(
            plan(&Method::HEAD, Version::HTTP_11, &mut h, None),
            Ok(Framing::NoBody)
        );
        assert!(h.headers.get("content-length").is_none());
    }

    #[test]
    fn invalid_app_content_length_is_an_error() {
        let mut h = head(200, Some("ten"));
        assert!(plan(&Method::GET, Version::HTTP_11, &mut h, None).is_err());
    }

    #[test]
    fn only_close_delimited_ends_the_connection() {
        assert!(Framing::CloseDelimited.ends_connection());
        assert!(!Framing::Chunked.ends_connection());
        assert!(!Framing::Length(0).ends_connection());
        assert!(!Framing::NoBody.ends_connection());
    }
}
