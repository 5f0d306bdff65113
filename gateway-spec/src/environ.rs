//! The environ: what a server tells an app about one request, as typed fields, plus
//! the CGI-style view (`var("PATH_INFO")`) that a PEP 3333 reader expects.

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, Method, Version};

use crate::target::{latin1, Target, TargetError};
use crate::{ErrorStream, Input};

/// The URL scheme the client used (`wsgi.url_scheme`, ENV-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// HTTP over TLS (usually terminated by a proxy in front of the server).
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port a URL of this scheme implies when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Everything a server tells an app about one request (the WSGI `environ`).
///
/// Fields are public, as the environ dict is in PEP 3333, so middleware can rewrite
/// them (move a prefix from `path_info` to `script_name`, say). The
/// [`Validator`](crate::validate::Validator) checks that they still make sense.
///
/// ```
/// use gateway_spec::Environ;
/// use http::Method;
///
/// let mut environ = Environ::new(Method::GET, "/search?q=caf%C3%A9").unwrap();
/// environ.headers.insert("user-agent", http::HeaderValue::from_static("curl/8"));
/// assert_eq!(environ.var("REQUEST_METHOD").as_deref(), Some("GET"));
/// assert_eq!(environ.var("PATH_INFO").as_deref(), Some("/search"));
/// assert_eq!(environ.var("QUERY_STRING").as_deref(), Some("q=caf%C3%A9"));
/// assert_eq!(environ.var("HTTP_USER_AGENT").as_deref(), Some("curl/8"));
/// assert_eq!(environ.var("SERVER_PROTOCOL").as_deref(), Some("HTTP/1.1"));
/// ```
pub struct Environ {
    /// `REQUEST_METHOD`.
    pub method: Method,
    /// `SCRIPT_NAME`: the percent-decoded octets of the path prefix that routed the
    /// request to this app; empty when the app sits at the root.
    pub script_name: Vec<u8>,
    /// `PATH_INFO`: the percent-decoded octets of the rest of the path (ENV-5).
    pub path_info: Vec<u8>,
    /// `QUERY_STRING`: the query as received, without the `?`, not decoded.
    pub query_string: String,
    /// `REQUEST_URI`: the request-target exactly as received.
    pub request_target: String,
    /// `SERVER_PROTOCOL`: the HTTP version of the request.
    pub version: Version,
    /// The request headers, `Content-Type` and `Content-Length` included.
    pub headers: HeaderMap,
    /// `CONTENT_LENGTH`: the body length when the client declared one; `None` for a
    /// chunked body or no body.
    pub content_length: Option<u64>,
    /// `SERVER_NAME`: the host the client asked for, else the server's name.
    pub server_name: String,
    /// `SERVER_PORT`.
    pub server_port: u16,
    /// `REMOTE_ADDR` and `REMOTE_PORT`: the peer, when the server knows it.
    pub remote_addr: Option<SocketAddr>,
    /// `wsgi.url_scheme`.
    pub url_scheme: Scheme,
    /// `wsgi.input`: the request body.
    pub input: Input,
    /// `wsgi.errors`: where diagnostics go.
    pub errors: ErrorStream,
    /// `wsgi.multithread`: other threads may call the app at the same time.
    pub multithread: bool,
    /// `wsgi.multiprocess`: other processes may call the same app.
    pub multiprocess: bool,
    /// `wsgi.run_once`: the app is called once in this process's life.
    pub run_once: bool,
    /// Typed values added by servers and middleware (ENV-28).
    pub extensions: http::Extensions,
}

/// The environ variables that are plain strings, in the order [`Environ::vars`] lists
/// them.
const CGI_NAMES: [&str; 17] = [
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REQUEST_URI",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.version",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
];

