//! The request body as the worker reads it for the app: Content-Length or chunked
//! decoding over the bytes already buffered and the socket, the lazy `100 Continue`,
//! the body limit, and the drain of what the app left unread. No parsing of heads.

use crate::connection::Stream;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use gateway_spec::client_error::{BodyError, ClientFault};

use crate::config::Config;
use crate::data_rate::MinRate;
use crate::http1::{BodyFraming, ChunkedDecoder, ChunkedLimits, RequestHead};
use crate::socket_wait;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Where the body stands.
#[derive(Debug)]
enum Remaining {
    /// This many bytes of a Content-Length body are still to come.
    Length(u64),
    /// A chunked body, still being decoded.
    Chunked(ChunkedDecoder),
    /// The body is over; what follows in the buffer is the next request.
    Done,
}

/// What bounds the reading of a body: its size, its chunk lines, how long one read
/// may wait, and how slowly it may arrive.
#[derive(Debug, Clone)]
pub(crate) struct BodyLimits {
    pub(crate) max_body: u64,
    pub(crate) chunked: ChunkedLimits,
    /// How long a read may wait for the client (the inactivity timeout).
    pub(crate) read_timeout: Duration,
    /// The minimum rate since the head was complete (LIMIT-15).
    pub(crate) min_rate: MinRate,
}

impl BodyLimits {
    pub(crate) fn of(config: &Config) -> Self {
        Self {
            max_body: config.max_body_bytes,
            chunked: config.chunked_limits.clone(),
            read_timeout: config.body_read_timeout,
            min_rate: MinRate::new(config.min_body_rate, config.min_rate_grace),
        }
    }
}

/// The body's reading state, shared by the app's `Input` and the worker.
#[derive(Debug)]
pub(crate) struct BodyState {
    stream: Arc<Stream>,
    /// Bytes received past the head: body bytes, then maybe the next request.
    buf: Vec<u8>,
    pos: usize,
    /// A Content-Length body the table buffered apart from the head (what came of
    /// it, read from `apart_pos`); empty when the body is in `buf` or the socket.
    apart: Vec<u8>,
    apart_pos: usize,
    remaining: Remaining,
    /// The client waits for `100 Continue` and it has not been sent.
    continue_pending: bool,
    /// Set by the response writer once the final head went out: a `100 Continue`
    /// can no longer be sent (CONN rules).
    pub(crate) response_started: bool,
    read_total: u64,
    /// Bytes received after the head (body framing included), for the rate.
    received: u64,
    /// When the body began to be due: the head was complete, or `100 Continue`
    /// went out.
    since: Instant,
    limits: BodyLimits,
    /// The first error stays: a body that failed once never ends cleanly.
    failed: Option<Failed>,
}

/// Why a body read failed, kept so that every later read fails the same way.
#[derive(Debug, Clone)]
enum Failed {
    /// The client's fault: the exchange answers 400, 408 or 413 (FAIL-10).
    Client(BodyError),
    /// Anything else the socket reported.
    Other(io::ErrorKind, String),
}

impl Failed {
    fn to_io(&self) -> io::Error {
        match self {
            Failed::Client(error) => error.clone().into(),
            Failed::Other(kind, message) => io::Error::new(*kind, message.clone()),
        }
    }
}

/// A request body's state, shared by the app's reader, the response writer and
/// the worker.
pub(crate) type SharedBody = Arc<Mutex<BodyState>>;

/// `state`, in the allocation the connection kept from its previous request when
/// nothing else holds that any more, else in a new one: a keep-alive request
/// then costs no allocation for its body's state.
pub(crate) fn share_body(spare: Option<SharedBody>, state: BodyState) -> SharedBody {
    if let Some(mut shared) = spare {
        if let Some(slot) = Arc::get_mut(&mut shared) {
            *slot.get_mut().unwrap_or_else(PoisonError::into_inner) = state;
            return shared;
        }
    }
    Arc::new(Mutex::new(state))
}

