//! Query strings and `application/x-www-form-urlencoded` bodies as name/value pairs
//! (`form_urlencoded`, the WHATWG rules: `+` is a space). No multipart, no nesting.

use std::borrow::Cow;
use std::io::{self, Read};

use thiserror::Error;

use crate::Environ;

/// The media type of an HTML form posted without files.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Why a form body could not be read.
#[derive(Debug, Error)]
pub enum FormError {
    /// The request's Content-Type is not `application/x-www-form-urlencoded`.
    #[error("the request body is {found:?}, not application/x-www-form-urlencoded; post the form without files or parse the body yourself")]
    NotAForm {
        /// The Content-Type the request had, or empty without one.
        found: String,
    },
    /// The body is longer than the limit the app gave.
    #[error("the form body is longer than {limit} bytes; raise the limit or send less")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Reading the body failed (a client that cut it short, say).
    #[error("reading the form body failed: {0}")]
    Read(#[from] io::Error),
}

/// Name/value pairs of a query string or form body, percent-decoded with `+` as
/// space; octets that are not UTF-8 become U+FFFD. Order and repeats are kept.
///
/// ```
/// use gateway_spec::form::parse_form;
///
/// let pairs = parse_form(b"q=caf%C3%A9+au+lait&tag=a&tag=b&flag");
/// assert_eq!(pairs, [("q", "café au lait"), ("tag", "a"), ("tag", "b"), ("flag", "")]
///     .map(|(n, v)| (n.to_owned(), v.to_owned())));
/// ```
pub fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

impl Environ {
    /// The pairs of `QUERY_STRING`, decoded as [`parse_form`] does, borrowed where
    /// no decoding was needed. `QUERY_STRING` itself stays raw (ENV-14).
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let environ = Environ::new(Method::GET, "/search?q=a+b&page=2").unwrap();
    /// let pairs: Vec<_> = environ.query_pairs().collect();
    /// assert_eq!(pairs, [("q".into(), "a b".into()), ("page".into(), "2".into())]);
    /// ```
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        form_urlencoded::parse(self.query_string.as_bytes())
    }

    /// The first value of `name` in the query string, decoded; `None` when absent.
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let environ = Environ::new(Method::GET, "/?name=Ada%20L.&name=Grace").unwrap();
    /// assert_eq!(environ.query_value("name").as_deref(), Some("Ada L."));
    /// assert_eq!(environ.query_value("age"), None);
    /// ```
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Reads the request body as a urlencoded form, at most `limit` bytes. Fails
    /// when the Content-Type is another one (parameters such as `; charset=utf-8`
    /// are allowed), when the body is longer than `limit`, or when reading fails.
    ///
    /// ```
    /// use gateway_spec::form::FormError;
    /// use gateway_spec::{Environ, Input};
    /// use http::{HeaderValue, Method};
    ///
    /// let mut environ = Environ::new(Method::POST, "/signup").unwrap();
    /// environ.headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
    /// environ.input = Input::new(std::io::Cursor::new(b"user=ada&lang=en".to_vec()));
    /// let form = environ.read_form(1024).unwrap();
    /// assert_eq!(form[0], ("user".to_owned(), "ada".to_owned()));
    ///
    /// let mut other = Environ::new(Method::POST, "/signup").unwrap();
    /// other.headers.insert("content-type", HeaderValue::from_static("text/plain"));
    /// assert!(matches!(other.read_form(1024), Err(FormError::NotAForm { .. })));
    /// ```
    pub fn read_form(&mut self, limit: u64) -> Result<Vec<(String, String)>, FormError> {
        let content_type = self.content_type().unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case(FORM_CONTENT_TYPE) {
            return Err(FormError::NotAForm {
                found: content_type.to_owned(),
            });
        }
        let mut body = Vec::new();
        (&mut self.input)
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)?;
        if body.len() as u64 > limit {
            return Err(FormError::TooLarge { limit });
        }
        Ok(parse_form(&body))
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Method};

    use super::*;
    use crate::Input;

    fn form_environ(content_type: &'static str, body: &'static [u8]) -> Environ {
        let mut e = Environ::new(Method::POST, "/").unwrap();
        e.headers
            .insert("content-type", HeaderValue::from_static(content_type));
        e.input = Input::new(std::io::Cursor::new(body.to_vec()));
        e
    }

    #[test]
    fn a_body_longer_than_the_limit_is_refused() {
        let mut e = form_environ(FORM_CONTENT_TYPE, b"a=12345");
        assert!(matches!(
            e.read_form(6),
            Err(FormError::TooLarge { limit: 6 })
        ));
        let mut e = form_environ(FORM_CONTENT_TYPE, b"a=12345");
        assert_eq!(e.read_form(7).unwrap().len(), 1);
    }

    #[test]
    fn media_type_is_matched_without_case_and_parameters() {
        let mut e = form_environ("Application/X-WWW-Form-Urlencoded; charset=utf-8", b"x=1");
        assert_eq!(
            e.read_form(100).unwrap(),
            [("x".to_owned(), "1".to_owned())]
        );
        let mut e = Environ::new(Method::POST, "/").unwrap();
        assert!(matches!(e.read_form(100), Err(FormError::NotAForm { found }) if found.is_empty()));
    }

    #[test]
    fn invalid_utf8_and_bare_percent_do_not_fail() {
        let pairs = parse_form(b"a=%FF&b=%zz&c=%");
        assert_eq!(pairs[0].1, "\u{fffd}");
        assert_eq!(pairs[1].1, "%zz");
        assert_eq!(pairs[2].1, "%");
    }
}
