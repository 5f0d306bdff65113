//! The request-target checked against the URI grammar and split into the environ's path and
//! query (REQ-11, REQ-40, REQ-41, ENV-5, ENV-13, ENV-14): the four forms of RFC 9112 §3.2 and
//! the percent-decoding of the path. No I/O here, and no method: which form a method may use
//! is the server's concern.

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
    /// A visible octet that RFC 3986 does not allow where it stands (such as `"`, `{`,
    /// `|`, or `[` outside an IP literal); a client must percent-encode it.
    #[error(
        "the request-target holds {:?}, which the URI grammar does not allow there; \
         percent-encode it",
        char::from(*.0)
    )]
    OutsideUriGrammar(u8),
    /// An absolute-form target whose authority carries userinfo (`user:pass@`).
    #[error("the request-target carries userinfo ('user@host'), which http URIs must not carry")]
    UserInfo,
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
        check_syntax(raw)?;
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

/// Checks the octets of a raw request-target against the URI grammar, and its authority
/// for userinfo: everything about a target that does not depend on the method. Both
/// [`Target::parse`] and the reference server's head parser call it, so the two cannot
/// disagree on which targets exist.
///
/// In order: the target is not empty, holds only visible ASCII (REQ-11), no `#`
/// (REQ-11), only the octets RFC 3986 allows where each stands (REQ-40), and no
/// userinfo in its authority (REQ-41). A path and a query may hold the unreserved
/// octets, `%`, the sub-delims and `:` `@` `/` `?`; an authority the same without
/// `@` `/` `?`, plus `[` `]` around an IP literal at its start. A `%` need not start
/// a valid escape (ENV-9).
///
/// ```
/// use gateway_spec::target::{check_syntax, TargetError};
///
/// assert_eq!(check_syntax("/a@b?x=%zz&y=(1)"), Ok(()));
/// assert_eq!(check_syntax("http://[::1]:8080/a"), Ok(()));
/// assert_eq!(check_syntax("/a?x={1}"), Err(TargetError::OutsideUriGrammar(b'{')));
/// assert_eq!(check_syntax("/a[0]"), Err(TargetError::OutsideUriGrammar(b'[')));
/// assert_eq!(check_syntax("http://u:p@example.test/"), Err(TargetError::UserInfo));
/// ```
pub fn check_syntax(raw: &str) -> Result<(), TargetError> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() {
        return Err(TargetError::Empty);
    }
    if let Some(&bad) = bytes.iter().find(|&&b| !(0x21..=0x7e).contains(&b)) {
        return Err(TargetError::InvalidOctet(bad));
    }
    if bytes.contains(&b'#') {
        return Err(TargetError::Fragment);
    }
    if raw.starts_with('/') || raw == "*" {
        return check_octets(raw, is_path_or_query_octet);
    }
    let Some((scheme, rest)) = raw.split_once("://") else {
        // Authority-form (`host:port`, only for CONNECT) or no form at all: userinfo
        // has no place in either, so an `@` is plainly outside the grammar.
        return check_authority(raw).map_err(|error| match error {
            TargetError::UserInfo => TargetError::OutsideUriGrammar(b'@'),
            other => other,
        });
    };
    check_octets(scheme, is_scheme_octet)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(end);
    check_authority(authority)?;
    check_octets(path_and_query, is_path_or_query_octet)
}

/// An authority without userinfo: `host[:port]`, the host possibly an IP literal in
/// brackets (RFC 3986 §3.2). Whether the host and port make sense is not decided here.
fn check_authority(authority: &str) -> Result<(), TargetError> {
    // RFC 9110 §4.2.4: senders MUST NOT generate userinfo in http(s) URIs, and
    // `http://trusted.example@evil.example/` is how hosts are spoofed.
    if authority.contains('@') {
        return Err(TargetError::UserInfo);
    }
    let Some(literal_and_port) = authority.strip_prefix('[') else {
        return check_octets(authority, is_authority_octet);
    };
    let Some((literal, port)) = literal_and_port.split_once(']') else {
        return Err(TargetError::OutsideUriGrammar(b'['));
    };
    if literal.is_empty() || !(port.is_empty() || port.starts_with(':')) {
        return Err(TargetError::OutsideUriGrammar(b']'));
    }
    check_octets(literal, is_authority_octet)?;
    check_octets(port, is_authority_octet)
}

fn check_octets(part: &str, allowed: fn(u8) -> bool) -> Result<(), TargetError> {
    match part.bytes().find(|&b| !allowed(b)) {
        Some(bad) => Err(TargetError::OutsideUriGrammar(bad)),
        None => Ok(()),
    }
}

