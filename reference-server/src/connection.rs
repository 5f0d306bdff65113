//! One client connection as it moves between the table of connections and the
//! workers: the socket, the bytes received but not yet used, what is known of it.
//! It parses only to look at a pipelined request ahead; `connection_state` and the
//! worker decide.

use crate::http1::{parse_request_head, BodyFraming, HeadLimits, Parsed, RequestHead};
use crate::request_body::SharedBody;
use crate::socket_wait;
use bytes::{Bytes, BytesMut};
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How much to ask of the socket at a time while a request head is coming in.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// How long held pipelined responses may wait for the client to take them when no
/// response follows to carry them (see [`Parts::flush_corked`]): best effort, as
/// for the error response that usually comes next.
const HELD_FLUSH_WAIT: Duration = Duration::from_millis(250);

/// A connection's socket: TCP or Unix-domain, used through the same calls.
pub(crate) type Stream = socket2::Socket;

/// A client connection: a box around its parts, because a connection moves often
/// (from the table to a worker, into a request in flight, back) and a move of the
/// box copies one pointer where a move of the parts copied 168 bytes.
#[derive(Debug)]
pub(crate) struct Connection(Box<Parts>);

impl std::ops::Deref for Connection {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Parts {
        &mut self.0
    }
}

/// What a connection holds.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) stream: Arc<Stream>,
    /// The client's address; `None` on a Unix socket.
    pub(crate) peer: Option<SocketAddr>,
    /// Our address on the connection; `None` on a Unix socket.
    pub(crate) local: Option<SocketAddr>,
    /// Bytes received and not yet consumed: a partial head, or what a client
    /// pipelined after the previous request.
    pub(crate) buf: Vec<u8>,
    /// The response writer's buffer, kept between responses; between two responses
    /// of a pipelined batch it may hold the first, for the second to carry.
    pub(crate) out: Vec<u8>,
    /// Where request heads are copied for their header values to share (see
    /// [`Parts::share_head`]).
    heads: BytesMut,
    /// The previous request's body state, its allocation kept for the next one
    /// (see `request_body::share_body`).
    pub(crate) spare_body: Option<SharedBody>,
    /// The client closed its sending side: once what it sent is answered, the
    /// connection ends.
    pub(crate) peer_closed: bool,
    /// The poller also reports when the socket becomes writable (a response was
    /// parked on it once).
    pub(crate) watching_writable: bool,
    /// The last response went out marked `MSG_MORE`, or waits in `out` (more
    /// requests were pipelined behind it): [`Parts::flush_corked`] pushes it
    /// out when no response follows at once.
    pub(crate) corked: bool,
    /// The pipelined head [`Parts::pipelined_behind`] parsed, for the worker to
    /// serve next without parsing it again.
    ahead: ParsedAhead,
}

/// A request head parsed ahead of its turn, with a copy of the bytes it was parsed
/// from: it stands for the buffer's next head only while the buffer starts with
/// those bytes, whatever happened to the connection in between.
#[derive(Debug, Default)]
struct ParsedAhead {
    /// The head and its length in bytes.
    head: Option<(RequestHead, usize)>,
    /// The head's bytes (the allocation kept from one head to the next).
    bytes: Vec<u8>,
}

/// A client as logs name it: its address, or `unix-socket client`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerName(Option<SocketAddr>);

impl std::fmt::Display for PeerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("unix-socket client"),
        }
    }
}

/// What a non-blocking read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadResult {
    /// New bytes are in the buffer (maybe more wait in the socket).
    Data,
    /// New bytes are in the buffer, and then the client closed its side.
    DataThenEof,
    /// Nothing to read now.
    WouldBlock,
    /// The client closed its side.
    Closed,
}

impl Connection {
    pub(crate) fn new(stream: Stream, peer: Option<SocketAddr>, local: Option<SocketAddr>) -> Self {
        Self(Box::new(Parts {
            stream: Arc::new(stream),
            peer,
            local,
            buf: Vec::new(),
            out: Vec::new(),
            heads: BytesMut::new(),
            spare_body: None,
            peer_closed: false,
            watching_writable: false,
            corked: false,
            ahead: ParsedAhead::default(),
        }))
    }
}

impl Parts {
    /// Pushes out what the last responses left behind when no response follows at
    /// once after all: responses held for the next one to carry (written now,
    /// waiting at most [`HELD_FLUSH_WAIT`] for a client that does not read, so that
    /// it cannot hold the worker), and segments corked under `MSG_MORE` (setting
    /// TCP_NODELAY, which it already has, sends them at once). Held bytes exist here
    /// only when a pipelined request that was complete was then not served (refused,
    /// or its connection closed).
    pub(crate) fn flush_corked(&mut self) {
        if !self.out.is_empty() {
            if let Err(e) = socket_wait::write_all(&self.stream, &self.out, HELD_FLUSH_WAIT) {
                log::debug!(
                    "{}: pipelined responses were not taken: {e}",
                    self.peer_name()
                );
            }
            self.out.clear();
        }
        if std::mem::take(&mut self.corked) {
            let _ = self.stream.set_tcp_nodelay(true);
        }
    }

