//! Conditional requests (RFC 9110 §13) against one file's `ETag` and `Last-Modified`:
//! it decides 304, 412 or whether `If-Range` allows a range, and builds no response.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE};
use http::{HeaderMap, Method};

/// The validators of one file: a strong entity tag and the modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The entity tag with its quotes, as sent in `ETag`.
    pub etag: String,
    /// The modification time, cut to whole seconds (HTTP dates have no finer
    /// grain, so comparisons use the same).
    pub modified: SystemTime,
}

/// What the preconditions say to do (RFC 9110 §13.2.2, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Send the representation (or the part a `Range` asks for).
    Proceed,
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
    /// `412 Precondition Failed`: `If-Match` or `If-Unmodified-Since` failed.
    Failed,
}

impl Validators {
    /// The validators of a file of `len` bytes modified at `modified`. The tag is
    /// strong and made of the time (to the nanosecond) and the length, as nginx's.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use gateway_kit::conditional::Validators;
    ///
    /// let v = Validators::new(UNIX_EPOCH + Duration::new(1_700_000_000, 5), 42);
    /// assert_eq!(v.etag, "\"6553f100.5-2a\"");
    /// assert_eq!(v.last_modified(), "Tue, 14 Nov 2023 22:13:20 GMT");
    /// ```
    pub fn new(modified: SystemTime, len: u64) -> Self {
        let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            etag: format!(
                "\"{:x}.{:x}-{len:x}\"",
                since.as_secs(),
                since.subsec_nanos()
            ),
            modified: UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        }
    }

    /// The `Last-Modified` value.
    pub fn last_modified(&self) -> String {
        httpdate::fmt_http_date(self.modified)
    }

    /// Evaluates the preconditions of a request with `method` and `headers`.
    ///
    /// ```
    /// use std::time::UNIX_EPOCH;
    /// use gateway_kit::conditional::{Precondition, Validators};
    /// use http::{HeaderMap, HeaderValue, Method};
    ///
    /// let v = Validators::new(UNIX_EPOCH, 1);
    /// let mut headers = HeaderMap::new();
    /// headers.insert("if-none-match", HeaderValue::from_str(&v.etag).unwrap());
    /// assert_eq!(v.precondition(&Method::GET, &headers), Precondition::NotModified);
    /// headers.insert("if-match", HeaderValue::from_static("\"other\""));
    /// assert_eq!(v.precondition(&Method::GET, &headers), Precondition::Failed);
    /// ```
    pub fn precondition(&self, method: &Method, headers: &HeaderMap) -> Precondition {
        let safe = method == Method::GET || method == Method::HEAD;
        if let Some(value) = joined(headers, &IF_MATCH) {
            if !tag_list_matches(&value, &self.etag, true) {
                return Precondition::Failed;
            }
        } else if let Some(date) = date(headers, &IF_UNMODIFIED_SINCE) {
            if self.modified > date {
                return Precondition::Failed;
            }
        }
        if let Some(value) = joined(headers, &IF_NONE_MATCH) {
            if tag_list_matches(&value, &self.etag, false) {
                return if safe {
                    Precondition::NotModified
                } else {
                    Precondition::Failed
                };
            }
        } else if let Some(date) = date(headers, &IF_MODIFIED_SINCE) {
            if safe && self.modified <= date {
                return Precondition::NotModified;
            }
        }
        Precondition::Proceed
    }

    /// Whether a `Range` may be honoured: true without `If-Range`, or when it names
    /// this file's tag (strong comparison) or exactly its `Last-Modified` date.
    ///
    /// ```
    /// use std::time::UNIX_EPOCH;
    /// use gateway_kit::conditional::Validators;
    /// use http::{HeaderMap, HeaderValue};
    ///
    /// let v = Validators::new(UNIX_EPOCH, 1);
    /// let mut headers = HeaderMap::new();
    /// assert!(v.range_allowed(&headers));
    /// headers.insert("if-range", HeaderValue::from_static("\"stale\""));
    /// assert!(!v.range_allowed(&headers));
    /// ```
    pub fn range_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(IF_RANGE).and_then(|v| v.to_str().ok()) else {
            return true;
        };
        let value = value.trim();
        if value.starts_with('"') || value.starts_with("W/") {
            return value == self.etag;
        }
        httpdate::parse_http_date(value).is_ok_and(|date| date == self.modified)
    }
}

fn joined(headers: &HeaderMap, name: &http::HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Vec<&str> = values.filter_map(|v| v.to_str().ok()).collect();
    Some(parts.join(","))
}

fn date(headers: &HeaderMap, name: &http::HeaderName) -> Option<SystemTime> {
    let value = headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

/// Whether a list of entity tags (or `*`) names `etag`. Strong comparison refuses
/// weak tags; weak comparison ignores the `W/` prefix.
fn tag_list_matches(list: &str, etag: &str, strong: bool) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        match tag.strip_prefix("W/") {
            Some(weak) => !strong && weak == etag,
            None => tag == etag,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn v() -> Validators {
        Validators::new(UNIX_EPOCH + Duration::from_secs(1_000_000), 10)
    }

    fn with(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let v = v();
        for value in [
            format!("\"x\", {}", v.etag),
            format!("W/{}", v.etag),
            "*".to_owned(),
        ] {
            let headers = with(&[("if-none-match", value.clone())]);
            assert_eq!(
                v.precondition(&Method::GET, &headers),
                Precondition::NotModified,
                "{value}"
            );
        }
        let headers = with(&[("if-none-match", "\"x\"".into())]);
        assert_eq!(
            v.precondition(&Method::HEAD, &headers),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let v = v();
        let headers = with(&[
            ("if-none-match", "\"other\"".into()),
            ("if-modified-since", v.last_modified()),
        ]);
        assert_eq!(
            v.precondition(&Method::GET, &headers),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_modified_since_compares_whole_seconds() {
        let v = v();
        let same = with(&[("if-modified-since", v.last_modified())]);
        assert_eq!(
            v.precondition(&Method::GET, &same),
            Precondition::NotModified
        );
        let earlier = httpdate::fmt_http_date(v.modified - Duration::from_secs(1));
        let earlier = with(&[("if-modified-since", earlier)]);
        assert_eq!(
            v.precondition(&Method::GET, &earlier),
            Precondition::Proceed
        );
        let garbage = with(&[("if-modified-since", "yesterday".into())]);
        assert_eq!(
            v.precondition(&Method::GET, &garbage),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_match_is_strong_and_if_unmodified_since_fails_on_newer_files() {
        let v = v();
        let weak = with(&[("if-match", format!("W/{}", v.etag))]);
        assert_eq!(v.precondition(&Method::GET, &weak), Precondition::Failed);
        let strong = with(&[("if-match", v.etag.clone())]);
        assert_eq!(v.precondition(&Method::GET, &strong), Precondition::Proceed);
        let older = httpdate::fmt_http_date(v.modified - Duration::from_secs(60));
        let older = with(&[("if-unmodified-since", older)]);
        assert_eq!(v.precondition(&Method::GET, &older), Precondition::Failed);
    }

    #[test]
    fn if_range_with_the_date_or_tag_allows_the_range() {
        let v = v();
        assert!(v.range_allowed(&with(&[("if-range", v.last_modified())])));
        assert!(v.range_allowed(&with(&[("if-range", v.etag.clone())])));
        assert!(!v.range_allowed(&with(&[("if-range", format!("W/{}", v.etag))])));
        let other = httpdate::fmt_http_date(v.modified + Duration::from_secs(1));
        assert!(!v.range_allowed(&with(&[("if-range", other)])));
    }
}
