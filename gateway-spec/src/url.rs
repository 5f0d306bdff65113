//! wsgiref's URL helpers on the environ (`shift_path_info`, `application_uri`,
//! `request_uri`, UTF-8 views); they never decode or normalise more than the server did.

use crate::environ::percent_encode_path;
use crate::Environ;

impl Environ {
    /// `PATH_INFO` as UTF-8 text, borrowed; `None` when the decoded octets are not
    /// UTF-8 (ENV-10). Unlike [`Environ::path_info_str`] it does not allocate, and
    /// `/caf%C3%A9` reads `/café`.
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// assert_eq!(Environ::new(Method::GET, "/caf%C3%A9").unwrap().path_info_utf8(), Some("/café"));
    /// assert_eq!(Environ::new(Method::GET, "/%FF").unwrap().path_info_utf8(), None);
    /// ```
    pub fn path_info_utf8(&self) -> Option<&str> {
        std::str::from_utf8(&self.path_info).ok()
    }

    /// `SCRIPT_NAME` as UTF-8 text, like [`Environ::path_info_utf8`].
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let mut environ = Environ::new(Method::GET, "/api/items").unwrap();
    /// environ.shift_path_info();
    /// assert_eq!(environ.script_name_utf8(), Some("/api"));
    /// ```
    pub fn script_name_utf8(&self) -> Option<&str> {
        std::str::from_utf8(&self.script_name).ok()
    }

