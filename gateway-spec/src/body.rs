//! The response body: a stream of `Bytes` chunks with an optional known length and a
//! close hook that runs exactly once on every path. It does not frame or send bytes.

use std::fmt;
use std::fs::File;
use std::io::Read;

use bytes::Bytes;

use crate::AppError;

/// The chunks of a body produced lazily, like a Python generator.
type ChunkIter = Box<dyn Iterator<Item = Result<Bytes, AppError>> + Send>;

/// A close hook, run once when the body is closed (BODY-3).
type CloseHook = Box<dyn FnOnce() + Send>;

/// Size of the reads a server makes when it falls back from the file fast path.
const FILE_READ_CHUNK: usize = 64 * 1024;

enum Source {
    Empty,
    Once(Bytes),
    Iter(ChunkIter),
    File { file: File, remaining: u64 },
}

/// The response body an [`App`](crate::App) returns: chunks of bytes, produced on
/// demand, and a close that runs on every path.
///
/// A server iterates the body ([`Body::next_chunk`] or `Iterator`), then calls
/// [`Body::close`]. If the body is dropped instead (a panic, a client that went
/// away), `Drop` runs the close hooks, so they run exactly once whatever happens.
///
/// ```
/// use gateway_spec::Body;
/// use bytes::Bytes;
///
/// let mut body = Body::from("Hello, World!");
/// assert_eq!(body.len(), Some(13));
/// assert_eq!(body.next_chunk().unwrap().unwrap(), Bytes::from("Hello, World!"));
/// assert!(body.next_chunk().is_none());
/// body.close();
/// ```
pub struct Body {
    source: Source,
    known_len: Option<u64>,
    on_close: Vec<CloseHook>,
    closed: bool,
}

impl Body {
    /// A body with no bytes; its known length is 0.
    pub fn empty() -> Self {
        Self::with_source(Source::Empty, Some(0))
    }

