//! `POST /upload`: streams the `file` part of a multipart form to a temp file in the
//! upload directory, then publishes it under the client's name without overwriting.
//!
//! # Naming policy
//!
//! The saved name is the client's file name with surrounding spaces trimmed, and
//! nothing else changed: a name that would need more than that (a path, `..`, control
//! characters) is refused with 400 rather than silently rewritten, so a client never
//! finds its file under a name it did not choose, and an attack shows up as an error.
//!
//! Names are never overwritten. When `report.pdf` exists the file is saved as
//! `report (1).pdf`, then `report (2).pdf`, and so on (the number goes before the last
//! extension: `a.tar.gz` becomes `a.tar (1).gz`; a leading dot is not an extension).
//!
//! # Publishing
//!
//! The body is written to a hidden temp file (`.upload-<pid>-<n>.part`) in the upload directory
//! itself, so publishing never copies across filesystems. `std::fs::rename` would
//! replace an existing name on Unix, so the final name is claimed with
//! `std::fs::hard_link`, which fails atomically when the name exists; the temp name is
//! then removed. A reader of the directory sees either no file or the whole file. The
//! upload directory must be on a filesystem with hard links (any local POSIX one,
//! NTFS). Every failure removes the temp file, a panic included (a drop guard).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gateway_spec::Environ;
use thiserror::Error;

use super::multipart::{boundary_from_content_type, Multipart, MultipartError};

/// The form field that carries the file, as in the demo's HTML form.
pub const FILE_FIELD: &str = "file";

/// The longest file name accepted, in bytes: below the usual 255-byte limit of file
/// systems, leaving room for a ` (9999)` suffix.
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// How many numbered names are tried before giving up on a crowded name.
const MAX_SUFFIX: u32 = 9999;

/// Why a client's file name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileNameError {
    /// Empty, or only spaces: what browsers send when no file was chosen.
    #[error("the file name is empty; choose a file before submitting the form")]
    Empty,
    /// Not UTF-8.
    #[error("the file name is not valid UTF-8; rename the file and upload it again")]
    NotUtf8,
    /// `.` or `..`.
    #[error("the file name {0:?} names a directory; upload a file with a plain name")]
    DotName(String),
    /// A path rather than a name.
    #[error(
        "the file name {0:?} contains a path separator or drive colon (/, \\ or :); \
         send the bare file name, without directories"
    )]
    Path(String),
    /// NUL or another control character.
    #[error(
        "the file name {0:?} contains a control character; \
         rename the file with printable characters only"
    )]
    ControlCharacter(String),
    /// Too long.
    #[error("the file name is {len} bytes long; rename the file to at most {max} bytes")]
    TooLong {
        /// The length of the name sent.
        len: usize,
        /// [`MAX_FILE_NAME_BYTES`].
        max: usize,
    },
}

/// Why an upload did not complete.
#[derive(Debug, Error)]
pub enum UploadError {
    /// The Content-Length announced a body over the limit; nothing was read.
    #[error(
        "the request body is {length} bytes, over the {limit}-byte limit; send a smaller file"
    )]
    ContentLengthTooLarge {
        /// CONTENT_LENGTH.
        length: u64,
        /// The limit.
        limit: u64,
    },
    /// The body is not an acceptable multipart form, or was too large.
    #[error(transparent)]
    Multipart(#[from] MultipartError),
    /// The form has no `file` part.
    #[error("the form has no part named \"file\"; send the file in a field named \"file\"")]
    NoFilePart,
    /// The `file` part has no `filename` parameter: a plain field, not a file.
    #[error(
        "the \"file\" part has no filename; send it as a file input \
         (Content-Disposition: form-data; name=\"file\"; filename=\"...\")"
    )]
    NotAFile,
    /// The client's file name is not safe to use.
    #[error(transparent)]
    FileName(#[from] FileNameError),
    /// Writing to the upload directory failed: a server-side problem.
    #[error("could not {action} {path}: {source}; check the upload directory's permissions and free space")]
    Storage {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Every numbered variant of the name is taken.
    #[error("{MAX_SUFFIX} files named like {0:?} already exist; rename the file")]
    NamesExhausted(String),
}

impl UploadError {
    /// Whether this is the client's fault and deserves a 4xx answer, as opposed to a
    /// lost client or a server-side failure, which the app returns as an error.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            UploadError::Multipart(MultipartError::Io(_)) | UploadError::Storage { .. }
        )
    }

    /// Whether the request was refused for its size (413).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            UploadError::ContentLengthTooLarge { .. }
                | UploadError::Multipart(MultipartError::TooLarge { .. })
        )
    }
}

