//! A request between its app call and its access-log line (connection, body reader,
//! log record), and a response parked with its connection while the client is slow.
//! Nothing here runs the app or parses a request; the worker does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway_spec::exchange::{Outcome, Paused};
use http::HeaderMap;

use crate::connection::Connection;
use crate::data_rate::MinRate;
use crate::request_body::BodyState;
use crate::response_writer::WireOutput;

/// A request whose app was called and whose response is not finished.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) token: usize,
    pub(crate) conn: Connection,
    /// The request body as the app reads it; drained once the response is done.
    pub(crate) body: Arc<Mutex<BodyState>>,
    /// What the access log needs; `None` when the log is off.
    pub(crate) log: Option<LogRecord>,
    /// The request as failure logs name it, once it left the worker it began on.
    pub(crate) name: Option<String>,
    /// When it was admitted, for the response observer; `None` without one.
    pub(crate) admitted: Option<std::time::Instant>,
}

/// The request's part of an access-log line, taken before the app ran.
#[derive(Debug)]
pub(crate) struct LogRecord {
    pub(crate) started: Instant,
    /// The client's address as the environ reports it (a trusted proxy's word
    /// included); `None` on a Unix socket without one.
    pub(crate) client: Option<std::net::IpAddr>,
    pub(crate) request_line: String,
    pub(crate) referer: Option<String>,
    pub(crate) user_agent: Option<String>,
    /// The request's id (see [`crate::access_log::request_id`]).
    pub(crate) request_id: String,
}

impl LogRecord {
    pub(crate) fn new(request_line: String, headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .map(|v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Self {
            started: Instant::now(),
            client: None,
            request_line,
            referer: text(http::header::REFERER),
            user_agent: text(http::header::USER_AGENT),
            request_id: crate::access_log::request_id(
                headers.get("x-request-id").map(|v| v.as_bytes()),
            ),
        }
    }
}

/// What is left of a response that waits for its client.
#[derive(Debug)]
pub(crate) enum Response {
    /// The app's body has more to give: the exchange is paused between chunks.
    Streaming(Paused<WireOutput>),
    /// The exchange is over; only bytes already framed wait to be written.
    Tail(WireOutput, Outcome),
}

impl Response {
    /// Bytes the socket took so far.
    pub(crate) fn written(&self) -> u64 {
        match self {
            Response::Streaming(paused) => paused.with_output(|output| output.written),
            Response::Tail(output, _) => output.written,
        }
    }
}

/// A response parked with its connection: no thread waits for the client; any
/// worker resumes it when the socket is writable. It holds at most one chunk and its
/// framing beyond what the socket's send buffer holds.
#[derive(Debug)]
pub(crate) struct Parked {
    pub(crate) in_flight: InFlight,
    pub(crate) response: Response,
    /// When the socket first made this response wait, and the bytes written then:
    /// the minimum rate counts from here, so the socket buffers filled at once do
    /// not count as the client's reading.
    pub(crate) first_wait: (Instant, u64),
    /// When the client last took bytes, and the count then.
    pub(crate) last_progress: (Instant, u64),
}

impl Parked {
    /// Parks `response`, continuing the accounts of an earlier wait if there was one.
    pub(crate) fn new(in_flight: InFlight, response: Response, earlier: Option<Waits>) -> Self {
        let now = Instant::now();
        let written = response.written();
        let (first_wait, last_progress) = match earlier {
            Some(Waits {
                first_wait,
                last_progress,
            }) if last_progress.1 == written => (first_wait, last_progress),
            Some(Waits { first_wait, .. }) => (first_wait, (now, written)),
            None => ((now, written), (now, written)),
        };
        Self {
            in_flight,
            response,
            first_wait,
            last_progress,
        }
    }

    /// The accounts to carry over when the response is resumed.
    pub(crate) fn waits(&self) -> Waits {
        Waits {
            first_wait: self.first_wait,
            last_progress: self.last_progress,
        }
    }

    /// Whether the client takes the response slower than `rate` since the first
    /// wait, or took nothing for `write_timeout` (LIMIT-11, LIMIT-16).
    pub(crate) fn too_slow(&self, rate: &MinRate, write_timeout: Duration, now: Instant) -> bool {
        let taken = self.last_progress.1 - self.first_wait.1;
        rate.missed(self.first_wait.0, taken, now)
            || now.duration_since(self.last_progress.0) >= write_timeout
    }
}

/// How long a parked response has waited, carried from one parking to the next.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waits {
    first_wait: (Instant, u64),
    last_progress: (Instant, u64),
}
