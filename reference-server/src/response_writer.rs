//! The response on the wire: the status line and headers, then the body framed as
//! the exchange chose (Content-Length, chunked, close-delimited). Writes never wait:
//! what the socket does not take stays here, and the exchange pauses; a file body
//! goes from the file to the socket (`file_send`), none of it held here. It decides
//! no framing itself; `gateway_spec::exchange` does, by SPEC.md's FRAME rules.

use crate::connection::Stream;
use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gateway_spec::exchange::{Output, SendFileError};
use gateway_spec::framing::Framing;
use gateway_spec::ResponseHead;
use http::{StatusCode, Version};

use crate::config::SERVER_SOFTWARE;
use crate::connection::Connection;
use crate::date::with_http_date;
use crate::file_send;
use crate::http1::{encode_response_head, DefaultHeaders};
use crate::request_body::{lock, BodyState};
use crate::shared::Shared;
use crate::socket_wait;

/// Chunks up to this size are copied next to their framing; larger ones go out
/// beside it in the same vectored write, without the copy. Either way one write.
const COALESCE_LIMIT: usize = 1024;

/// Responses to pipelined requests wait in the buffer, up to this many bytes, for
/// the next response to join them: a batch of small responses then leaves in one
/// write, as from a server that writes once per batch of requests read.
const HOLD_LIMIT: usize = 16 * 1024;

/// `MSG_MORE`, as socket2's flags take it.
const MORE: i32 = rustix::net::SendFlags::MORE.bits() as i32;

/// Writes one response to a connection.
#[derive(Debug)]
pub(crate) struct WireOutput {
    stream: Arc<Stream>,
    version: Version,
    /// Whether the connection will close after this response, as far as known
    /// when the head is written.
    close: bool,
    /// Set when a graceful stop was asked for: responses from then on close (SRV-8).
    stop_requested: Arc<AtomicBool>,
    server_header: bool,
    /// The request body, to learn at head time whether it can still be read.
    body: Arc<std::sync::Mutex<BodyState>>,
    /// The drain bound: more unread body than this closes the connection.
    drain_bytes: u64,
    /// How long a write may make no progress.
    write_timeout: Duration,
    /// Bytes not yet written: the head until the first body bytes join it, or what
    /// the socket did not take (at most one chunk and its framing).
    pending: Vec<u8>,
    /// A write found the socket full, and `pending` holds what it left.
    blocked: bool,
    /// A file send found the socket full: nothing waits in `pending`, but the
    /// socket must drain before the file's next bytes go (LIMIT-16).
    socket_full: bool,
    /// Bytes the socket took, head and framing included.
    pub(crate) written: u64,
    /// Whether the body goes out chunked.
    chunked: bool,
    /// Whether the head announced `Connection: close`.
    pub(crate) announced_close: bool,
    /// The client pipelined more requests behind this one: writes are marked
    /// `MSG_MORE`, so that a batch of responses leaves in full segments, as one
    /// write would send them; the batch's last write, or the worker's flush when the
    /// batch ends otherwise, pushes them out.
    more_follows: bool,
    /// The whole response waits in `pending` for the next one (see [`HOLD_LIMIT`]):
    /// the next response's output starts with these bytes.
    holding: bool,
}

impl WireOutput {
    pub(crate) fn new(
        stream: Arc<Stream>,
        version: Version,
        close: bool,
        shared: &Shared,
        body: Arc<std::sync::Mutex<BodyState>>,
        buffer: Vec<u8>,
        more_follows: bool,
    ) -> Self {
        Self {
            stream,
            version,
            close,
            stop_requested: shared.stop_requested.clone(),
            server_header: shared.config.server_header,
            body,
            drain_bytes: shared.config.drain_bytes,
            write_timeout: shared.config.write_timeout,
            pending: buffer,
            blocked: false,
            socket_full: false,
            written: 0,
            chunked: false,
            announced_close: false,
            more_follows,
            holding: false,
        }
    }