impl Environ {
    /// An environ for `method` and a raw request-target, with the defaults of an
    /// HTTP/1.1 request to `localhost:80` without headers or body. Servers and the
    /// test client then fill in what they know.
    ///
    /// Fails when the target is not one a server accepts (see [`Target::parse`]).
    pub fn new(method: Method, target: &str) -> Result<Self, TargetError> {
        let parsed = Target::parse(target)?;
        let url_scheme = match parsed.scheme.as_deref() {
            Some("https") => Scheme::Https,
            _ => Scheme::Http,
        };
        let mut environ = Self {
            method,
            script_name: Vec::new(),
            path_info: parsed.path,
            query_string: parsed.query,
            request_target: target.to_owned(),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            content_length: None,
            server_name: "localhost".to_owned(),
            server_port: url_scheme.default_port(),
            remote_addr: None,
            url_scheme,
            input: Input::empty(),
            errors: ErrorStream::stderr(),
            multithread: true,
            multiprocess: false,
            run_once: false,
            extensions: http::Extensions::new(),
        };
        if let Some(authority) = parsed.authority {
            environ.set_server_from_host(&authority);
        }
        Ok(environ)
    }

    /// Sets `SERVER_NAME` and `SERVER_PORT` from a Host value (`name[:port]`,
    /// including a bracketed IPv6 literal), keeping the scheme's port when none is
    /// given (ENV-23).
    pub fn set_server_from_host(&mut self, host: &str) {
        let (name, port) = split_host_port(host);
        // Into the existing string: a short name needs no allocation.
        self.server_name.clear();
        self.server_name.push_str(name);
        self.server_name.make_ascii_lowercase();
        self.server_port = port.unwrap_or_else(|| self.url_scheme.default_port());
    }

    /// The `CONTENT_TYPE` header value, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// `PATH_INFO` as text, each octet mapped to the character of the same code
    /// point (ENV-29).
    pub fn path_info_str(&self) -> String {
        latin1(&self.path_info)
    }

    /// `SCRIPT_NAME` as text, like [`Environ::path_info_str`].
    pub fn script_name_str(&self) -> String {
        latin1(&self.script_name)
    }

    /// One CGI-style variable by its PEP 3333 name, as text: `REQUEST_METHOD`,
    /// `SCRIPT_NAME`, `PATH_INFO`, `QUERY_STRING`, `REQUEST_URI`, `CONTENT_TYPE`,
    /// `CONTENT_LENGTH`, `SERVER_NAME`, `SERVER_PORT`, `SERVER_PROTOCOL`,
    /// `REMOTE_ADDR`, `REMOTE_PORT`, `HTTP_*`, and the `wsgi.*` flags. `None` when
    /// the variable is absent. Octets outside ASCII map to the characters of the same
    /// code point; repeated headers are joined with `,` (ENV-31). `wsgi.input` and
    /// `wsgi.errors` are the fields [`Environ::input`] and [`Environ::errors`].
    pub fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        let text = |s: &str| Some(Cow::Owned(s.to_owned()));
        let flag = |b: bool| Some(Cow::Borrowed(if b { "true" } else { "false" }));
        match name {
            "REQUEST_METHOD" => Some(Cow::Borrowed(self.method.as_str())),
            "SCRIPT_NAME" => Some(Cow::Owned(self.script_name_str())),
            "PATH_INFO" => Some(Cow::Owned(self.path_info_str())),
            "QUERY_STRING" => Some(Cow::Borrowed(&self.query_string)),
            "REQUEST_URI" => Some(Cow::Borrowed(&self.request_target)),
            "CONTENT_TYPE" => self.joined_header(&http::header::CONTENT_TYPE),
            "CONTENT_LENGTH" => self.content_length.map(|n| Cow::Owned(n.to_string())),
            "SERVER_NAME" => Some(Cow::Borrowed(&self.server_name)),
            "SERVER_PORT" => text(&self.server_port.to_string()),
            "SERVER_PROTOCOL" => Some(Cow::Borrowed(protocol_name(self.version))),
            "REMOTE_ADDR" => self.remote_addr.map(|a| Cow::Owned(a.ip().to_string())),
            "REMOTE_PORT" => self.remote_addr.map(|a| Cow::Owned(a.port().to_string())),
            "wsgi.version" => Some(Cow::Borrowed("1.0")),
            "wsgi.url_scheme" => Some(Cow::Borrowed(self.url_scheme.as_str())),
            "wsgi.multithread" => flag(self.multithread),
            "wsgi.multiprocess" => flag(self.multiprocess),
            "wsgi.run_once" => flag(self.run_once),
            _ => self.http_var(name),
        }
    }

    /// Every CGI-style variable present, as `(name, value)` pairs: the fixed names
    /// first, then one `HTTP_*` variable per request header name.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = CGI_NAMES
            .iter()
            .filter_map(|name| self.var(name).map(|v| (name.to_string(), v.into_owned())))
            .collect();
        vars.extend(self.http_vars());
        vars
    }

    /// The `HTTP_*` variables: one per request header name except Content-Type and
    /// Content-Length, which have their own (ENV-32).
    pub fn http_vars(&self) -> Vec<(String, String)> {
        self.headers
            .keys()
            .filter(|name| !is_cgi_content_header(name))
            .map(|name| {
                let value = self.joined_header(name).unwrap_or_default().into_owned();
                (http_var_name(name), value)
            })
            .collect()
    }

    fn http_var(&self, name: &str) -> Option<Cow<'_, str>> {
        let header = name.strip_prefix("HTTP_")?;
        if header.is_empty() || header.bytes().any(|b| b.is_ascii_lowercase() || b == b'-') {
            return None;
        }
        let header_name = HeaderName::from_bytes(header.replace('_', "-").as_bytes()).ok()?;
        if is_cgi_content_header(&header_name) {
            return None;
        }
        self.joined_header(&header_name)
    }

    fn joined_header(&self, name: &HeaderName) -> Option<Cow<'_, str>> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        let mut joined = latin1(first.as_bytes());
        for value in values {
            joined.push(',');
            joined.push_str(&latin1(value.as_bytes()));
        }
        Some(Cow::Owned(joined))
    }

    /// The URL the client asked for, rebuilt from the environ as PEP 3333's URL
    /// reconstruction does (URL-1): the Host header when present, otherwise
    /// `SERVER_NAME` and `SERVER_PORT`; then the percent-encoded script name, path
    /// and the query.
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let mut environ = Environ::new(Method::GET, "/a%20b?x=1").unwrap();
    /// environ.headers.insert("host", http::HeaderValue::from_static("example.test:8080"));
    /// assert_eq!(environ.url(), "http://example.test:8080/a%20b?x=1");
    /// ```
    pub fn url(&self) -> String {
        let mut url = self.url_origin();
        url.push_str(&percent_encode_path(&self.script_name));
        url.push_str(&percent_encode_path(&self.path_info));
        if !self.query_string.is_empty() {
            url.push('?');
            url.push_str(&self.query_string);
        }
        url
    }
}

