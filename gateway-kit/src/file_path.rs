//! From `PATH_INFO` to a path relative to a served directory, refusing what could leave it
//! lexically (`..`, hidden names, `\`, NUL); symlinks are [`Files`](crate::Files)'s check.

use std::path::PathBuf;

use thiserror::Error;

/// Why a `PATH_INFO` maps to no file. Every refusal is answered 404, so a client
/// cannot tell a refused path from a missing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PathRefusal {
    /// The path does not start with `/` (the asterisk form, say).
    #[error("the path does not start with /")]
    NotAbsolute,
    /// The decoded path is not UTF-8, so it names no portable file.
    #[error("the path is not UTF-8")]
    NotUtf8,
    /// An empty segment (`//`) other than a trailing slash.
    #[error("the path has an empty segment (//)")]
    EmptySegment,
    /// A segment starting with `.`: `.`, `..` and hidden files such as `.git`.
    #[error("a segment starts with a dot (., .. or a hidden name)")]
    DotSegment,
    /// A segment with a character that separates or ends names on some system:
    /// `\`, `:` or NUL.
    #[error("a segment holds \\, : or NUL")]
    ForbiddenCharacter,
}

/// The file a `PATH_INFO` names, relative to the served directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativePath {
    /// The segments joined as a relative path; empty for the directory itself.
    pub path: PathBuf,
    /// Whether the path ended with `/`: a request for a directory. An empty path
    /// names the root without the slash.
    pub directory: bool,
}

/// Maps decoded `PATH_INFO` octets to a relative path of plain names, or refuses.
///
/// `%2e%2e` and `%2F` were decoded by the server (ENV-7), so they arrive as `..` and
/// `/` and are judged as such: a decoded slash separates segments, and a `..` made
/// of escapes is refused like a literal one.
///
/// ```
/// use gateway_kit::file_path::{relative_path, PathRefusal};
///
/// let mapped = relative_path(b"/css/site.css").unwrap();
/// assert_eq!(mapped.path, std::path::Path::new("css/site.css"));
/// assert!(!mapped.directory);
/// assert!(relative_path(b"/docs/").unwrap().directory);
/// assert_eq!(relative_path(b"/a/../b"), Err(PathRefusal::DotSegment));
/// assert_eq!(relative_path(b"/.env"), Err(PathRefusal::DotSegment));
/// assert_eq!(relative_path(b"/a\\..\\b"), Err(PathRefusal::ForbiddenCharacter));
/// ```
pub fn relative_path(path_info: &[u8]) -> Result<RelativePath, PathRefusal> {
    if path_info.is_empty() {
        // A mount point asked for exactly (`/static` under `Mount`): the directory,
        // without its slash, so `Files` redirects and relative links work.
        return Ok(RelativePath {
            path: PathBuf::new(),
            directory: false,
        });
    }
    let rest = path_info
        .strip_prefix(b"/")
        .ok_or(PathRefusal::NotAbsolute)?;
    let text = std::str::from_utf8(rest).map_err(|_| PathRefusal::NotUtf8)?;
    let mut path = PathBuf::new();
    if text.is_empty() {
        return Ok(RelativePath {
            path,
            directory: true,
        });
    }
    let (text, directory) = match text.strip_suffix('/') {
        Some(dir) => (dir, true),
        None => (text, false),
    };
    for segment in text.split('/') {
        check_segment(segment)?;
        path.push(segment);
    }
    Ok(RelativePath { path, directory })
}

fn check_segment(segment: &str) -> Result<(), PathRefusal> {
    if segment.is_empty() {
        return Err(PathRefusal::EmptySegment);
    }
    if segment.starts_with('.') {
        return Err(PathRefusal::DotSegment);
    }
    if segment.contains(['\\', ':', '\0']) {
        return Err(PathRefusal::ForbiddenCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_is_named() {
        let cases: &[(&[u8], PathRefusal)] = &[
            (b"x", PathRefusal::NotAbsolute),
            (b"*", PathRefusal::NotAbsolute),
            (b"/\xff", PathRefusal::NotUtf8),
            (b"/a//b", PathRefusal::EmptySegment),
            (b"//", PathRefusal::EmptySegment),
            (b"/..", PathRefusal::DotSegment),
            (b"/a/.", PathRefusal::DotSegment),
            (b"/a/./b", PathRefusal::DotSegment),
            (b"/.git/config", PathRefusal::DotSegment),
            (b"/a\0b", PathRefusal::ForbiddenCharacter),
            (b"/c:/x", PathRefusal::ForbiddenCharacter),
            (b"/..\\x", PathRefusal::DotSegment),
            (b"/x\\y", PathRefusal::ForbiddenCharacter),
        ];
        for (path, refusal) in cases {
            assert_eq!(
                relative_path(path),
                Err(*refusal),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn the_root_and_names_with_inner_dots_are_fine() {
        for (root, directory) in [(&b""[..], false), (b"/", true)] {
            let mapped = relative_path(root).unwrap();
            assert_eq!(mapped.path, PathBuf::new());
            assert_eq!(mapped.directory, directory);
        }
        let mapped = relative_path("/a.b/café..txt".as_bytes()).unwrap();
        assert_eq!(mapped.path, PathBuf::from("a.b").join("café..txt"));
    }
}