/// What a completed upload produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Where the file now is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The largest buffer the multipart parser held, in bytes.
    pub parser_buffer: usize,
}

/// The client's file name reduced to a safe base name: surrounding spaces trimmed,
/// anything that is not a plain name refused (see the module docs for why).
///
/// ```
/// use gateway_demo::upload::safe_file_name;
///
/// assert_eq!(safe_file_name(b" report.pdf ").unwrap(), "report.pdf");
/// assert!(safe_file_name(b"../etc/passwd").is_err());
/// assert!(safe_file_name(b"..").is_err());
/// ```
pub fn safe_file_name(raw: &[u8]) -> Result<String, FileNameError> {
    let name = std::str::from_utf8(raw).map_err(|_| FileNameError::NotUtf8)?;
    let name = name.trim_matches(' ');
    if name.is_empty() {
        return Err(FileNameError::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(FileNameError::ControlCharacter(name.to_owned()));
    }
    // `:` too: on Windows `C:x` is a path relative to drive C, and `a:b` an alternate
    // data stream.
    if name.contains(['/', '\\', ':']) {
        return Err(FileNameError::Path(name.to_owned()));
    }
    if name == "." || name == ".." {
        return Err(FileNameError::DotName(name.to_owned()));
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(FileNameError::TooLong {
            len: name.len(),
            max: MAX_FILE_NAME_BYTES,
        });
    }
    Ok(name.to_owned())
}

/// The `n`th name tried for `name`: itself, then `stem (n).ext`.
///
/// ```
/// use gateway_demo::upload::numbered_name;
///
/// assert_eq!(numbered_name("a.txt", 0), "a.txt");
/// assert_eq!(numbered_name("a.txt", 2), "a (2).txt");
/// assert_eq!(numbered_name(".env", 1), ".env (1)");
/// assert_eq!(numbered_name("README", 1), "README (1)");
/// ```
pub fn numbered_name(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{} ({n}){}", &name[..dot], &name[dot..]),
        _ => format!("{name} ({n})"),
    }
}

/// Runs one upload: checks the size and the form, streams the `file` part to a temp
/// file and publishes it. Only the first `file` part is saved; the rest of the body
/// is read to its end so a malformed tail is still refused.
pub(crate) fn receive(environ: &mut Environ, dir: &Path, limit: u64) -> Result<Saved, UploadError> {
    // Decide up front when the size is known, before reading a byte: the client's
    // `100 Continue` then never goes out and the body is never sent.
    if let Some(length) = environ.content_length.filter(|&n| n > limit) {
        return Err(UploadError::ContentLengthTooLarge { length, limit });
    }
    let content_type = environ
        .headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.as_bytes());
    let boundary = boundary_from_content_type(content_type)?;
    let mut form = Multipart::new(&mut environ.input, &boundary).with_body_limit(limit);
    let (name, mut temp) = loop {
        let part = form.next_part()?.ok_or(UploadError::NoFilePart)?;
        if part.name != FILE_FIELD {
            continue;
        }
        let raw = part.filename.ok_or(UploadError::NotAFile)?;
        // The name is judged before any byte is written, so a refused upload leaves
        // nothing behind.
        let name = safe_file_name(&raw)?;
        let mut temp = TempFile::create(dir)?;
        while let Some(chunk) = form.part_chunk()? {
            temp.write_all(chunk)?;
        }
        break (name, temp);
    };
    while form.next_part()?.is_some() {}
    let parser_buffer = form.buffer_capacity();
    let bytes = temp.finish()?;
    let path = temp.publish(dir, &name)?;
    Ok(Saved {
        path,
        bytes,
        parser_buffer,
    })
}