    /// Moves the next segment of `PATH_INFO` to the end of `SCRIPT_NAME` and returns
    /// it, as wsgiref's `shift_path_info` does; `None` when `PATH_INFO` holds no
    /// further non-empty segment, and then nothing changes.
    ///
    /// The segment moves with the slashes before it, so `script_name` followed by
    /// `path_info` still spells the decoded request path (ENV-6) and `script_name`
    /// never ends with `/` (ENV-4). Where wsgiref differs, on purpose:
    ///
    /// - a trailing slash is not a segment: `/app/` shifts `app` and leaves
    ///   `PATH_INFO` `/`; shifting again gives `None`, not `""`;
    /// - `.` and `..` are returned as they are, never resolved, and empty segments
    ///   (`//`) are skipped without being removed (the server did not normalise the
    ///   path, ENV-11, and neither does this);
    /// - a decoded `%2F` is a slash like any other (ENV-7).
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let mut environ = Environ::new(Method::GET, "/blog//2024/").unwrap();
    /// assert_eq!(environ.shift_path_info().as_deref(), Some(&b"blog"[..]));
    /// assert_eq!(environ.shift_path_info().as_deref(), Some(&b"2024"[..]));
    /// assert_eq!((environ.script_name.as_slice(), environ.path_info.as_slice()), (&b"/blog//2024"[..], &b"/"[..]));
    /// assert_eq!(environ.shift_path_info(), None);
    /// ```
    pub fn shift_path_info(&mut self) -> Option<Vec<u8>> {
        // A path that does not start with `/` (the asterisk form) has no segments.
        if self.path_info.first() != Some(&b'/') {
            return None;
        }
        let start = self.path_info.iter().position(|&b| b != b'/')?;
        let end = self.path_info[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(self.path_info.len(), |i| start + i);
        let name = self.path_info[start..end].to_vec();
        let rest = self.path_info.split_off(end);
        let moved = std::mem::replace(&mut self.path_info, rest);
        self.script_name.extend_from_slice(&moved);
        Some(name)
    }

    /// The base URL of the app, as wsgiref's `application_uri`: scheme, host and
    /// the percent-encoded `SCRIPT_NAME`, or `/` for an app at the root. No query.
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let mut environ = Environ::new(Method::GET, "http://example.test/shop/cart?x=1").unwrap();
    /// assert_eq!(environ.application_uri(), "http://example.test/");
    /// environ.shift_path_info();
    /// assert_eq!(environ.application_uri(), "http://example.test/shop");
    /// ```
    pub fn application_uri(&self) -> String {
        let mut url = self.url_origin();
        if self.script_name.is_empty() {
            url.push('/');
        } else {
            url.push_str(&percent_encode_path(&self.script_name));
        }
        url
    }

    /// The full URL of the request, as wsgiref's `request_uri`: the
    /// [`Environ::application_uri`] followed by the percent-encoded `PATH_INFO` and,
    /// when `include_query` is true and there is one, `?` and the query. It is the
    /// recipe of URL-1 ([`Environ::url`]), except that an empty path reads `/`.
    ///
    /// ```
    /// use gateway_spec::Environ;
    /// use http::Method;
    ///
    /// let environ = Environ::new(Method::GET, "http://example.test:8080/a%20b?q=1").unwrap();
    /// assert_eq!(environ.request_uri(true), "http://example.test:8080/a%20b?q=1");
    /// assert_eq!(environ.request_uri(false), "http://example.test:8080/a%20b");
    /// ```
    pub fn request_uri(&self, include_query: bool) -> String {
        let mut url = self.url_origin();
        let path = [self.script_name.as_slice(), self.path_info.as_slice()].concat();
        if path.is_empty() {
            url.push('/');
        } else {
            url.push_str(&percent_encode_path(&path));
        }
        if include_query && !self.query_string.is_empty() {
            url.push('?');
            url.push_str(&self.query_string);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn environ(target: &str) -> Environ {
        Environ::new(Method::GET, target).unwrap()
    }

    fn paths(e: &Environ) -> (String, String) {
        (e.script_name_str(), e.path_info_str())
    }

    #[test]
    fn shifting_keeps_script_name_and_path_info_spelling_the_path() {
        for target in ["/a/b/c", "/a//b/", "//x", "/a/./../b", "/%2F/x", "/a/"] {
            let mut e = environ(target);
            let whole = e.path_info.clone();
            while e.shift_path_info().is_some() {
                assert_eq!([e.script_name.clone(), e.path_info.clone()].concat(), whole);
                assert_ne!(e.script_name.last(), Some(&b'/'), "{target}");
            }
        }
    }

    #[test]
    fn nothing_to_shift_changes_nothing() {
        for target in ["/", "//", "*"] {
            let mut e = environ(target);
            let before = paths(&e);
            assert_eq!(e.shift_path_info(), None, "{target}");
            assert_eq!(paths(&e), before);
        }
        let mut e = environ("/");
        e.path_info.clear();
        assert_eq!(e.shift_path_info(), None);
    }

    #[test]
    fn dot_segments_are_names_not_directions() {
        let mut e = environ("/../etc");
        assert_eq!(e.shift_path_info().as_deref(), Some(&b".."[..]));
        assert_eq!(paths(&e), ("/..".into(), "/etc".into()));
    }

    #[test]
    fn an_encoded_slash_is_a_separator_after_decoding() {
        let mut e = environ("/a%2Fb");
        assert_eq!(e.shift_path_info().as_deref(), Some(&b"a"[..]));
        assert_eq!(paths(&e), ("/a".into(), "/b".into()));
    }

    #[test]
    fn application_uri_uses_host_then_server_name_and_port() {
        let mut e = environ("/x");
        e.server_port = 8000;
        assert_eq!(e.application_uri(), "http://localhost:8000/");
        e.headers
            .insert("host", http::HeaderValue::from_static("example.test"));
        e.script_name = b"/caf\xc3\xa9 bar".to_vec();
        assert_eq!(e.application_uri(), "http://example.test/caf%C3%A9%20bar");
        assert_eq!(
            e.request_uri(false),
            "http://example.test/caf%C3%A9%20bar/x"
        );
    }

    #[test]
    fn utf8_views_refuse_invalid_octets_only() {
        let e = environ("/%C3%A9/%00");
        assert_eq!(e.path_info_utf8(), Some("/é/\0"));
        assert_eq!(environ("/%C3").path_info_utf8(), None);
        assert_eq!(environ("/").script_name_utf8(), Some(""));
    }
}