impl Environ {
    /// `scheme://host[:port]` of URL reconstruction (URL-1): the Host header when
    /// present, otherwise `SERVER_NAME` and a port other than the scheme's default.
    pub(crate) fn url_origin(&self) -> String {
        let mut url = format!("{}://", self.url_scheme.as_str());
        match self
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(host) => url.push_str(host),
            None => {
                url.push_str(&self.server_name);
                if self.server_port != self.url_scheme.default_port() {
                    url.push_str(&format!(":{}", self.server_port));
                }
            }
        }
        url
    }
}

/// The CGI name of a request header: `HTTP_` and the name upper-cased with `-`
/// turned into `_`.
///
/// ```
/// use gateway_spec::environ::http_var_name;
/// use http::header::USER_AGENT;
///
/// assert_eq!(http_var_name(&USER_AGENT), "HTTP_USER_AGENT");
/// ```
pub fn http_var_name(name: &HeaderName) -> String {
    let mut var = String::with_capacity(5 + name.as_str().len());
    var.push_str("HTTP_");
    var.extend(name.as_str().chars().map(|c| {
        if c == '-' {
            '_'
        } else {
            c.to_ascii_uppercase()
        }
    }));
    var
}

fn is_cgi_content_header(name: &HeaderName) -> bool {
    name == http::header::CONTENT_TYPE || name == http::header::CONTENT_LENGTH
}

/// `"HTTP/1.1"` and the like, as `SERVER_PROTOCOL` spells it.
pub fn protocol_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let (name, port) = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => (&host[..i], host[i + 1..].parse().ok()),
        _ => (host, None),
    };
    (name, port)
}

/// What a path keeps unescaped in a URL: RFC 3986 `pchar` and `/`.
const PATH_KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

pub(crate) fn percent_encode_path(octets: &[u8]) -> String {
    percent_encoding::percent_encode(octets, PATH_KEEPS).to_string()
}

