//! The access log: one line per response in the combined log format, plus the
//! request's duration in microseconds. Error logs go through the `log` facade.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
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
    File(Mutex<BufWriter<File>>),
}

impl AccessLog {
    /// An access log appending to the file at `path`.
    pub fn file(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self::File(Mutex::new(BufWriter::new(file))))
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
                let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                file.write_all(line.as_bytes()).and_then(|()| file.flush())
            }
        };
    }
}

/// What the access log says about one request.
pub(crate) struct AccessEntry<'a> {
    pub(crate) peer: std::net::IpAddr,
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
            self.peer,
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
            peer: "127.0.0.1".parse().unwrap(),
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
    fn control_characters_cannot_split_a_line() {
        assert_eq!(escape("a\nb\r"), "a\\x0ab\\x0d");
    }
}
