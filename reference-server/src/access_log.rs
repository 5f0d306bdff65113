//! The access log: one line per response in the combined log format, plus the
//! request's duration in microseconds. Error logs go through the `log` facade.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::date::common_log_time;

/// Where access log lines go.
#[derive(Debug, Default)]
pub enum AccessLog {
    /// No access log (the default: it costs a write per request).
    #[default]
    Off,
    /// Standard output.
    Stdout,
    /// A file, appended to.
    File(LogFile),
}

/// An access log file: its path, to open it again, and the open file.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    writer: Mutex<BufWriter<File>>,
}

fn open_for_append(path: &Path) -> io::Result<BufWriter<File>> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::new(file))
}

impl AccessLog {
    /// An access log appending to the file at `path`.
    pub fn file(path: &Path) -> io::Result<Self> {
        Ok(Self::File(LogFile {
            path: path.to_path_buf(),
            writer: Mutex::new(open_for_append(path)?),
        }))
    }

    /// Opens the log file again by its path, so that after logrotate renamed it the
    /// lines go to a new file of the old name (what SIGUSR1 does to `gateway-serve`).
    /// Lines written meanwhile go to the old file; none is lost. Nothing happens for
    /// stdout or no log.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened; the old one is kept and logging goes on.
    pub fn reopen(&self) -> io::Result<()> {
        if let AccessLog::File(file) = self {
            let fresh = open_for_append(&file.path)?;
            let mut writer = file.writer.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writer.flush();
            *writer = fresh;
        }
        Ok(())
    }

    /// Whether lines are written at all.
    pub fn is_on(&self) -> bool {
        !matches!(self, AccessLog::Off)
    }

    pub(crate) fn record(&self, entry: &AccessEntry<'_>) {
        if !self.is_on() {
            return;
        }
        let line = entry.line();
        let _ = match self {
            AccessLog::Off => Ok(()),
            AccessLog::Stdout => io::stdout().lock().write_all(line.as_bytes()),
            AccessLog::File(file) => {
                let mut file = file.writer.lock().unwrap_or_else(|e| e.into_inner());
                file.write_all(line.as_bytes()).and_then(|()| file.flush())
            }
        };
    }
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
    fn control_characters_cannot_split_a_line() {
        assert_eq!(escape("a\nb\r"), "a\\x0ab\\x0d");
    }
}