    /// Whether the worker serves another request right after the one whose head is
    /// `head_len` bytes with `framing`: the client pipelined one whose head (and
    /// Content-Length body) is complete in the buffer. (A chunked body's end is not
    /// known here: no.) Only TCP connections cork. The head found is kept for
    /// [`Parts::take_parsed_ahead`].
    pub(crate) fn pipelined_behind(
        &mut self,
        head_len: usize,
        framing: BodyFraming,
        limits: &HeadLimits,
    ) -> bool {
        let behind = match framing {
            BodyFraming::None => head_len as u64,
            BodyFraming::Length(n) => (head_len as u64).saturating_add(n),
            BodyFraming::Chunked => return false,
        };
        let rest = match usize::try_from(behind)
            .ok()
            .and_then(|at| self.buf.get(at..))
        {
            Some(rest) if self.peer.is_some() && !rest.is_empty() => rest,
            _ => return false,
        };
        let Ok(Parsed::Complete { mut head, len }) = parse_request_head(rest, limits) else {
            return false;
        };
        let complete = match head.framing {
            BodyFraming::None => true,
            BodyFraming::Length(n) => (rest.len() - len) as u64 >= n,
            BodyFraming::Chunked => false,
        };
        if !complete {
            head.recycle_spans();
            return false;
        }
        self.ahead.bytes.clear();
        self.ahead.bytes.extend_from_slice(&rest[..len]);
        if let Some((mut stale, _)) = self.ahead.head.replace((head, len)) {
            stale.recycle_spans();
        }
        true
    }

    /// The head [`Parts::pipelined_behind`] parsed, when the buffer starts with the
    /// bytes it was parsed from (parsing them again would give the same head);
    /// otherwise `None`, and the caller parses the buffer.
    pub(crate) fn take_parsed_ahead(&mut self) -> Option<(RequestHead, usize)> {
        let (mut head, len) = self.ahead.head.take()?;
        if self.buf.starts_with(&self.ahead.bytes) {
            Some((head, len))
        } else {
            head.recycle_spans();
            None
        }
    }

    /// A copy of the first `len` bytes of the buffer (a request head) that header
    /// values share. The copies go into one allocation kept with the connection:
    /// once the previous request's values are dropped (its environ is gone), the
    /// next head reuses the space, so a keep-alive request costs no allocation here.
    pub(crate) fn share_head(&mut self, len: usize) -> Bytes {
        /// Room for most heads, so that the space is rarely grown.
        const TYPICAL_HEAD: usize = 1024;
        if self.heads.capacity() < len {
            self.heads.reserve(len.max(TYPICAL_HEAD));
        }
        self.heads.extend_from_slice(&self.buf[..len]);
        self.heads.split().freeze()
    }

    /// The client, as logs name it.
    pub(crate) fn peer_name(&self) -> PeerName {
        PeerName(self.peer)
    }

    /// Reads what the socket holds, at most `limit` bytes in the buffer in total,
    /// without blocking, through `scratch` (the calling thread's read buffer, so
    /// that no per-connection buffer is zeroed on every read).
    ///
    /// Without `drain`, a short read ends the reading: bytes that arrive later
    /// raise a new edge. With `drain` (the event said the client closed its side,
    /// or its edge went to another thread), it reads until the socket would block
    /// or ends, because an end that came with the last bytes raises no edge of
    /// its own.
    pub(crate) fn read_available(
        &mut self,
        scratch: &mut [u8],
        limit: usize,
        drain: bool,
    ) -> io::Result<ReadResult> {
        let mut got_any = false;
        loop {
            let room = limit.saturating_sub(self.buf.len()).min(scratch.len());
            if room == 0 {
                return Ok(ReadResult::Data);
            }
            match (&*self.stream).read(&mut scratch[..room]) {
                Ok(0) if got_any => {
                    self.peer_closed = true;
                    return Ok(ReadResult::DataThenEof);
                }
                Ok(0) => {
                    self.peer_closed = true;
                    return Ok(ReadResult::Closed);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&scratch[..n]);
                    got_any = true;
                    if n < room && !drain {
                        return Ok(ReadResult::Data);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(if got_any {
                        ReadResult::Data
                    } else {
                        ReadResult::WouldBlock
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    const FIRST: &[u8] = b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n";

    /// A connection as from TCP (only those look ahead), holding `bytes`.
    fn holding(bytes: &[u8]) -> Connection {
        let (stream, _other) = Stream::pair(Domain::UNIX, Type::STREAM, None).unwrap();
        let mut conn = Connection::new(stream, Some(([127, 0, 0, 1], 9).into()), None);
        conn.buf.extend_from_slice(bytes);
        conn
    }

    #[test]
    fn the_head_parsed_ahead_is_served_while_its_bytes_are_next() {
        let mut conn = holding(&[FIRST, b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n"].concat());
        assert!(conn.pipelined_behind(FIRST.len(), BodyFraming::None, &HeadLimits::default()));
        conn.buf.drain(..FIRST.len());
        let (head, len) = conn.take_parsed_ahead().expect("the head parsed ahead");
        assert_eq!(head.target(&conn.buf), "/second");
        assert_eq!(len, conn.buf.len());
        // Taken once: the next look finds none.
        assert!(conn.take_parsed_ahead().is_none());
    }

    #[test]
    fn the_head_parsed_ahead_is_dropped_when_other_bytes_are_next() {
        let mut conn = holding(&[FIRST, b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n"].concat());
        assert!(conn.pipelined_behind(FIRST.len(), BodyFraming::None, &HeadLimits::default()));
        // Other bytes of the same length stand where the parsed head was.
        conn.buf.clear();
        conn.buf
            .extend_from_slice(b"GET /sekond HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(conn.take_parsed_ahead().is_none());
    }

    #[test]
    fn an_incomplete_pipelined_request_is_not_looked_ahead() {
        let body_missing = b"POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc";
        let mut conn = holding(&[FIRST, &body_missing[..]].concat());
        assert!(!conn.pipelined_behind(FIRST.len(), BodyFraming::None, &HeadLimits::default()));
        conn.buf.drain(..FIRST.len());
        assert!(conn.take_parsed_ahead().is_none());
    }
}
