//! Header lists without `unwrap`: [`IntoHeaders`] turns `(name, value)` pairs into a
//! `HeaderMap` with a typed error; which headers an app may send is `start_response`'s.

use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use thiserror::Error;

/// A header name or value that cannot go on the wire.
///
/// ```
/// use gateway_spec::headers::{header_map, HeaderError};
///
/// let err = header_map([("x-note", "line\r\nbreak")]).unwrap_err();
/// assert!(matches!(err, HeaderError::InvalidValue { .. }));
/// assert!(err.to_string().contains("x-note"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// The name is not an HTTP token (RFC 9110 §5.1).
    #[error("header name {0:?} is not a token; use letters, digits and -")]
    InvalidName(String),
    /// The value holds a control character such as CR, LF or NUL.
    #[error("the value of header {name:?} holds a control character; remove CR, LF and NUL")]
    InvalidValue {
        /// The header whose value was refused.
        name: String,
    },
}

/// Anything that can become the header list of a response: a `HeaderMap` as is, or
/// `(name, value)` pairs whose names are `&str`, `String` or `HeaderName` and whose
/// values are text or bytes (`&str`, `String`, `&[u8]`, `Vec<u8>`, `HeaderValue`).
///
/// Pairs keep their order, and a repeated name gives a repeated header.
///
/// ```
/// use gateway_spec::headers::IntoHeaders;
/// use http::header::CONTENT_TYPE;
///
/// let map = [(CONTENT_TYPE, "text/plain")].into_headers().unwrap();
/// assert_eq!(map["content-type"], "text/plain");
/// let map = vec![("set-cookie", "a=1"), ("set-cookie", "b=2")].into_headers().unwrap();
/// assert_eq!(map.get_all("set-cookie").iter().count(), 2);
/// assert!(().into_headers().unwrap().is_empty());
/// ```
pub trait IntoHeaders {
    /// The header map, or the first name or value that cannot go on the wire.
    fn into_headers(self) -> Result<HeaderMap, HeaderError>;
}

/// Converts one header name; implemented for `&str`, `String` and `HeaderName`.
pub trait IntoHeaderName {
    /// The name, or an error naming it.
    fn into_header_name(self) -> Result<HeaderName, HeaderError>;
}

/// Converts one header value; implemented for text, bytes and `HeaderValue`.
pub trait IntoHeaderValue {
    /// The value; `name` is only for the error message.
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError>;
}

impl IntoHeaderName for HeaderName {
    fn into_header_name(self) -> Result<HeaderName, HeaderError> {
        Ok(self)
    }
}

impl IntoHeaderName for &HeaderName {
    fn into_header_name(self) -> Result<HeaderName, HeaderError> {
        Ok(self.clone())
    }
}

impl IntoHeaderName for &str {
    fn into_header_name(self) -> Result<HeaderName, HeaderError> {
        HeaderName::from_bytes(self.as_bytes())
            .map_err(|_| HeaderError::InvalidName(self.to_owned()))
    }
}

impl IntoHeaderName for String {
    fn into_header_name(self) -> Result<HeaderName, HeaderError> {
        self.as_str().into_header_name()
    }
}

impl IntoHeaderValue for HeaderValue {
    fn into_header_value(self, _name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        Ok(self)
    }
}

fn value_from_bytes(bytes: &[u8], name: &HeaderName) -> Result<HeaderValue, HeaderError> {
    HeaderValue::from_bytes(bytes).map_err(|_| HeaderError::InvalidValue {
        name: name.as_str().to_owned(),
    })
}

impl IntoHeaderValue for &str {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        value_from_bytes(self.as_bytes(), name)
    }
}

impl IntoHeaderValue for String {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        value_from_bytes(self.as_bytes(), name)
    }
}

impl IntoHeaderValue for &String {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        value_from_bytes(self.as_bytes(), name)
    }
}

impl IntoHeaderValue for &[u8] {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        value_from_bytes(self, name)
    }
}

impl IntoHeaderValue for Vec<u8> {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, HeaderError> {
        value_from_bytes(&self, name)
    }
}

impl IntoHeaders for HeaderMap {
    fn into_headers(self) -> Result<HeaderMap, HeaderError> {
        Ok(self)
    }
}

impl IntoHeaders for () {
    fn into_headers(self) -> Result<HeaderMap, HeaderError> {
        Ok(HeaderMap::new())
    }
}

fn collect_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Result<HeaderMap, HeaderError>
where
    N: IntoHeaderName,
    V: IntoHeaderValue,
{
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = name.into_header_name()?;
        let value = value.into_header_value(&name)?;
        map.append(name, value);
    }
    Ok(map)
}

impl<N: IntoHeaderName, V: IntoHeaderValue, const K: usize> IntoHeaders for [(N, V); K] {
    fn into_headers(self) -> Result<HeaderMap, HeaderError> {
        collect_pairs(self)
    }
}

impl<N: IntoHeaderName, V: IntoHeaderValue> IntoHeaders for Vec<(N, V)> {
    fn into_headers(self) -> Result<HeaderMap, HeaderError> {
        collect_pairs(self)
    }
}

/// A `HeaderMap` from `(name, value)` pairs, without `unwrap`.
///
/// ```
/// use gateway_spec::headers::header_map;
///
/// # fn main() -> Result<(), gateway_spec::headers::HeaderError> {
/// let headers = header_map([("content-type", "text/plain"), ("cache-control", "no-store")])?;
/// assert_eq!(headers.len(), 2);
/// # Ok(())
/// # }
/// ```
pub fn header_map(pairs: impl IntoHeaders) -> Result<HeaderMap, HeaderError> {
    pairs.into_headers()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_tokens_are_refused_with_the_name() {
        assert_eq!(
            header_map([("bad name", "x")]),
            Err(HeaderError::InvalidName("bad name".into()))
        );
        assert_eq!(
            header_map([("", "x")]),
            Err(HeaderError::InvalidName(String::new()))
        );
    }

    #[test]
    fn values_with_control_characters_are_refused_and_obs_text_is_kept() {
        for bad in ["a\nb", "a\rb", "a\0b"] {
            assert!(header_map([("x-a", bad)]).is_err(), "{bad:?}");
        }
        let map = header_map([("x-a", &[b'c', 0xe9][..])]).unwrap();
        assert_eq!(map["x-a"].as_bytes(), [b'c', 0xe9]);
    }

    #[test]
    fn names_are_lower_cased_and_order_is_kept() {
        let map = header_map(vec![("X-B", "1".to_owned()), ("x-b", "2".to_owned())]).unwrap();
        let values: Vec<_> = map.get_all("x-b").iter().collect();
        assert_eq!(values, ["1", "2"]);
    }
}