/// What a connection keeps of a finished request's `body` for its next request:
/// the allocation, once no reader holds it (an app may keep its environ), with
/// any body buffered apart dropped so that an idle connection holds no body bytes.
pub(crate) fn spare_of(mut body: SharedBody) -> Option<SharedBody> {
    let state = Arc::get_mut(&mut body)?
        .get_mut()
        .unwrap_or_else(PoisonError::into_inner);
    state.apart = Vec::new();
    state.failed = None;
    Some(body)
}

impl BodyState {
    /// The body of `head`, whose bytes start at `buf[head_len..]` (what arrived
    /// already); `since` is when the head was complete.
    pub(crate) fn new(
        stream: Arc<Stream>,
        buf: Vec<u8>,
        head_len: usize,
        head: &RequestHead,
        limits: BodyLimits,
        since: Instant,
    ) -> Self {
        let remaining = match head.framing {
            BodyFraming::None | BodyFraming::Length(0) => Remaining::Done,
            BodyFraming::Length(n) => Remaining::Length(n),
            BodyFraming::Chunked => Remaining::Chunked(ChunkedDecoder::new(limits.chunked.clone())),
        };
        let continue_pending = head.expect_continue && !matches!(remaining, Remaining::Done);
        Self {
            stream,
            received: (buf.len() - head_len) as u64,
            buf,
            pos: head_len,
            apart: Vec::new(),
            apart_pos: 0,
            remaining,
            continue_pending,
            response_started: false,
            read_total: 0,
            since,
            limits,
            failed: None,
        }
    }

    /// Takes the body the table buffered apart from the head, if it did.
    pub(crate) fn with_body_apart(mut self, apart: Option<Vec<u8>>) -> Self {
        if let Some(apart) = apart {
            self.received += apart.len() as u64;
            self.apart = apart;
        }
        self
    }

