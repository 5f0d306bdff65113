//! [`Mount`]: one app per path prefix (Rack's `URLMap`), moving the prefix from `PATH_INFO`
//! to `SCRIPT_NAME` (URL-4); it matches paths only, not hosts or methods.

use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::StatusCode;

/// An app that dispatches each request to the app mounted at the longest prefix
/// of its `PATH_INFO`, on whole segments, and answers 404 when no prefix matches.
///
/// For a prefix `/api` and `PATH_INFO` `/api/items`, the mounted app sees
/// `SCRIPT_NAME` grown by `/api` and `PATH_INFO` `/items`; for `/api` exactly,
/// `PATH_INFO` is empty. `/apix` does not match `/api`. The prefix is compared
/// with the decoded path, so `/api%2Fitems` matches too (ENV-7); `script_name`
/// followed by `path_info` is never changed (ENV-6, URL-4).
///
/// ```
/// use gateway_kit::Mount;
/// use gateway_spec::testing::TestClient;
/// use gateway_spec::{AppError, Body, Environ, StartResponse};
/// use http::StatusCode;
///
/// fn show_paths(environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
///     let paths = format!("{} {}", environ.script_name_str(), environ.path_info_str());
///     Ok(start_response.text(StatusCode::OK, paths)?)
/// }
///
/// let client = TestClient::new(Mount::new().at("/api", show_paths).at("/api/v2", show_paths));
/// assert_eq!(client.get("/api/items").send().body, "/api /items");
/// assert_eq!(client.get("/api/v2/items").send().body, "/api/v2 /items");
/// assert_eq!(client.get("/api").send().body, "/api ");
/// assert_eq!(client.get("/apix").send().status, StatusCode::NOT_FOUND);
/// ```
#[derive(Default)]
pub struct Mount {
    /// Longest prefix first, so the first match is the longest one.
    routes: Vec<(Vec<u8>, Box<dyn App>)>,
}

impl Mount {
    /// A mount with no apps: every request gets 404.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mounts `app` at `prefix`, replacing an app mounted at the same prefix.
    /// The prefix is decoded text as it appears in `PATH_INFO`; a missing leading
    /// `/` is added and trailing ones are dropped, so `api/`, `/api/` and `/api` are
    /// one prefix. `""` or `/` mounts at the root: it takes every path no longer
    /// prefix matched, and the app sees `PATH_INFO` unchanged.
    ///
    /// ```
    /// use gateway_kit::Mount;
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::StatusCode;
    ///
    /// let home = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     Ok(start_response.text(StatusCode::OK, "home")?)
    /// };
    /// let client = TestClient::new(Mount::new().at("/", home));
    /// assert_eq!(client.get("/anything").send().body, "home");
    /// ```
    pub fn at(mut self, prefix: &str, app: impl App) -> Self {
        let prefix = normalise_prefix(prefix);
        self.routes.retain(|(existing, _)| *existing != prefix);
        self.routes.push((prefix, Box::new(app)));
        self.routes
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        self
    }

    /// The prefixes mounted, longest first.
    ///
    /// ```
    /// use gateway_kit::Mount;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    ///
    /// fn app(_: Environ, _: StartResponse) -> Result<Body, AppError> { Ok(Body::empty()) }
    /// let mount = Mount::new().at("/a", app).at("b/", app).at("/", app);
    /// assert_eq!(mount.prefixes(), ["/a", "/b", ""]);
    /// ```
    pub fn prefixes(&self) -> Vec<String> {
        self.routes
            .iter()
            .map(|(prefix, _)| String::from_utf8_lossy(prefix).into_owned())
            .collect()
    }
}

fn normalise_prefix(prefix: &str) -> Vec<u8> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    let mut normal = Vec::with_capacity(trimmed.len() + 1);
    if !trimmed.starts_with('/') {
        normal.push(b'/');
    }
    normal.extend_from_slice(trimmed.as_bytes());
    normal
}

/// Whether `prefix` matches `path` on whole segments: equal, or followed by `/`.
/// The empty prefix matches every path.
pub fn prefix_matches(prefix: &[u8], path: &[u8]) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.is_empty() || rest.is_empty() || rest[0] == b'/',
        None => false,
    }
}

/// Moves `prefix`, which must match (see [`prefix_matches`]), from the start of
/// `path_info` to the end of `script_name`.
///
/// ```
/// use gateway_kit::mount::move_prefix;
/// use gateway_spec::Environ;
/// use http::Method;
///
/// let mut environ = Environ::new(Method::GET, "/shop/cart").unwrap();
/// move_prefix(&mut environ, b"/shop");
/// assert_eq!((environ.script_name_str(), environ.path_info_str()), ("/shop".into(), "/cart".into()));
/// ```
pub fn move_prefix(environ: &mut Environ, prefix: &[u8]) {
    debug_assert!(prefix_matches(prefix, &environ.path_info));
    let rest = environ.path_info.split_off(prefix.len());
    let moved = std::mem::replace(&mut environ.path_info, rest);
    environ.script_name.extend_from_slice(&moved);
}

impl App for Mount {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        let found = self
            .routes
            .iter()
            .find(|(prefix, _)| prefix_matches(prefix, &environ.path_info));
        match found {
            Some((prefix, app)) => {
                move_prefix(&mut environ, prefix);
                app.call(environ, start_response)
            }
            None => Ok(start_response.text(StatusCode::NOT_FOUND, "Not Found\n")?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments_only() {
        assert!(prefix_matches(b"/api", b"/api"));
        assert!(prefix_matches(b"/api", b"/api/"));
        assert!(prefix_matches(b"/api", b"/api/x"));
        assert!(!prefix_matches(b"/api", b"/apix"));
        assert!(!prefix_matches(b"/api", b"/ap"));
        assert!(!prefix_matches(b"/api", b""));
        assert!(prefix_matches(b"", b""));
        assert!(prefix_matches(b"", b"*"));
    }

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(normalise_prefix("api//"), b"/api");
        assert_eq!(normalise_prefix("/"), b"");
        assert_eq!(normalise_prefix(""), b"");
        assert_eq!(normalise_prefix("/a/b"), b"/a/b");
    }
}
