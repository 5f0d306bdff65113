//! The errors stream (`wsgi.errors`): where an app writes diagnostics. The server
//! chooses the destination; this type only makes it shareable and line-safe.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// A shared, thread-safe text sink for an app's diagnostics (ERRS-1).
///
/// Each `write` goes to the destination under a lock, so lines written whole by
/// different threads do not interleave. Clones share the destination.
///
/// ```
/// use std::io::Write;
/// use gateway_spec::ErrorStream;
///
/// let (mut errors, captured) = ErrorStream::capture();
/// writeln!(errors, "cache miss for /users").unwrap();
/// assert_eq!(captured.contents(), "cache miss for /users\n");
/// ```
#[derive(Clone)]
pub struct ErrorStream {
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

/// The text captured by [`ErrorStream::capture`].
#[derive(Clone, Default)]
pub struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn contents(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

struct CaptureWriter(Captured);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.bytes.lock().unwrap_or_else(|e| e.into_inner());
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ErrorStream {
    /// An errors stream writing to `sink`.
    pub fn new(sink: impl Write + Send + 'static) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Box::new(sink))),
        }
    }

    /// An errors stream writing to the process's standard error (one stream
    /// shared by every caller, so that making one allocates nothing).
    pub fn stderr() -> Self {
        static STDERR: std::sync::OnceLock<ErrorStream> = std::sync::OnceLock::new();
        STDERR.get_or_init(|| Self::new(io::stderr())).clone()
    }

    /// An errors stream that keeps what it is given in memory, for tests.
    pub fn capture() -> (Self, Captured) {
        let captured = Captured::default();
        (Self::new(CaptureWriter(captured.clone())), captured)
    }
}

impl Write for ErrorStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A panic in another writer must not silence every later diagnostic.
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl Default for ErrorStream {
    fn default() -> Self {
        Self::stderr()
    }
}

impl fmt::Debug for ErrorStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorStream").finish_non_exhaustive()
    }
}
