//! The access log: one line per response, in the combined log format plus the
//! duration in microseconds (the default) or as JSON lines, to stdout, stderr or a file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::date::{common_log_time, rfc3339_time};

/// Where access log lines go, and in which format. The default is no log: it
/// costs a write per request.
///
/// ```
/// use reference_server::{AccessFormat, AccessLog};
///
/// let log = AccessLog::stderr().with_format(AccessFormat::Json);
/// assert!(log.is_on());
/// assert!(!AccessLog::off().is_on());
/// ```
#[derive(Debug, Default)]
pub struct AccessLog {
    sink: Sink,
    format: AccessFormat,
}

/// The format of an access log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessFormat {
    /// The combined log format, then the duration in microseconds.
    #[default]
    Combined,
    /// One JSON object per line: `time`, `remote_addr`, `method`, `target`,
    /// `protocol`, `status`, `bytes`, `duration_us`, `referer`, `user_agent`,
    /// `request_id`.
    Json,
}

#[derive(Debug, Default)]
enum Sink {
    #[default]
    Off,
    Stdout,
    Stderr,
    File(LogFile),
}

/// An access log file: its path, to open it again, and the open file.
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    writer: Mutex<BufWriter<File>>,
}

fn open_for_append(path: &Path) -> io::Result<BufWriter<File>> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::new(file))
}

impl AccessLog {
    /// No access log.
    pub fn off() -> Self {
        Self::default()
    }

    /// Lines to standard output.
    pub fn stdout() -> Self {
        Self {
            sink: Sink::Stdout,
            ..Self::default()
        }
    }

    /// Lines to standard error, beside the error log.
    pub fn stderr() -> Self {
        Self {
            sink: Sink::Stderr,
            ..Self::default()
        }
    }

    /// Lines appended to the file at `path`.
    pub fn file(path: &Path) -> io::Result<Self> {
        Ok(Self {
            sink: Sink::File(LogFile {
                path: path.to_path_buf(),
                writer: Mutex::new(open_for_append(path)?),
            }),
            ..Self::default()
        })
    }

    /// The same log, its lines in `format`.
    pub fn with_format(mut self, format: AccessFormat) -> Self {
        self.format = format;
        self
    }

    /// Opens the log file again by its path, so that after logrotate renamed it the
    /// lines go to a new file of the old name (what SIGUSR1 does to `gateway-serve`).
    /// Lines written meanwhile go to the old file; none is lost. Nothing happens for
    /// the standard streams or no log.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened; the old one is kept and logging goes on.
    pub fn reopen(&self) -> io::Result<()> {
        if let Sink::File(file) = &self.sink {
            let fresh = open_for_append(&file.path)?;
            let mut writer = file.writer.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writer.flush();
            *writer = fresh;
        }
        Ok(())
    }

    /// Whether lines are written at all.
    pub fn is_on(&self) -> bool {
        !matches!(self.sink, Sink::Off)
    }

    pub(crate) fn record(&self, entry: &AccessEntry<'_>) {
        if !self.is_on() {
            return;
        }
        let line = match self.format {
            AccessFormat::Combined => entry.line(),
            AccessFormat::Json => entry.json_line(),
        };
        let _ = match &self.sink {
            Sink::Off => Ok(()),
            Sink::Stdout => io::stdout().lock().write_all(line.as_bytes()),
            Sink::Stderr => io::stderr().lock().write_all(line.as_bytes()),
            Sink::File(file) => {
                let mut file = file.writer.lock().unwrap_or_else(|e| e.into_inner());
                file.write_all(line.as_bytes()).and_then(|()| file.flush())
            }
        };
    }
}

/// The request id a log line carries: the client's (or proxy's) `X-Request-Id`
/// when it is a sane token (visible ASCII, at most 200 bytes), else one made here:
/// a random prefix per process and a counter, unique in the process's life.
pub(crate) fn request_id(sent: Option<&[u8]>) -> String {
    if let Some(id) =
        sent.filter(|id| !id.is_empty() && id.len() <= 200 && id.iter().all(u8::is_ascii_graphic))
    {
        return String::from_utf8_lossy(id).into_owned();
    }
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = *PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish() as u32
    });
    format!("{prefix:08x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// What the access log says about one request.
pub(crate) struct AccessEntry<'a> {
    /// The client's address; `None` on a Unix socket (logged as `-`).
    pub(crate) peer: Option<std::net::IpAddr>,
    pub(crate) request_line: &'a str,
    pub(crate) status: Option<u16>,
    pub(crate) bytes: u64,
    pub(crate) referer: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) duration: Duration,
    pub(crate) request_id: &'a str,
}