    /// The write buffer for the next response on the connection: empty, or the
    /// responses held for it to write with its own.
    pub(crate) fn into_buffer(mut self) -> Vec<u8> {
        if !self.holding {
            self.pending.clear();
        }
        std::mem::take(&mut self.pending)
    }

    /// Whether what is pending may wait for the next response instead of a write
    /// now: the worker serves the next pipelined request at once (it is complete in
    /// the buffer), this one does not close the connection, nothing waits for the
    /// socket, and the batch is still small.
    fn may_hold(&self) -> bool {
        self.more_follows
            && !self.announced_close
            && !self.blocked
            && !self.socket_full
            && self.pending.len() <= HOLD_LIMIT
    }

    /// Writes what is pending, then `extra`, as far as the socket takes them now
    /// (one vectored write in the common case), and keeps the rest in `pending`.
    fn write_now(&mut self, extra: [&[u8]; 2]) -> io::Result<()> {
        let mut written = 0;
        {
            let mut slices = [
                IoSlice::new(&self.pending),
                IoSlice::new(extra[0]),
                IoSlice::new(extra[1]),
            ];
            let mut left = &mut slices[..];
            IoSlice::advance_slices(&mut left, 0);
            while !left.is_empty() {
                let sent = if self.more_follows {
                    self.stream.send_vectored_with_flags(left, MORE)
                } else {
                    (&*self.stream).write_vectored(left)
                };
                match sent {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        written += n;
                        IoSlice::advance_slices(&mut left, n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.written += written as u64;
        // What the socket did not take is copied once, to wait here.
        let from_pending = written.min(self.pending.len());
        self.pending.drain(..from_pending);
        written -= from_pending;
        for part in extra {
            let skip = written.min(part.len());
            written -= skip;
            self.pending.extend_from_slice(&part[skip..]);
        }
        self.blocked = !self.pending.is_empty();
        Ok(())
    }

    /// Writes what waits without waiting; true when nothing is left. After a file
    /// send found the socket full, nothing waits here, yet trying again at once would
    /// only find it full again: that is false once, so that the caller waits for the
    /// socket (or parks the response) before the exchange sends more.
    pub(crate) fn write_waiting(&mut self) -> io::Result<bool> {
        if self.holding {
            return Ok(true);
        }
        if std::mem::take(&mut self.socket_full) {
            return Ok(false);
        }
        self.write_now([b"", b""])?;
        Ok(self.pending.is_empty())
    }

    /// Writes what is pending (the head) as far as the socket takes it now, marked
    /// as followed by more, so that the kernel sends it in one segment with the
    /// file's first bytes instead of a segment of its own.
    fn write_pending_before_file(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            match rustix::net::send(&*self.stream, &self.pending, rustix::net::SendFlags::MORE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n as u64;
                    self.pending.drain(..n);
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.blocked = !self.pending.is_empty();
        Ok(())
    }
}

impl Output for WireOutput {
    fn send_head(&mut self, head: &ResponseHead, framing: Framing, close: bool) -> io::Result<()> {
        let body_lost = {
            let mut body = lock(&self.body);
            body.response_started = true;
            // A client still waiting for 100 Continue will never send its body now,
            // and a body that failed cannot be drained: either way the connection
            // ends with this response, which says so (FRAME-17, CONN-8).
            body.body_withheld() || body.has_failed() || body.too_big_to_drain(self.drain_bytes)
        };
        let close = close
            || self.close
            || body_lost
            || framing.ends_connection()
            || self.stop_requested.load(Ordering::SeqCst);
        self.announced_close = close;
        self.chunked = framing == Framing::Chunked;
        encode_head(&mut self.pending, self.version, head, self.server_header);
        match framing {
            Framing::Chunked => self
                .pending
                .extend_from_slice(b"transfer-encoding: chunked\r\n"),
            Framing::NoBody | Framing::Length(_) | Framing::CloseDelimited => {}
        }
        if close {
            self.pending.extend_from_slice(b"connection: close\r\n");
        } else if self.version == Version::HTTP_10 {
            self.pending
                .extend_from_slice(b"connection: keep-alive\r\n");
        }
        self.pending.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn send_body(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.blocked {
            // Only a caller that cannot pause sends on a backed-up output.
            self.flush()?;
        }
        let chunked = self.chunked;
        if chunked {
            // Into the buffer directly: no string per chunk.
            let _ = write!(self.pending, "{:x}\r\n", chunk.len());
        }
        let copy_limit = if self.more_follows {
            HOLD_LIMIT
        } else {
            COALESCE_LIMIT
        };
        if self.pending.len() + chunk.len() <= copy_limit {
            self.pending.extend_from_slice(chunk);
            if chunked {
                self.pending.extend_from_slice(b"\r\n");
            }
            if self.may_hold() {
                return Ok(());
            }
            return self.write_now([b"", b""]);
        }
        // A large chunk goes out with what precedes it (the head, the chunk size)
        // and its CRLF in one vectored write, without copying it (unless the socket
        // leaves part of it).
        let trailer: &[u8] = if chunked { b"\r\n" } else { b"" };
        self.write_now([chunk, trailer])
    }

    fn finish(&mut self, framing: Framing) -> io::Result<()> {
        if framing == Framing::Chunked {
            self.pending.extend_from_slice(b"0\r\n\r\n");
        }
        if self.may_hold() {
            self.holding = true;
            return Ok(());
        }
        self.write_now([b"", b""])
    }

    /// The file fast path: the head first, then `sendfile` from the file to the
    /// socket, as far as the socket takes it now (FILE-2, FILE-3).
    fn send_file(&mut self, file: &mut File, len: u64) -> Result<u64, SendFileError> {
        if self.chunked {
            // A chunk's size line must promise what a partial send cannot keep.
            return Err(SendFileError::Unsupported);
        }
        self.write_pending_before_file()
            .map_err(SendFileError::Client)?;
        if self.blocked {
            return Ok(0);
        }
        let sent = file_send::send_file(&self.stream, file, len)?;
        self.written += sent.bytes;
        self.socket_full = sent.socket_full;
        Ok(sent.bytes)
    }

    fn is_backed_up(&self) -> bool {
        self.blocked || self.socket_full
    }

    /// Waits for the client to take what is pending (the legacy write handle,
    /// which cannot pause): it holds the thread, within the write timeout.
    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.socket_full)
            && !socket_wait::writable_within(&self.stream, self.write_timeout)
        {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if !self.pending.is_empty() {
            socket_wait::write_all(&self.stream, &self.pending, self.write_timeout)?;
            self.written += self.pending.len() as u64;
            self.pending.clear();
        }
        self.blocked = false;
        Ok(())
    }
}

/// Appends the head as the wire carries it: the app's status and fields, then Date
/// and, when enabled, Server.
fn encode_head(out: &mut Vec<u8>, version: Version, head: &ResponseHead, server: bool) {
    with_http_date(|date| {
        let defaults = DefaultHeaders {
            date: Some(date),
            server: server.then_some(SERVER_SOFTWARE.as_bytes()),
        };
        encode_response_head(out, version, head, defaults);
    });
}

/// Answers a request the server will not serve with `status` and a short message,
/// and shuts the write side. Best effort on the non-blocking socket: an error
/// response is a few hundred bytes, which the socket buffer takes at once.
pub(crate) fn refuse(conn: &Connection, status: StatusCode, message: &str) {
    let _ = (&*conn.stream).write_all(&error_response(status, message));
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
}

/// A complete short `text/plain` response that closes the connection: what every
/// rejection answers (REQ rules).
pub(crate) fn error_response(status: StatusCode, message: &str) -> Vec<u8> {
    let body = format!("{message}\n");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(http::header::CONTENT_LENGTH, body.len().into());
    let head = ResponseHead::new(status, headers);
    let mut out = Vec::with_capacity(160 + body.len());
    encode_head(&mut out, Version::HTTP_11, &head, true);
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}