impl fmt::Debug for Environ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environ")
            .field("method", &self.method)
            .field("script_name", &self.script_name_str())
            .field("path_info", &self.path_info_str())
            .field("query_string", &self.query_string)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("content_length", &self.content_length)
            .field("server_name", &self.server_name)
            .field("server_port", &self.server_port)
            .field("remote_addr", &self.remote_addr)
            .field("url_scheme", &self.url_scheme)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environ(target: &str) -> Environ {
        Environ::new(Method::POST, target).unwrap()
    }

    #[test]
    fn repeated_headers_join_with_a_comma_in_the_cgi_view() {
        let mut e = environ("/");
        e.headers.append("x-tag", "a".parse().unwrap());
        e.headers.append("x-tag", "b c".parse().unwrap());
        assert_eq!(e.var("HTTP_X_TAG").as_deref(), Some("a,b c"));
    }

    #[test]
    fn content_headers_have_no_http_variant() {
        let mut e = environ("/");
        e.headers
            .insert("content-type", "text/plain".parse().unwrap());
        e.headers.insert("content-length", "3".parse().unwrap());
        e.content_length = Some(3);
        assert_eq!(e.var("CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(e.var("CONTENT_LENGTH").as_deref(), Some("3"));
        assert_eq!(e.var("HTTP_CONTENT_TYPE"), None);
        assert_eq!(e.var("HTTP_CONTENT_LENGTH"), None);
        assert!(e.http_vars().is_empty());
    }

    #[test]
    fn non_ascii_octets_map_to_the_same_code_point() {
        let mut e = environ("/caf%C3%A9%FF");
        e.headers.insert(
            "x-raw",
            http::HeaderValue::from_bytes(&[b'a', 0xe9]).unwrap(),
        );
        assert_eq!(
            e.var("PATH_INFO").as_deref(),
            Some("/caf\u{c3}\u{a9}\u{ff}")
        );
        assert_eq!(e.var("HTTP_X_RAW").as_deref(), Some("a\u{e9}"));
    }

    #[test]
    fn absolute_form_sets_server_name_and_port() {
        let e = environ("http://Example.test:8081/x");
        assert_eq!(e.server_name, "example.test");
        assert_eq!(e.server_port, 8081);
        let e = environ("https://example.test/x");
        assert_eq!(e.url_scheme, Scheme::Https);
        assert_eq!(e.server_port, 443);
    }

    #[test]
    fn host_with_ipv6_literal_splits_correctly() {
        let mut e = environ("/");
        e.set_server_from_host("[::1]:9000");
        assert_eq!((e.server_name.as_str(), e.server_port), ("[::1]", 9000));
        e.set_server_from_host("[::1]");
        assert_eq!((e.server_name.as_str(), e.server_port), ("[::1]", 80));
    }

    #[test]
    fn vars_lists_fixed_names_then_headers() {
        let mut e = environ("/p?q");
        e.remote_addr = Some("127.0.0.1:5000".parse().unwrap());
        e.headers.insert("accept", "*/*".parse().unwrap());
        let vars = e.vars();
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("REMOTE_ADDR"), Some("127.0.0.1"));
        assert_eq!(get("REMOTE_PORT"), Some("5000"));
        assert_eq!(get("HTTP_ACCEPT"), Some("*/*"));
        assert_eq!(get("CONTENT_LENGTH"), None);
        assert_eq!(get("wsgi.url_scheme"), Some("http"));
        assert_eq!(vars.last().map(|(n, _)| n.as_str()), Some("HTTP_ACCEPT"));
    }

    #[test]
    fn lower_case_or_dashed_http_names_are_not_variables() {
        let mut e = environ("/");
        e.headers.insert("user-agent", "x".parse().unwrap());
        assert_eq!(e.var("HTTP_user_agent"), None);
        assert_eq!(e.var("HTTP_USER-AGENT"), None);
        assert_eq!(e.var("HTTP_"), None);
    }

    #[test]
    fn url_reconstruction_without_host_uses_server_name_and_port() {
        let mut e = environ("/x");
        e.server_name = "example.test".into();
        e.server_port = 8000;
        e.script_name = b"/app".to_vec();
        assert_eq!(e.url(), "http://example.test:8000/app/x");
    }
}