    /// A body of one chunk, whose length is known.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let len = bytes.len() as u64;
        Self::with_source(Source::Once(bytes), Some(len))
    }

    /// A body produced chunk by chunk from anything that converts to `Bytes`
    /// (`&'static str`, `String`, `Vec<u8>`, `Bytes`), pulled lazily, of unknown
    /// length (servers frame it chunked on HTTP/1.1). For chunks that can fail, use
    /// [`Body::try_from_chunks`].
    ///
    /// ```
    /// use gateway_spec::Body;
    ///
    /// let body = Body::from_chunks((1..=3).map(|n| format!("part {n}\n")));
    /// assert_eq!(body.len(), None);
    /// let bytes: Vec<_> = body.map(|chunk| chunk.unwrap()).collect();
    /// assert_eq!(bytes.concat(), b"part 1\npart 2\npart 3\n");
    /// ```
    pub fn from_chunks<I>(chunks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
        I::IntoIter: Send + 'static,
    {
        Self::try_from_chunks(chunks.into_iter().map(|chunk| Ok(chunk.into())))
    }

    /// A body produced chunk by chunk where a chunk may fail: an `Err` ends the
    /// response as an app failure (BODY-10). The iterator may call a moved-in
    /// [`StartResponse`](crate::StartResponse) at its first step, as a Python
    /// generator may.
    ///
    /// Note that a `Body` is itself such an iterator: wrapping one in another loses
    /// its known length; wrap the chunks, or call [`Body::with_len`].
    ///
    /// ```
    /// use gateway_spec::{AppError, Body};
    ///
    /// let lines = ["ok", "broken"].into_iter().map(|line| -> Result<&str, AppError> {
    ///     if line == "broken" { Err("the source failed".into()) } else { Ok(line) }
    /// });
    /// let mut body = Body::try_from_chunks(lines);
    /// assert_eq!(body.next_chunk().unwrap().unwrap(), "ok");
    /// assert!(body.next_chunk().unwrap().is_err());
    /// ```
    pub fn try_from_chunks<I, B>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Result<B, AppError>>,
        I::IntoIter: Send + 'static,
        B: Into<Bytes>,
    {
        let chunks = chunks.into_iter().map(|chunk| chunk.map(Into::into));
        Self::with_source(Source::Iter(Box::new(chunks)), None)
    }

    /// The first form of [`Body::try_from_chunks`], kept so that older apps still
    /// build: items must be `Result<Bytes, AppError>`, and its name shadows
    /// [`FromIterator::from_iter`], which `collect::<Body>()` uses to gather chunks
    /// eagerly into a body of known length. Use [`Body::from_chunks`] or
    /// [`Body::try_from_chunks`].
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use gateway_spec::Body;
    /// use bytes::Bytes;
    ///
    /// let body = Body::from_iter([Ok(Bytes::from("a")), Ok(Bytes::from("b"))]);
    /// assert_eq!(body.len(), None);
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "use Body::try_from_chunks (or Body::from_chunks for chunks that cannot fail)"
    )]
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter<I>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Result<Bytes, AppError>>,
        I::IntoIter: Send + 'static,
    {
        Self::try_from_chunks(chunks)
    }

    /// Bytes `offset .. offset + len` of `file` on the file fast path: a `Range`
    /// answer. The file is positioned at `offset`; the known length is `len`, or
    /// what is left of the file after `offset` if that is less. A server's fast path
    /// sends the length [`Body::file_parts`] reports, from the current position.
    ///
    /// Fails when the file cannot be positioned or its metadata cannot be read.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway_spec::Body;
    ///
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"0123456789")?;
    /// let body = Body::file_range(file, 2, 3)?;
    /// assert_eq!(body.len(), Some(3));
    /// let bytes: Vec<_> = body.map(|chunk| chunk.unwrap()).collect();
    /// assert_eq!(bytes.concat(), b"234");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file_range(mut file: File, offset: u64, len: u64) -> std::io::Result<Self> {
        use std::io::{Seek, SeekFrom};
        let size = file.metadata()?.len();
        file.seek(SeekFrom::Start(offset))?;
        let remaining = len.min(size.saturating_sub(offset));
        Ok(Self::with_source(
            Source::File { file, remaining },
            Some(remaining),
        ))
    }

    /// The file fast path (like `wsgi.file_wrapper`): the whole rest of `file` from
    /// its current position. A server may send it with `sendfile` or plain reads; the
    /// bytes on the wire are the same (FILE-1).
    ///
    /// Fails when the file's metadata cannot be read.
    pub fn file(mut file: File) -> std::io::Result<Self> {
        use std::io::Seek;
        let len = file.metadata()?.len();
        let position = file.stream_position()?;
        let remaining = len.saturating_sub(position);
        Ok(Self::with_source(
            Source::File { file, remaining },
            Some(remaining),
        ))
    }

    fn with_source(source: Source, known_len: Option<u64>) -> Self {
        Self {
            source,
            known_len,
            on_close: Vec::new(),
            closed: false,
        }
    }

    /// Declares the body's length in bytes. The server then frames it with that
    /// Content-Length (unless the app set one); a body that disagrees is cut or ends
    /// the connection (FRAME-4, FRAME-5).
    pub fn with_len(mut self, len: u64) -> Self {
        self.known_len = Some(len);
        self
    }

    /// Adds a hook that runs once when the body is closed, whatever the path: normal
    /// end, error, panic or a client that went away (BODY-3). Hooks run in the
    /// order they were added.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use gateway_spec::Body;
    ///
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let flag = closed.clone();
    /// let body = Body::from("bye").on_close(move || flag.store(true, Ordering::SeqCst));
    /// drop(body); // a server that gave up still closes it
    /// assert!(closed.load(Ordering::SeqCst));
    /// ```
    pub fn on_close(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_close.push(Box::new(hook));
        self
    }

    /// The body's length, when known before iteration.
    pub fn len(&self) -> Option<u64> {
        self.known_len
    }

    /// Whether the body is known to be empty before iteration.
    pub fn is_empty(&self) -> bool {
        self.known_len == Some(0)
    }

    /// Whether this body is the file fast path.
    pub fn is_file(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }

    /// For servers: the file behind the fast path and the number of bytes to send
    /// from its current position, or `None` for other bodies. A server that sends the
    /// file itself must not call [`Body::next_chunk`] afterwards. The exchange does
    /// so through [`Output::send_file`](crate::exchange::Output::send_file), when the
    /// server's output has a zero-copy path.
    pub fn file_parts(&mut self) -> Option<(&mut File, u64)> {
        match &mut self.source {
            Source::File { file, remaining } => Some((file, *remaining)),
            _ => None,
        }
    }

    /// The next chunk, `None` at the end. Empty chunks may appear; they carry no
    /// bytes and do not send the headers (START-11).
    pub fn next_chunk(&mut self) -> Option<Result<Bytes, AppError>> {
        if self.closed {
            return None;
        }
        match &mut self.source {
            Source::Empty => None,
            Source::Once(_) => match std::mem::replace(&mut self.source, Source::Empty) {
                Source::Once(bytes) => Some(Ok(bytes)),
                _ => None,
            },
            Source::Iter(chunks) => chunks.next(),
            Source::File { file, remaining } => read_file_chunk(file, remaining),
        }
    }

    /// Closes the body: runs the close hooks once. Later calls, and the drop that
    /// follows, do nothing.
    pub fn close(mut self) {
        self.run_close_hooks();
    }

    /// Whether [`Body::close`] already ran.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn run_close_hooks(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        // Release what the source holds (an input stream, a file) before the hooks,
        // so a hook sees the resources already gone.
        self.source = Source::Empty;
        for hook in self.on_close.drain(..) {
            hook();
        }
    }
}

