//! The request-target split into the environ's path and query (ENV-5, ENV-13, ENV-14): the
//! four forms of RFC 9112 §3.2 and the percent-decoding of the path. No I/O here.

use thiserror::Error;

/// Why a request-target cannot become an environ.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TargetError {
    /// The target is empty.
    #[error("the request-target is empty")]
    Empty,
    /// The target holds an octet outside visible ASCII (0x21..=0x7E).
    #[error("the request-target holds the octet 0x{0:02x}; only visible ASCII is allowed")]
    InvalidOctet(u8),
    /// The target carries a fragment, which clients never send.
    #[error("the request-target carries a fragment ('#'), which is not allowed")]
    Fragment,
    /// An absolute-form target with a scheme other than http or https.
    #[error("the absolute-form target has scheme {0:?}; only http and https are served")]
    UnsupportedScheme(String),
    /// An absolute-form target without an authority.
    #[error("the absolute-form target has no host")]
    MissingAuthority,
    /// The authority-form, used only by CONNECT, which a gateway does not serve.
    #[error("the authority-form target {0:?} is only for CONNECT, which is not served")]
    AuthorityForm(String),
}

/// A request-target split into the parts the environ needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Percent-decoded path octets (PATH_INFO when SCRIPT_NAME is empty); `*` for the
    /// asterisk form.
    pub path: Vec<u8>,
    /// The query as received, without the `?`.
    pub query: String,
    /// The authority of an absolute-form target, which replaces Host (RFC 9112 §3.2.2).
    pub authority: Option<String>,
    /// The scheme of an absolute-form target.
    pub scheme: Option<String>,
}

impl Target {
    /// Parses a raw request-target: origin-form (`/a?b`), absolute-form
    /// (`http://host/a?b`) or asterisk-form (`*`).
    ///
    /// ```
    /// use gateway_spec::target::Target;
    ///
    /// let t = Target::parse("/caf%C3%A9/a%2Fb?x=%20").unwrap();
    /// assert_eq!(t.path, "/café/a/b".as_bytes());
    /// assert_eq!(t.query, "x=%20");
    ///
    /// let t = Target::parse("http://example.test:8080/docs?q").unwrap();
    /// assert_eq!(t.path, b"/docs");
    /// assert_eq!(t.authority.as_deref(), Some("example.test:8080"));
    /// ```
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        if raw.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some(&bad) = raw.as_bytes().iter().find(|b| !(0x21..=0x7e).contains(*b)) {
            return Err(TargetError::InvalidOctet(bad));
        }
        if raw.contains('#') {
            return Err(TargetError::Fragment);
        }
        if raw == "*" {
            return Ok(Self {
                path: b"*".to_vec(),
                query: String::new(),
                authority: None,
                scheme: None,
            });
        }
        if raw.starts_with('/') {
            let (path, query) = split_query(raw);
            return Ok(Self {
                path: percent_decode(path.as_bytes()),
                query: query.to_owned(),
                authority: None,
                scheme: None,
            });
        }
        match raw.find("://") {
            Some(i) => Self::parse_absolute(&raw[..i], &raw[i + 3..]),
            None => Err(TargetError::AuthorityForm(raw.to_owned())),
        }
    }

    fn parse_absolute(scheme: &str, rest: &str) -> Result<Self, TargetError> {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(TargetError::UnsupportedScheme(scheme));
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(end);
        if authority.is_empty() {
            return Err(TargetError::MissingAuthority);
        }
        let (path, query) = split_query(path_and_query);
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            path: percent_decode(path.as_bytes()),
            query: query.to_owned(),
            authority: Some(authority.to_owned()),
            scheme: Some(scheme),
        })
    }
}

fn split_query(path_and_query: &str) -> (&str, &str) {
    match path_and_query.split_once('?') {
        Some((path, query)) => (path, query),
        None => (path_and_query, ""),
    }
}

/// Decodes `%XX` escapes into octets. A `%` not followed by two hex digits is kept
/// as is (ENV-9): servers disagree here, and keeping it loses nothing.
///
/// ```
/// use gateway_spec::target::percent_decode;
///
/// assert_eq!(percent_decode(b"/a%20b%zz%"), b"/a b%zz%");
/// assert_eq!(percent_decode(b"%00%FF"), [0x00, 0xff]);
/// ```
pub fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            if let (Some(hi), Some(lo)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Maps octets to the characters of the same code point, as WSGI's latin-1 rule does
/// (ENV-29), so every octet survives the trip into a string.
///
/// ```
/// use gateway_spec::target::latin1;
///
/// assert_eq!(latin1(&[b'a', 0xe9, 0xff]), "aéÿ");
/// ```
pub fn latin1(octets: &[u8]) -> String {
    octets.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_keeps_the_query_raw() {
        let t = Target::parse("/a+b?x=1&y=%2F").unwrap();
        assert_eq!(t.path, b"/a+b");
        assert_eq!(t.query, "x=1&y=%2F");
        assert_eq!(t.authority, None);
    }

    #[test]
    fn only_the_first_question_mark_splits() {
        let t = Target::parse("/p?a?b").unwrap();
        assert_eq!(t.path, b"/p");
        assert_eq!(t.query, "a?b");
    }

    #[test]
    fn absolute_form_without_path_means_root() {
        let t = Target::parse("HTTP://Example.test?q=1").unwrap();
        assert_eq!(t.path, b"/");
        assert_eq!(t.query, "q=1");
        assert_eq!(t.scheme.as_deref(), Some("http"));
    }

    #[test]
    fn asterisk_form_is_a_star_path() {
        assert_eq!(Target::parse("*").unwrap().path, b"*");
    }

    #[test]
    fn rejections_name_the_problem() {
        assert_eq!(Target::parse(""), Err(TargetError::Empty));
        assert_eq!(Target::parse("/a b"), Err(TargetError::InvalidOctet(b' ')));
        assert_eq!(
            Target::parse("/a\u{e9}"),
            Err(TargetError::InvalidOctet(0xc3))
        );
        assert_eq!(Target::parse("/a#frag"), Err(TargetError::Fragment));
        assert_eq!(
            Target::parse("example.test:443"),
            Err(TargetError::AuthorityForm("example.test:443".into()))
        );
        assert_eq!(
            Target::parse("ftp://x/"),
            Err(TargetError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(
            Target::parse("http:///x"),
            Err(TargetError::MissingAuthority)
        );
    }

    #[test]
    fn percent_decoding_edge_cases() {
        assert_eq!(percent_decode(b"%"), b"%");
        assert_eq!(percent_decode(b"%4"), b"%4");
        assert_eq!(percent_decode(b"%41"), b"A");
        assert_eq!(percent_decode(b"%2f%2F"), b"//");
        assert_eq!(percent_decode(b"%%41"), b"%A");
    }
}
