//! Every open connection by token and where it stands (waiting for a head or a body,
//! taken by a worker, its response parked for a slow reader, lingering); an event for a
//! taken connection is remembered, so no edge is lost.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::body_arrival::Arriving;
use crate::config::Config;
use crate::connection::Connection;
use crate::data_rate::MinRate;
use crate::response_in_flight::Parked;

/// A connection waiting for (the rest of) a request head or body, or idle between
/// requests.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) conn: Connection,
    /// When the first byte of the current head arrived.
    pub(crate) head_started: Option<Instant>,
    pub(crate) idle_since: Instant,
    /// The head is complete and its body is being buffered (boxed: only slow
    /// bodies wait here, and a head is large).
    pub(crate) arriving: Option<Box<Arriving>>,
}

impl Waiting {
    /// A connection between requests, with what it already buffered of the next.
    pub(crate) fn idle(conn: Connection) -> Self {
        let now = Instant::now();
        Self {
            head_started: (!conn.buf.is_empty()).then_some(now),
            idle_since: now,
            arriving: None,
            conn,
        }
    }
}

/// A connection whose time is up, as the timers found it.
#[derive(Debug)]
pub(crate) enum Expired {
    /// Head deadline, keep-alive idle or linger over: closed without a word.
    Quiet(Connection),
    /// Its request body arrived slower than the minimum rate: 408, then a close.
    BodyTooSlow(Connection),
    /// Its client takes the response slower than the minimum rate: cut.
    ResponseTooSlow(Box<Parked>),
}

/// A connection being closed: what the client still sends is read and dropped
/// until EOF or `until`, so that a response already written is not destroyed by
/// a reset.
#[derive(Debug)]
pub(crate) struct Lingering {
    pub(crate) conn: Connection,
    pub(crate) until: Instant,
}

/// What a worker took out of the table.
#[derive(Debug)]
pub(crate) enum Taken {
    Waiting(Waiting),
    Lingering(Lingering),
    Parked(Box<Parked>),
}

#[derive(Debug)]
enum Slot {
    Waiting(Waiting),
    Lingering(Lingering),
    /// A response waiting for its client to read; it counts as in flight.
    Parked(Box<Parked>),
    /// A worker has it (reading its head, serving it, or it waits in the queue).
    /// `readable`: an event came for it meanwhile; the edge is spent, so the
    /// worker must read again before it puts the connection back.
    Taken {
        readable: bool,
    },
}

/// Hashes a token (a counter, never chosen by a client) with one multiplication:
/// the table is looked up twice per request, and SipHash's defence against
/// chosen keys buys nothing here.
#[derive(Debug, Default, Clone, Copy)]
struct TokenHasher(u64);

impl std::hash::Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Tokens = std::hash::BuildHasherDefault<TokenHasher>;

/// The table of connections.
#[derive(Debug, Default)]
pub(crate) struct ConnectionTable {
    slots: Mutex<HashMap<usize, Slot, Tokens>>,
}