    /// How long the next read may wait: the inactivity timeout, or less when the
    /// minimum rate would be missed sooner (then `true`).
    fn read_wait(&self) -> (Duration, bool) {
        let inactivity = self.limits.read_timeout;
        match self.limits.min_rate.deadline(self.since, self.received) {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < inactivity {
                    (left, true)
                } else {
                    (inactivity, false)
                }
            }
            None => (inactivity, false),
        }
    }

    /// Reads from the socket into `out`, within the read's time budget.
    fn read_socket(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let (wait, rate_bound) = self.read_wait();
        match socket_wait::read(&self.stream, out, wait) {
            Ok(n) => {
                self.received += n as u64;
                Ok(n)
            }
            Err(e) if rate_bound && e.kind() == io::ErrorKind::TimedOut => {
                let rate = self.limits.min_rate.bytes_per_sec();
                Err(self.fail(
                    ClientFault::TooSlow,
                    format!(
                        "the request body arrived slower than the minimum rate of {rate} bytes/s"
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the body was read to its end.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.remaining, Remaining::Done)
    }

    /// Whether the body can never arrive: the client waits for a `100 Continue`
    /// that was not sent. The connection must then close after the response.
    pub(crate) fn body_withheld(&self) -> bool {
        self.continue_pending && !self.is_done()
    }

    /// Whether what remains of the body is known to exceed `bound`: the server will
    /// close instead of draining it.
    pub(crate) fn too_big_to_drain(&self, bound: u64) -> bool {
        matches!(self.remaining, Remaining::Length(left) if left > bound)
    }

    /// Whether reading the body failed (framing error, cut short, timeout).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Reads and discards what the app left unread, up to `bound` bytes. True when
    /// the body is over, so the connection can carry the next request.
    pub(crate) fn drain(&mut self, bound: u64) -> bool {
        if self.body_withheld() || self.failed.is_some() || self.too_big_to_drain(bound) {
            return false;
        }
        if self.is_done() {
            // The common case: the app read its body, or there was none. (The
            // scratch buffer below would cost a zeroing per request.)
            return true;
        }
        let mut scratch = [0u8; 8192];
        let mut drained = 0u64;
        while !self.is_done() {
            if drained > bound {
                return false;
            }
            match self.read_body(&mut scratch) {
                Ok(0) => break,
                Ok(n) => drained += n as u64,
                Err(_) => return false,
            }
        }
        self.is_done()
    }

    /// The bytes received after the body: the start of the next request.
    pub(crate) fn take_leftover(&mut self) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.drain(..self.pos);
        self.pos = 0;
        buf
    }

    /// Records the client's fault; every later read returns it again.
    fn fail(&mut self, fault: ClientFault, message: String) -> io::Error {
        self.failed_with(Failed::Client(BodyError::new(fault, message)))
    }

    fn failed_with(&mut self, failed: Failed) -> io::Error {
        let error = failed.to_io();
        self.failed = Some(failed);
        error
    }

    /// Appends the received bytes of a Content-Length body to `out`, as
    /// `read_body` would hand them out (and counts them the same way).
    fn append_buffered(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let Remaining::Length(left) = self.remaining else {
            return Ok(0);
        };
        if self.failed.is_some() || self.continue_pending {
            return Ok(0); // read_body reports the failure, or sends 100 Continue
        }
        if self.apart_pos < self.apart.len() {
            let whole = self.apart_pos == 0 && self.apart.len() as u64 == left;
            let n = if whole && out.is_empty() {
                // The whole body, handed over without a copy.
                std::mem::swap(out, &mut self.apart);
                out.len()
            } else {
                let n = (self.apart.len() - self.apart_pos)
                    .min(usize::try_from(left).unwrap_or(usize::MAX));
                out.extend_from_slice(&self.apart[self.apart_pos..self.apart_pos + n]);
                n
            };
            self.apart_pos += n;
            self.took_of_length(left, n);
            self.count(n)?;
            return Ok(n);
        }
        let buffered = self.buf.len() - self.pos;
        let n = buffered.min(usize::try_from(left).unwrap_or(usize::MAX));
        out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.took_of_length(left, n);
        self.count(n)?;
        Ok(n)
    }

    /// Records that `n` of the `left` bytes of a Content-Length body were taken.
    fn took_of_length(&mut self, left: u64, n: usize) {
        let left = left - n as u64;
        self.remaining = if left == 0 {
            Remaining::Done
        } else {
            Remaining::Length(left)
        };
    }

    /// Adds `n` body bytes to the total; past the limit, the body fails.
    fn count(&mut self, n: usize) -> io::Result<()> {
        self.read_total += n as u64;
        if self.read_total > self.limits.max_body {
            let limit = self.limits.max_body;
            return Err(self.fail(
                ClientFault::TooLarge,
                format!("the request body exceeds the server's limit of {limit} bytes"),
            ));
        }
        Ok(())
    }

    fn read_body(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(failed) = &self.failed {
            return Err(failed.to_io());
        }
        if out.is_empty() || self.is_done() {
            return Ok(0);
        }
        if self.continue_pending {
            self.continue_pending = false;
            if !self.response_started {
                socket_wait::write_all(&self.stream, CONTINUE, self.limits.read_timeout)?;
                // The client sends its body only now: the rate counts from here.
                self.since = Instant::now();
            }
        }
        let n = match self.remaining {
            Remaining::Length(left) => self.read_length(out, left)?,
            Remaining::Chunked(_) => self.read_chunked(out)?,
            Remaining::Done => 0,
        };
        self.count(n)?;
        Ok(n)
    }

    fn read_length(&mut self, out: &mut [u8], left: u64) -> io::Result<usize> {
        let want = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let buffered = self.buf.len() - self.pos;
        let n = if self.apart_pos < self.apart.len() {
            let n = want.min(self.apart.len() - self.apart_pos);
            out[..n].copy_from_slice(&self.apart[self.apart_pos..self.apart_pos + n]);
            self.apart_pos += n;
            n
        } else if buffered > 0 {
            let n = want.min(buffered);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            n
        } else {
            // Straight from the socket into the app's buffer: no copy for big bodies.
            match self.read_socket(&mut out[..want]) {
                Ok(0) => return Err(self.cut_short()),
                Ok(n) => n,
                Err(e) => return Err(self.socket_error(e)),
            }
        };
        self.took_of_length(left, n);
        Ok(n)
    }

    fn read_chunked(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos == self.buf.len() {
                self.fill()?;
            }
            let Remaining::Chunked(decoder) = &mut self.remaining else {
                return Ok(0);
            };
            // Offering at most out.len() bytes keeps every data range within `out`;
            // the decoder accepts any split of its input.
            let end = self.buf.len().min(self.pos + out.len());
            let step = decoder.decode(&self.buf[self.pos..end]);
            let step = match step {
                Ok(step) => step,
                Err(e) => {
                    let message = format!("malformed chunked body: {e}");
                    return Err(self.fail(ClientFault::Malformed, message));
                }
            };
            let done = decoder.is_done();
            let announced = self.read_total + step.data.len() as u64 + decoder.chunk_remaining();
            if announced > self.limits.max_body {
                // Refused as soon as the chunk size says so, not after 1 GiB of reads.
                let limit = self.limits.max_body;
                return Err(self.fail(
                    ClientFault::TooLarge,
                    format!("the request body exceeds the server's limit of {limit} bytes"),
                ));
            }
            let n = step.data.len();
            let start = self.pos + step.data.start;
            out[..n].copy_from_slice(&self.buf[start..start + n]);
            self.pos += step.consumed;
            if done {
                self.remaining = Remaining::Done;
            }
            if n > 0 || done {
                return Ok(n);
            }
        }
    }

    /// Reads more bytes from the socket into the buffer (chunked bodies).
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + 16 * 1024, 0);
        let mut room = std::mem::take(&mut self.buf);
        let read = self.read_socket(&mut room[start..]);
        self.buf = room;
        match read {
            Ok(0) => {
                self.buf.truncate(start);
                Err(self.cut_short())
            }
            Ok(n) => {
                self.buf.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(self.socket_error(e))
            }
        }
    }

    fn cut_short(&mut self) -> io::Error {
        self.fail(
            ClientFault::CutShort,
            "the client closed the connection before the end of the request body".into(),
        )
    }

    fn socket_error(&mut self, e: io::Error) -> io::Error {
        if let Some(failed) = &self.failed {
            return failed.to_io(); // the rate check classified it already
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => self.fail(
                ClientFault::TooSlow,
                "the client sent no body bytes within the body read timeout".into(),
            ),
            // A reset or abort mid-body: the client went away before its end.
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => self.fail(
                ClientFault::CutShort,
                format!("the connection broke before the end of the request body: {e}"),
            ),
            kind => self.failed_with(Failed::Other(
                kind,
                format!("reading the request body failed: {e}"),
            )),
        }
    }
}

/// Locks the body state even if a panicking app poisoned the lock: the state is
/// updated in single steps and stays usable.
pub(crate) fn lock(state: &Mutex<BodyState>) -> MutexGuard<'_, BodyState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The app's view of the body: a `Read` that ends exactly at the end of the body.
pub(crate) struct RequestBody(pub(crate) Arc<Mutex<BodyState>>);

impl Read for RequestBody {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        lock(&self.0).read_body(out)
    }

    /// Body bytes already received are appended as they are; the generic loop
    /// would first zero room for them.
    fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut body = lock(&self.0);
        let appended = body.append_buffered(out)?;
        // The rest, if any, through `read_body` and the standard loop.
        struct Rest<'a>(&'a mut BodyState);
        impl Read for Rest<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                self.0.read_body(out)
            }
        }
        Ok(appended + Rest(&mut body).read_to_end(out)?)
    }
}
