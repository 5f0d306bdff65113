//! A complete request head whose body is still arriving, kept in the connection table
//! until the body is complete or the buffering bound is reached: no worker waits on it.

use std::io::{self, Read};
use std::time::Instant;

use crate::body_budget::{BodyBudget, BodyShare};
use crate::connection::{Connection, ReadResult};
use crate::http1::{BodyFraming, ChunkedDecoder, ChunkedLimits, RequestHead};
use crate::shared::ReadyRequest;

/// A request whose head is complete and whose body is not yet buffered.
#[derive(Debug)]
pub(crate) struct Arriving {
    pub(crate) head: RequestHead,
    /// Bytes of the connection's buffer the head took; the body follows.
    pub(crate) head_len: usize,
    /// When the head was complete: the body's minimum rate counts from here.
    pub(crate) since: Instant,
    /// When the last body bytes came (the inactivity timeout, if rates are off).
    pub(crate) last_bytes: Instant,
    /// Body bytes at the last look, to tell a body streaming in at full speed.
    pub(crate) seen: u64,
    /// Where a chunked body's end is looked for, how far it was scanned, and how
    /// many data bytes its chunk sizes announced so far.
    chunked: Option<(ChunkedDecoder, usize, u64)>,
    /// A body of known length that did not come with its head, read apart from it
    /// into a buffer allocated for its exact size (its length is what arrived), so
    /// that the app can take it whole without a copy; and that size.
    apart: Option<(Vec<u8>, usize)>,
    /// The body's share of the total buffering bound, while it is buffered here.
    share: Option<BodyShare>,
    /// The total bound was spent when the body came: it is not buffered.
    unbuffered: bool,
    /// `is_ready` said so.
    ready: bool,
}

impl Arriving {
    pub(crate) fn new(head: RequestHead, head_len: usize, limits: &ChunkedLimits) -> Self {
        let now = Instant::now();
        let chunked = (head.framing == BodyFraming::Chunked)
            .then(|| (ChunkedDecoder::new(limits.clone()), head_len, 0));
        Self {
            head,
            head_len,
            since: now,
            last_bytes: now,
            seen: 0,
            chunked,
            apart: None,
            share: None,
            unbuffered: false,
            ready: false,
        }
    }

    /// Takes the body's share of the total buffering bound before any of it is
    /// buffered (its Content-Length up to `bound`, or `bound` for a chunked body);
    /// true when it holds one. Without (too little is left), the body is not
    /// buffered: the request is ready at once and its body streams.
    pub(crate) fn reserve(&mut self, budget: &BodyBudget, bound: u64) -> bool {
        if self.share.is_some() {
            return true;
        }
        let bytes = match self.head.framing {
            BodyFraming::Length(n) => n.min(bound),
            BodyFraming::Chunked => bound,
            BodyFraming::None => return true,
        };
        self.share = budget.take(bytes);
        self.unbuffered = self.share.is_none();
        !self.unbuffered
    }

    /// The request as a worker takes it; the body's share is given back.
    pub(crate) fn into_request(mut self) -> ReadyRequest {
        ReadyRequest {
            apart: self.take_apart(),
            head: self.head,
            head_len: self.head_len,
            since: self.since,
        }
    }

    /// Body bytes (framing included) received so far, with `buf_len` bytes in
    /// the connection's buffer.
    pub(crate) fn body_bytes(&self, buf_len: usize) -> u64 {
        let apart = self.apart.as_ref().map_or(0, |(apart, _)| apart.len());
        (buf_len.saturating_sub(self.head_len) + apart) as u64
    }

    /// Moves the body bytes behind the head into a buffer of the body's size,
    /// where the rest will be read: for a Content-Length body up to `bound` that is
    /// not complete yet (a body that came whole with its head is never moved).
    pub(crate) fn set_apart(&mut self, buf: &mut Vec<u8>, bound: u64) {
        let BodyFraming::Length(n) = self.head.framing else {
            return;
        };
        // Only within the body's share of the total bound (`reserve`).
        if self.apart.is_some() || self.share.is_none() || n == 0 || n > bound {
            return;
        }
        let Ok(n) = usize::try_from(n) else {
            return;
        };
        // Allocated, not zeroed: the socket's bytes are the first to be written there.
        let mut apart = Vec::with_capacity(n);
        let have = (buf.len() - self.head_len).min(n);
        apart.extend_from_slice(&buf[self.head_len..self.head_len + have]);
        buf.drain(self.head_len..self.head_len + have);
        self.apart = Some((apart, n));
    }