/// A temp file in the upload directory, removed on drop unless published.
struct TempFile {
    path: PathBuf,
    /// `None` once closed, so the drop guard can remove it (Windows refuses to remove
    /// an open file).
    file: Option<File>,
    published: bool,
}

impl TempFile {
    /// Creates the upload directory if missing, then a new temp file in it.
    fn create(dir: &Path) -> Result<Self, UploadError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(dir).map_err(|source| UploadError::Storage {
            action: "create the upload directory",
            path: dir.to_owned(),
            source,
        })?;
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".upload-{}-{n}.part", std::process::id()));
            // `create_new`: a leftover of another process, or a user file that happens
            // to have this name, is skipped, never truncated.
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file: Some(file),
                        published: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(UploadError::Storage {
                        action: "create a temp file",
                        path,
                        source,
                    })
                }
            }
        }
    }

    fn write_all(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        let file = self.file.as_mut().expect("written before finish");
        file.write_all(chunk)
            .map_err(|source| UploadError::Storage {
                action: "write",
                path: self.path.clone(),
                source,
            })
    }

    /// Flushes the data to disk and closes the file; returns its size. The sync comes
    /// before publishing so a crash never leaves a published name with partial data.
    fn finish(&mut self) -> Result<u64, UploadError> {
        let file = self.file.take().expect("finished once");
        let storage = |action, source| UploadError::Storage {
            action,
            path: self.path.clone(),
            source,
        };
        file.sync_all().map_err(|e| storage("sync", e))?;
        Ok(file.metadata().map_err(|e| storage("stat", e))?.len())
    }

    /// Links the temp file under the first free numbered variant of `name` and removes
    /// the temp name.
    fn publish(mut self, dir: &Path, name: &str) -> Result<PathBuf, UploadError> {
        for n in 0..=MAX_SUFFIX {
            let target = dir.join(numbered_name(name, n));
            match fs::hard_link(&self.path, &target) {
                Ok(()) => {
                    self.published = true;
                    // The file is safely published; a temp name that cannot be removed
                    // is only clutter, so it does not fail the upload.
                    let _ = fs::remove_file(&self.path);
                    return Ok(target);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(UploadError::Storage {
                        action: "publish the upload as",
                        path: target,
                        source,
                    })
                }
            }
        }
        Err(UploadError::NamesExhausted(name.to_owned()))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.published {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_names() {
        type Expected = fn(&FileNameError) -> bool;
        let cases: [(&[u8], Expected); 10] = [
            (b"../x", |e| matches!(e, FileNameError::Path(_))),
            (b"/etc/passwd", |e| matches!(e, FileNameError::Path(_))),
            (b"..\\x", |e| matches!(e, FileNameError::Path(_))),
            (b"C:x", |e| matches!(e, FileNameError::Path(_))),
            (b"a\0b", |e| matches!(e, FileNameError::ControlCharacter(_))),
            (b"a\x1bb", |e| {
                matches!(e, FileNameError::ControlCharacter(_))
            }),
            (b"  ", |e| *e == FileNameError::Empty),
            (b".", |e| matches!(e, FileNameError::DotName(_))),
            (b"..", |e| matches!(e, FileNameError::DotName(_))),
            (b"\xff.txt", |e| *e == FileNameError::NotUtf8),
        ];
        for (raw, expected) in cases {
            let err = safe_file_name(raw).unwrap_err();
            assert!(expected(&err), "{raw:?} gave {err:?}");
        }
        let long = "x".repeat(MAX_FILE_NAME_BYTES + 1);
        assert!(matches!(
            safe_file_name(long.as_bytes()),
            Err(FileNameError::TooLong { .. })
        ));
    }

    #[test]
    fn accepted_names_are_kept() {
        for name in ["a.txt", "..hidden", "résumé 2024.pdf", ".env", "a..b"] {
            assert_eq!(safe_file_name(name.as_bytes()).unwrap(), name);
        }
    }

    #[test]
    fn numbered_names_go_before_the_last_extension() {
        assert_eq!(numbered_name("a.tar.gz", 1), "a.tar (1).gz");
    }
}