impl AccessEntry<'_> {
    fn line(&self) -> String {
        let quoted = |v: Option<&str>| v.map_or_else(|| "-".to_owned(), escape);
        format!(
            "{} - - [{}] \"{}\" {} {} \"{}\" \"{}\" {}\n",
            self.peer
                .map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
            common_log_time(),
            escape(self.request_line),
            self.status
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            self.bytes,
            quoted(self.referer),
            quoted(self.user_agent),
            self.duration.as_micros()
        )
    }
}

impl AccessEntry<'_> {
    fn json_line(&self) -> String {
        let mut parts = self.request_line.splitn(3, ' ');
        let (method, target, protocol) = (parts.next(), parts.next(), parts.next());
        let mut line = serde_json::json!({
            "time": rfc3339_time(),
            "remote_addr": self.peer.map(|ip| ip.to_string()),
            "method": method,
            "target": target,
            "protocol": protocol,
            "status": self.status,
            "bytes": self.bytes,
            "duration_us": self.duration.as_micros() as u64,
            "referer": self.referer,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
        })
        .to_string();
        line.push('\n');
        line
    }
}

/// Keeps a log line on one line and its quotes balanced, whatever the client sent.
fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => format!("\\x{:02x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_format_with_duration() {
        let entry = AccessEntry {
            peer: Some("127.0.0.1".parse().unwrap()),
            request_line: "GET /a?b HTTP/1.1",
            status: Some(200),
            bytes: 13,
            referer: None,
            user_agent: Some("curl/8 \"quoted\""),
            duration: Duration::from_micros(1500),
            request_id: "r-1",
        };
        let line = entry.line();
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        assert!(
            line.ends_with("] \"GET /a?b HTTP/1.1\" 200 13 \"-\" \"curl/8 \\\"quoted\\\"\" 1500\n"),
            "{line}"
        );
    }

    #[test]
    fn reopen_starts_a_new_file_after_a_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = AccessLog::file(&path).unwrap();
        let entry = |line: &'static str| AccessEntry {
            peer: Some("127.0.0.1".parse().unwrap()),
            request_line: line,
            status: Some(200),
            bytes: 0,
            referer: None,
            user_agent: None,
            duration: Duration::ZERO,
            request_id: "r",
        };
        log.record(&entry("GET /before HTTP/1.1"));
        let rotated = dir.path().join("access.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        log.record(&entry("GET /between HTTP/1.1"));
        log.reopen().unwrap();
        log.record(&entry("GET /after HTTP/1.1"));
        let old = std::fs::read_to_string(&rotated).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert!(old.contains("/before") && old.contains("/between"), "{old}");
        assert!(new.contains("/after") && !new.contains("/before"), "{new}");
    }

    #[test]
    fn json_lines_carry_every_field_escaped_as_json() {
        let entry = AccessEntry {
            peer: None,
            request_line: "POST /a?b=\"c\" HTTP/1.1",
            status: None,
            bytes: 7,
            referer: Some("x\ny"),
            user_agent: None,
            duration: Duration::from_micros(42),
            request_id: "abc",
        };
        let line = entry.json_line();
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["method"], "POST");
        assert_eq!(v["target"], "/a?b=\"c\"");
        assert_eq!(v["protocol"], "HTTP/1.1");
        assert_eq!(v["status"], serde_json::Value::Null);
        assert_eq!(v["bytes"], 7);
        assert_eq!(v["duration_us"], 42);
        assert_eq!(v["referer"], "x\ny");
        assert_eq!(v["remote_addr"], serde_json::Value::Null);
        assert_eq!(v["request_id"], "abc");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn a_sane_request_id_is_kept_and_others_are_made_unique() {
        assert_eq!(request_id(Some(b"abc-123")), "abc-123");
        let made = [
            request_id(None),
            request_id(Some(b"has space")),
            request_id(Some(b"")),
        ];
        assert!(
            made.iter().all(|id| id.contains('-') && id.len() > 9),
            "{made:?}"
        );
        assert_ne!(made[0], made[1]);
        assert_ne!(request_id(Some(&[b'a'; 201])).len(), 201);
    }

    #[test]
    fn control_characters_cannot_split_a_line() {
        assert_eq!(escape("a\nb\r"), "a\\x0ab\\x0d");
    }
}