fn read_file_chunk(file: &mut File, remaining: &mut u64) -> Option<Result<Bytes, AppError>> {
    if *remaining == 0 {
        return None;
    }
    let want = (*remaining).min(FILE_READ_CHUNK as u64) as usize;
    let mut buf = vec![0; want];
    match file.read(&mut buf) {
        // The file shrank under us: end the body; the framing layer notices the
        // shortfall against the known length and closes the connection.
        Ok(0) => {
            *remaining = 0;
            None
        }
        Ok(n) => {
            buf.truncate(n);
            *remaining -= n as u64;
            Some(Ok(Bytes::from(buf)))
        }
        Err(e) => Some(Err(Box::new(e))),
    }
}

impl Iterator for Body {
    type Item = Result<Bytes, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk()
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.run_close_hooks();
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.source {
            Source::Empty => "empty",
            Source::Once(_) => "bytes",
            Source::Iter(_) => "iterator",
            Source::File { .. } => "file",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("len", &self.known_len)
            .field("closed", &self.closed)
            .finish()
    }
}

/// Gathers the chunks at once into a body of known length, so `collect::<Body>()`
/// works on anything that yields `&'static str`, `String`, `Vec<u8>` or `Bytes`.
/// For a lazily pulled body, use [`Body::from_chunks`].
///
/// ```
/// use gateway_spec::Body;
///
/// let body: Body = ["Hello", ", ", "World!"].into_iter().collect();
/// assert_eq!(body.len(), Some(13));
/// ```
impl<B: Into<Bytes>> FromIterator<B> for Body {
    fn from_iter<I: IntoIterator<Item = B>>(chunks: I) -> Self {
        let chunks: Vec<Bytes> = chunks.into_iter().map(Into::into).collect();
        let len = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        Self::from_chunks(chunks).with_len(len)
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from_bytes(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::from_bytes(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Self::from_bytes(Bytes::from_static(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn counter() -> (Arc<AtomicUsize>, impl FnOnce() + Send + 'static) {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        (count, move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn close_runs_once_when_closed_then_dropped() {
        let (count, hook) = counter();
        let body = Body::from("x").on_close(hook);
        body.close();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn close_runs_when_dropped_during_a_panic() {
        let (count, hook) = counter();
        let body = Body::from("x").on_close(hook);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _held = body;
            panic!("app failed mid-body");
        }));
        assert!(result.is_err());
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn closed_body_yields_nothing_more() {
        let mut body = Body::from_chunks(std::iter::repeat_with(|| "a"));
        assert!(body.next_chunk().is_some());
        body.run_close_hooks();
        assert!(body.next_chunk().is_none());
    }

    #[test]
    fn file_body_reads_from_current_position() {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        file.seek(SeekFrom::Start(4)).unwrap();
        let body = Body::file(file).unwrap();
        assert_eq!(body.len(), Some(6));
        assert!(body.is_file());
        let bytes: Vec<Bytes> = body.map(Result::unwrap).collect();
        assert_eq!(bytes.concat(), b"456789");
    }

    #[test]
    fn with_len_declares_length_of_an_iterator_body() {
        let body = Body::from_chunks(["ab", "c"]).with_len(3);
        assert_eq!(body.len(), Some(3));
        assert!(!body.is_empty());
        assert!(Body::empty().is_empty());
    }

    #[test]
    fn collect_gathers_chunks_into_a_known_length() {
        let body: Body = vec![String::from("ab"), String::from("cde")]
            .into_iter()
            .collect();
        assert_eq!(body.len(), Some(5));
        let bytes: Vec<Bytes> = body.map(Result::unwrap).collect();
        assert_eq!(bytes.concat(), b"abcde");
    }

    #[test]
    fn file_range_past_the_end_is_cut_to_the_file() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let mut body = Body::file_range(file, 8, 100).unwrap();
        assert_eq!(body.len(), Some(2));
        assert_eq!(body.file_parts().map(|(_, n)| n), Some(2));
        let bytes: Vec<Bytes> = body.map(Result::unwrap).collect();
        assert_eq!(bytes.concat(), b"89");
    }
}