impl ConnectionTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<usize, Slot, Tokens>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Open connections.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Connections with a request in flight: a worker has them, or their
    /// response is parked.
    pub(crate) fn busy(&self) -> usize {
        self.lock()
            .values()
            .filter(|s| matches!(s, Slot::Taken { .. } | Slot::Parked(_)))
            .count()
    }

    /// Responses parked, waiting for their client to read.
    pub(crate) fn parked(&self) -> usize {
        self.lock()
            .values()
            .filter(|s| matches!(s, Slot::Parked(_)))
            .count()
    }

    /// Whether `token`'s response is parked (only a worker may resume it).
    pub(crate) fn is_parked(&self, token: usize) -> bool {
        matches!(self.lock().get(&token), Some(Slot::Parked(_)))
    }

    /// A new connection, to be registered with the poller next.
    pub(crate) fn insert(&self, token: usize, waiting: Waiting) {
        self.lock().insert(token, Slot::Waiting(waiting));
    }

    /// Takes the connection `token` for the calling worker, which was told it is
    /// readable; `None` when it is closed, or when another worker has it (which is
    /// then told to read again).
    pub(crate) fn take(&self, token: usize) -> Option<Taken> {
        let mut slots = self.lock();
        let slot = slots.get_mut(&token)?;
        match std::mem::replace(slot, Slot::Taken { readable: false }) {
            Slot::Waiting(w) => Some(Taken::Waiting(w)),
            Slot::Lingering(l) => Some(Taken::Lingering(l)),
            Slot::Parked(p) => Some(Taken::Parked(p)),
            Slot::Taken { .. } => {
                *slot = Slot::Taken { readable: true };
                None
            }
        }
    }

    /// Puts a taken connection back, unless an event came for it while it was
    /// taken: then it is handed back to the caller, to be read again.
    pub(crate) fn put_back(&self, token: usize, taken: Taken) -> Option<Taken> {
        let mut slots = self.lock();
        if let Some(slot @ Slot::Taken { readable: true }) = slots.get_mut(&token) {
            *slot = Slot::Taken { readable: false };
            return Some(taken);
        }
        let slot = match taken {
            Taken::Waiting(w) => Slot::Waiting(w),
            Taken::Lingering(l) => Slot::Lingering(l),
            Taken::Parked(p) => Slot::Parked(p),
        };
        slots.insert(token, slot);
        None
    }

    /// Forgets `token` (its connection was closed by whoever held it).
    pub(crate) fn remove(&self, token: usize) {
        self.lock().remove(&token);
    }

    /// Removes and returns the connections whose time is up: a head that took
    /// longer than the head timeout, a body or a response slower than its minimum
    /// rate (or, with rates off, inactive past its timeout), an idle keep-alive
    /// connection past its timeout, a lingering one past its deadline.
    pub(crate) fn remove_expired(&self, now: Instant, config: &Config) -> Vec<Expired> {
        let body_rate = MinRate::new(config.min_body_rate, config.min_rate_grace);
        let response_rate = MinRate::new(config.min_response_rate, config.min_rate_grace);
        let mut slots = self.lock();
        let doomed: Vec<usize> = slots
            .iter()
            .filter(|(_, slot)| match slot {
                Slot::Waiting(Waiting {
                    arriving: Some(a),
                    conn,
                    ..
                }) => {
                    body_rate.missed(a.since, a.body_bytes(conn.buf.len()), now)
                        || now.duration_since(a.last_bytes) >= config.body_read_timeout
                }
                Slot::Waiting(Waiting {
                    head_started: Some(started),
                    ..
                }) => now.duration_since(*started) >= config.head_timeout,
                Slot::Waiting(w) => now.duration_since(w.idle_since) >= config.keep_alive_timeout,
                Slot::Lingering(l) => now >= l.until,
                Slot::Parked(p) => p.too_slow(&response_rate, config.write_timeout, now),
                Slot::Taken { .. } => false,
            })
            .map(|(token, _)| *token)
            .collect();
        doomed
            .into_iter()
            .filter_map(|token| match slots.remove(&token)? {
                Slot::Waiting(Waiting {
                    conn,
                    arriving: Some(_),
                    ..
                }) => Some(Expired::BodyTooSlow(conn)),
                Slot::Waiting(Waiting { conn, .. }) | Slot::Lingering(Lingering { conn, .. }) => {
                    Some(Expired::Quiet(conn))
                }
                Slot::Parked(parked) => Some(Expired::ResponseTooSlow(parked)),
                Slot::Taken { .. } => None,
            })
            .collect()
    }

    /// Removes and returns every lingering connection (a stop).
    pub(crate) fn remove_lingering(&self) -> Vec<Connection> {
        self.remove_where(|slot| matches!(slot, Slot::Lingering(_)))
    }

    /// The tokens of the connections waiting for a request now (a stop).
    pub(crate) fn waiting_tokens(&self) -> Vec<usize> {
        self.lock()
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Waiting(_)))
            .map(|(token, _)| *token)
            .collect()
    }

    /// Takes `token`'s connection if it is (still) waiting for a request.
    pub(crate) fn take_waiting(&self, token: usize) -> Option<Taken> {
        let mut slots = self.lock();
        match slots.remove(&token)? {
            Slot::Waiting(w) => {
                slots.insert(token, Slot::Taken { readable: false });
                Some(Taken::Waiting(w))
            }
            other => {
                slots.insert(token, other);
                None
            }
        }
    }

    fn remove_where(&self, mut doomed: impl FnMut(&Slot) -> bool) -> Vec<Connection> {
        let mut slots = self.lock();
        let tokens: Vec<usize> = slots
            .iter()
            .filter(|(_, slot)| doomed(slot))
            .map(|(token, _)| *token)
            .collect();
        tokens
            .into_iter()
            .filter_map(|token| match slots.remove(&token) {
                Some(Slot::Waiting(Waiting { conn, .. }))
                | Some(Slot::Lingering(Lingering { conn, .. })) => Some(conn),
                _ => None,
            })
            .collect()
    }
}

/// How long a closing connection may keep sending before it is cut.
pub(crate) const LINGER: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};

    use super::*;

    /// A table with one loopback connection under `token`, taken by the caller
    /// (the listener keeps the connection's other end alive).
    fn table_with_taken(token: usize) -> (ConnectionTable, Taken, TcpListener) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let conn = Connection::new(
            TcpStream::connect(addr).unwrap().into(),
            Some(addr),
            Some(addr),
        );
        let table = ConnectionTable::default();
        let idle_since = Instant::now();
        table.insert(
            token,
            Waiting {
                conn,
                head_started: None,
                idle_since,
                arriving: None,
            },
        );
        let taken = table.take(token).expect("waiting");
        (table, taken, listener)
    }

    #[test]
    fn an_event_for_a_taken_connection_makes_its_holder_read_again() {
        let (table, taken, _listener) = table_with_taken(7);
        assert!(table.take(7).is_none(), "another worker has it");
        let again = table.put_back(7, taken).expect("an event came meanwhile");
        assert_eq!(table.busy(), 1);
        assert!(table.put_back(7, again).is_none(), "no event since");
        assert_eq!(table.busy(), 0);
        assert!(table.take(7).is_some());
    }

    #[test]
    fn timers_never_remove_a_taken_connection() {
        let (table, _taken, _listener) = table_with_taken(1);
        let config = Config {
            keep_alive_timeout: Duration::ZERO,
            ..Config::default()
        };
        assert!(table.remove_expired(Instant::now(), &config).is_empty());
        assert!(table.remove_lingering().is_empty());
        assert!(
            table.take_waiting(1).is_none(),
            "a stop never takes it either"
        );
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_stop_takes_only_waiting_connections() {
        let (table, taken, _listener) = table_with_taken(3);
        assert!(table.waiting_tokens().is_empty());
        assert!(table.put_back(3, taken).is_none());
        assert_eq!(table.waiting_tokens(), vec![3]);
        assert!(table.take_waiting(3).is_some());
        assert_eq!(table.busy(), 1, "taken by the stop");
    }
}