/// RFC 3986 `unreserved`, the `%` of `pct-encoded`, `sub-delims` and `:`: the octets of
/// a reg-name, an IPv4 address, a port, or the inside of an IP literal.
fn is_authority_octet(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
        )
}

/// RFC 3986 `pchar`, `/` and `?`: the octets of a path and a query.
fn is_path_or_query_octet(b: u8) -> bool {
    is_authority_octet(b) || matches!(b, b'@' | b'/' | b'?')
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (only http and https
/// are served, which [`Target::parse`] and the server decide afterwards).
fn is_scheme_octet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
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
    percent_encoding::percent_decode(input).collect()
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
    fn every_octet_of_the_uri_grammar_is_accepted_in_path_and_query() {
        let all = "/AZaz09-._~%!$&'()*+,;=:@/?AZaz09-._~%!$&'()*+,;=:@/?";
        assert_eq!(check_syntax(all), Ok(()));
        let t = Target::parse("/a@b:c?d@e/f?g").unwrap();
        assert_eq!(t.path, b"/a@b:c");
        assert_eq!(t.query, "d@e/f?g");
    }

    #[test]
    fn visible_octets_outside_the_grammar_are_refused_in_path_and_query() {
        for bad in *b"\"<>\\^`{|}[]" {
            let octet = char::from(bad);
            for raw in [
                format!("/a{octet}b"),
                format!("/a?x={octet}"),
                format!("http://example.test/a{octet}b"),
                format!("http://example.test/a?x{octet}"),
            ] {
                assert_eq!(
                    Target::parse(&raw),
                    Err(TargetError::OutsideUriGrammar(bad)),
                    "{raw}"
                );
            }
        }
    }

    #[test]
    fn a_bare_percent_is_not_a_grammar_error() {
        assert_eq!(check_syntax("/a%zz%4?%"), Ok(()));
        assert_eq!(check_syntax("http://example.test/%"), Ok(()));
    }

    #[test]
    fn an_ip_literal_may_open_an_absolute_form_authority() {
        let t = Target::parse("http://[::1]:8080/a?b").unwrap();
        assert_eq!(t.authority.as_deref(), Some("[::1]:8080"));
        assert_eq!(t.path, b"/a");
        assert_eq!(check_syntax("https://[2001:db8::7]"), Ok(()));
        assert_eq!(check_syntax("http://[v1.fe80::a+en1]/"), Ok(()));
    }

    #[test]
    fn brackets_elsewhere_in_an_authority_are_refused() {
        let outside = TargetError::OutsideUriGrammar;
        assert_eq!(check_syntax("http://a[1]/"), Err(outside(b'[')));
        assert_eq!(check_syntax("http://[::1/"), Err(outside(b'[')));
        assert_eq!(check_syntax("http://[]/"), Err(outside(b']')));
        assert_eq!(check_syntax("http://[::1]x/"), Err(outside(b']')));
        assert_eq!(check_syntax("http://[::1]:80]/"), Err(outside(b']')));
        assert_eq!(check_syntax("http://[[::1]/"), Err(outside(b'[')));
        assert_eq!(check_syntax("http://a\"b/"), Err(outside(b'"')));
    }

    #[test]
    fn userinfo_in_an_absolute_form_authority_is_refused() {
        for raw in [
            "http://user:pass@example.test/",
            "http://user@example.test/a",
            "HTTPS://@example.test",
            "http://example.test@evil.test?q",
            "http://u@[::1]/",
        ] {
            assert_eq!(Target::parse(raw), Err(TargetError::UserInfo), "{raw}");
        }
        assert_eq!(
            Target::parse("http://example.test/a@b?c@d").unwrap().path,
            b"/a@b"
        );
    }

    #[test]
    fn the_scheme_and_authority_form_are_checked_too() {
        assert_eq!(
            check_syntax("h{t}tp://example.test/"),
            Err(TargetError::OutsideUriGrammar(b'{'))
        );
        assert_eq!(check_syntax("[::1]:443"), Ok(()));
        assert_eq!(
            check_syntax("u@a.test:443"),
            Err(TargetError::OutsideUriGrammar(b'@'))
        );
        assert_eq!(
            check_syntax("mailto:a@b.test"),
            Err(TargetError::OutsideUriGrammar(b'@'))
        );
    }

    #[test]
    fn invisible_octets_and_fragments_are_named_before_the_grammar() {
        assert_eq!(check_syntax("/{ "), Err(TargetError::InvalidOctet(b' ')));
        assert_eq!(check_syntax("/{#"), Err(TargetError::Fragment));
        assert_eq!(check_syntax("http://u@a/#"), Err(TargetError::Fragment));
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