    /// Whether the body streams from the socket as the app reads it, instead of
    /// being buffered here: its Content-Length is above `bound`, the total bound
    /// was spent, or it waits for `100 Continue`.
    pub(crate) fn streams(&self, bound: u64) -> bool {
        self.unbuffered
            || self.head.expect_continue
            || matches!(self.head.framing, BodyFraming::Length(n) if n > bound)
    }

    /// Whether the body is being read into its own buffer.
    pub(crate) fn is_apart(&self) -> bool {
        self.apart.is_some()
    }

    /// Reads all the socket holds into the body's own buffer, up to the body's
    /// end, without blocking.
    pub(crate) fn read_apart(&mut self, conn: &mut Connection) -> io::Result<ReadResult> {
        let Some((apart, size)) = self.apart.as_mut() else {
            return Ok(ReadResult::WouldBlock);
        };
        let (before, want) = (apart.len(), *size - apart.len());
        if want == 0 {
            return Ok(ReadResult::Data);
        }
        // `read_to_end` reads into the spare capacity without zeroing it first, and
        // keeps what it read when the socket would block; `take` stops it at the
        // body's end, so it never grows the buffer.
        let result = (&*conn.stream).take(want as u64).read_to_end(apart);
        let got_any = apart.len() > before;
        match result {
            // It stopped short of the body's end without an error: the end of input.
            Ok(_) if apart.len() < *size => {
                conn.peer_closed = true;
                Ok(if got_any {
                    ReadResult::DataThenEof
                } else {
                    ReadResult::Closed
                })
            }
            Ok(_) => Ok(ReadResult::Data),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(if got_any {
                ReadResult::Data
            } else {
                ReadResult::WouldBlock
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether the body's own buffer is full: what the socket holds beyond it is
    /// the next request's, to be read into the connection's buffer.
    pub(crate) fn apart_is_full(&self) -> bool {
        self.apart
            .as_ref()
            .is_some_and(|(apart, size)| apart.len() == *size)
    }

    /// The body's own buffer, holding what arrived of it.
    pub(crate) fn take_apart(&mut self) -> Option<Vec<u8>> {
        self.apart.take().map(|(apart, _)| apart)
    }

    /// Whether a worker should have the request now (LIMIT-14): the body is
    /// complete; or its Content-Length is above `bound`, so it streams from the
    /// socket as the app reads; or `bound` bytes of a chunked body are buffered (the
    /// rest streams); or it will not come before the app asks for it
    /// (`100-continue`, SPEC's lazy continue), or never (the client closed its side).
    /// A malformed chunked body, or one whose chunk sizes pass `max_body`, is ready
    /// too: the worker's body reader answers it as the client's fault.
    pub(crate) fn is_ready(
        &mut self,
        buf: &[u8],
        bound: u64,
        max_body: u64,
        peer_closed: bool,
    ) -> bool {
        // Once ready, always: a chunked body's scan does not look at the bytes that
        // made it ready twice (an oversized chunk, a malformed size line).
        self.ready = self.ready || self.looks_ready(buf, bound, max_body, peer_closed);
        self.ready
    }

    fn looks_ready(&mut self, buf: &[u8], bound: u64, max_body: u64, peer_closed: bool) -> bool {
        let arrived = self.body_bytes(buf.len());
        if self.unbuffered || self.head.expect_continue || peer_closed || arrived >= bound {
            return true;
        }
        match self.head.framing {
            BodyFraming::None => true,
            BodyFraming::Length(n) => n > bound || arrived >= n,
            BodyFraming::Chunked => {
                let Some((decoder, scanned, announced)) = self.chunked.as_mut() else {
                    return true;
                };
                // Only the new bytes are scanned: a trickled body costs one pass.
                while !decoder.is_done() && *scanned < buf.len() {
                    match decoder.decode(&buf[*scanned..]) {
                        Ok(step) if step.consumed == 0 => break,
                        Ok(step) => {
                            *scanned += step.consumed;
                            *announced += step.data.len() as u64;
                            if *announced + decoder.chunk_remaining() > max_body {
                                return true;
                            }
                        }
                        Err(_) => return true,
                    }
                }
                decoder.is_done()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{parse_request_head, HeadLimits, Parsed};

    const MAX: u64 = 1 << 30;

    fn arriving(request: &[u8]) -> Arriving {
        let Ok(Parsed::Complete { head, len }) =
            parse_request_head(request, &HeadLimits::default())
        else {
            panic!("a complete head");
        };
        Arriving::new(head, len, &ChunkedLimits::default())
    }

    #[test]
    fn a_length_body_is_ready_when_complete_or_at_the_bound() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
        let mut a = arriving(head);
        let mut buf = head.to_vec();
        buf.extend_from_slice(b"01234");
        assert!(!a.is_ready(&buf, 1024, MAX, false));
        assert!(a.is_ready(&buf, 5, MAX, false), "the bound is reached");
        let mut big = arriving(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
        assert!(
            big.is_ready(head, 1024, MAX, false),
            "above the bound, it streams"
        );
        assert!(
            a.is_ready(&buf, 1024, MAX, true),
            "the rest will never come"
        );
        buf.extend_from_slice(b"56789");
        assert!(a.is_ready(&buf, 1024, MAX, false));
    }

    #[test]
    fn a_chunked_body_is_ready_at_its_last_chunk_however_it_is_split() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        let mut a = arriving(head);
        let mut buf = head.to_vec();
        for (i, byte) in body.iter().enumerate() {
            assert!(!a.is_ready(&buf, 1024, MAX, false), "after {i} bytes");
            buf.push(*byte);
        }
        assert!(a.is_ready(&buf, 1024, MAX, false));
    }

    #[test]
    fn a_chunk_announcing_more_than_the_body_limit_is_handed_over_at_once() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut a = arriving(head);
        let mut buf = head.to_vec();
        buf.extend_from_slice(b"401\r\nhello");
        assert!(!a.is_ready(&buf, 1 << 20, 2048, false));
        let mut over = arriving(head);
        assert!(over.is_ready(&buf, 1 << 20, 1024, false));
        assert!(
            over.is_ready(&buf, 1 << 20, 1024, false),
            "asked again, with no new bytes to scan"
        );
    }

    #[test]
    fn an_incomplete_length_body_is_set_apart_with_what_came_of_it() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
        let mut a = arriving(head);
        let mut buf = head.to_vec();
        buf.extend_from_slice(b"0123");
        let budget = BodyBudget::new(1 << 20);
        assert!(a.reserve(&budget, 1024));
        assert_eq!(budget.left(), (1 << 20) - 10, "its Content-Length is taken");
        a.set_apart(&mut buf, 1024);
        assert_eq!(buf, head, "the body left the connection's buffer");
        assert_eq!(a.body_bytes(buf.len()), 4);
        assert!(!a.is_ready(&buf, 1024, MAX, false));
        assert_eq!(a.take_apart().as_deref(), Some(&b"0123"[..]));
        drop(a);
        assert_eq!(budget.left(), 1 << 20, "the share is given back");
    }

    #[test]
    fn a_body_that_finds_the_total_bound_spent_is_not_buffered_but_ready() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
        let budget = BodyBudget::new(15);
        let mut first = arriving(head);
        assert!(first.reserve(&budget, 1024));
        let mut second = arriving(head);
        assert!(!second.is_ready(head, 1024, MAX, false));
        assert!(
            !second.reserve(&budget, 1024),
            "5 bytes are left, 10 wanted"
        );
        assert!(
            second.is_ready(head, 1024, MAX, false),
            "it streams instead"
        );
        let mut buf = head.to_vec();
        buf.extend_from_slice(b"0123");
        second.set_apart(&mut buf, 1024);
        assert!(!second.is_apart(), "no buffer of its own either");
        let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        drop(first.into_request());
        assert_eq!(
            budget.left(),
            15,
            "a worker took the first: its share is back"
        );
        assert!(
            !arriving(chunked).reserve(&budget, 1024),
            "a chunked body takes the bound"
        );
        assert!(arriving(chunked).reserve(&budget, 15));
    }

    #[test]
    fn a_body_behind_100_continue_is_never_waited_for() {
        let head =
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
        assert!(arriving(head).is_ready(head, 1024, MAX, false));
    }
}
