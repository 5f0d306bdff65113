//! The I/O thread: accepts connections, holds idle keep-alive connections and
//! partly received request heads, and hands complete heads to the workers. It never
//! runs app code and never blocks on a client.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::connection::{Connection, ReadResult, READ_CHUNK};
use crate::dispatch::{dispatch, Job, Returned, Shared};
use crate::http1::{parse_request_head, Parsed};
use crate::response_writer::error_response;

pub(crate) const LISTENER: Token = Token(usize::MAX - 1);
pub(crate) const WAKER: Token = Token(usize::MAX - 2);

/// How long a closing connection may keep sending before it is cut.
const LINGER: Duration = Duration::from_secs(2);
/// How long accepting pauses after the process ran out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// The coarsest tick of the timers (head deadline, keep-alive idle, linger).
const TICK: Duration = Duration::from_millis(250);

/// Where a connection the I/O thread knows of stands.
enum Slot {
    /// Waiting for (the rest of) a request head, or idle between requests.
    Reading {
        conn: Connection,
        /// When the first byte of the current head arrived.
        head_started: Option<Instant>,
        idle_since: Instant,
    },
    /// With a worker, serving the request named (method and target). `readable`
    /// (the connection's own flag) records that bytes arrived meanwhile: the edge
    /// that announced them is spent.
    Busy {
        request: String,
        readable: Arc<AtomicBool>,
    },
    /// Being closed: read and drop what comes until EOF or the deadline.
    Lingering { conn: Connection, until: Instant },
}

/// The state of the I/O thread.
pub(crate) struct EventLoop {
    poll: Poll,
    listener: Option<TcpListener>,
    slots: HashMap<usize, Slot>,
    next_token: usize,
    jobs: Option<Sender<Job>>,
    returns: Receiver<Returned>,
    shared: Arc<Shared>,
    accept_paused_until: Option<Instant>,
    last_sweep: Instant,
    /// The one buffer every read of the I/O thread goes through.
    scratch: Vec<u8>,
}

/// How the loop ended.
pub(crate) struct LoopEnd {
    /// Requests still running when the graceful timeout ran out.
    pub(crate) aborted: Vec<String>,
}

impl EventLoop {
    pub(crate) fn new(
        poll: Poll,
        listener: TcpListener,
        jobs: Sender<Job>,
        returns: Receiver<Returned>,
        shared: Arc<Shared>,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        poll.registry().register(
            &mut SourceFd(&listener.as_raw_fd()),
            LISTENER,
            Interest::READABLE,
        )?;
        Ok(Self {
            poll,
            listener: Some(listener),
            slots: HashMap::new(),
            next_token: 0,
            jobs: Some(jobs),
            returns,
            shared,
            accept_paused_until: None,
            last_sweep: Instant::now(),
            scratch: vec![0; READ_CHUNK],
        })
    }

    /// Runs until a graceful stop has finished (or timed out).
    pub(crate) fn run(mut self) -> LoopEnd {
        let mut events = Events::with_capacity(1024);
        let mut stop_deadline: Option<Instant> = None;
        loop {
            if let Err(e) = self.poll.poll(&mut events, Some(TICK)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("the event loop failed to poll: {e}");
                    return LoopEnd {
                        aborted: self.busy_requests(),
                    };
                }
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => {}
                    // An end of input that came with the last bytes raises no edge of
                    // its own: when the event reports it, read to the end.
                    Token(token) => {
                        self.on_readable(token, event.is_read_closed() || event.is_error())
                    }
                }
            }
            self.take_returned();
            if self.shared.is_shutting_down() {
                let deadline = *stop_deadline.get_or_insert_with(|| {
                    self.begin_shutdown();
                    Instant::now() + self.shared.config.graceful_timeout
                });
                if self.busy_count() == 0 || Instant::now() >= deadline {
                    self.jobs = None; // workers end when the queue closes
                    let aborted = self.busy_requests();
                    for request in &aborted {
                        log::warn!("graceful timeout: cutting the in-flight request {request}");
                    }
                    return LoopEnd { aborted };
                }
            }
            if self.last_sweep.elapsed() >= TICK {
                self.sweep_timers();
            }
        }
    }

    fn busy_requests(&self) -> Vec<String> {
        self.slots
            .values()
            .filter_map(|s| match s {
                Slot::Busy { request, .. } => Some(request.clone()),
                _ => None,
            })
            .collect()
    }

    fn busy_count(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s, Slot::Busy { .. }))
            .count()
    }

    /// Stops accepting and closes every connection not serving a request.
    fn begin_shutdown(&mut self) {
        if let Some(listener) = self.listener.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&listener.as_raw_fd()));
        }
        let idle: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, s)| !matches!(s, Slot::Busy { .. }))
            .map(|(t, _)| *t)
            .collect();
        for token in idle {
            self.close(token);
        }
    }

    fn accept_all(&mut self) {
        if let Some(until) = self.accept_paused_until {
            if Instant::now() < until {
                return;
            }
            self.accept_paused_until = None;
        }
        loop {
            if self.slots.len() >= self.shared.config.max_connections {
                // Accepting resumes when a connection closes (see close()).
                return;
            }
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    let local = match stream.local_addr() {
                        Ok(local) => local,
                        Err(_) => continue,
                    };
                    if let Err(e) = self.adopt(stream, peer, local) {
                        log::debug!("could not set up a connection from {peer}: {e}");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS: pause instead of spinning on the
                    // pending connection; the timers retry.
                    log::warn!("accept failed ({e}); pausing accepts for {ACCEPT_BACKOFF:?}");
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    return;
                }
            }
        }
    }

    fn adopt(
        &mut self,
        stream: std::net::TcpStream,
        peer: std::net::SocketAddr,
        local: std::net::SocketAddr,
    ) -> io::Result<()> {
        stream.set_nonblocking(true)?;
        // Non-blocking for its whole life: workers wait through `socket_wait` only
        // when a read or write would block.
        stream.set_nodelay(true)?;
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1) % (usize::MAX - 16);
        self.poll.registry().register(
            &mut SourceFd(&stream.as_raw_fd()),
            Token(token),
            Interest::READABLE,
        )?;
        let conn = Connection::new(stream, peer, local);
        self.slots.insert(
            token,
            Slot::Reading {
                conn,
                head_started: None,
                idle_since: Instant::now(),
            },
        );
        // The client may have sent its request with the handshake.
        self.on_readable(token, false);
        Ok(())
    }

    fn on_readable(&mut self, token: usize, drain: bool) {
        let limit = self.shared.config.head_limits.max_head_bytes + 1;
        match self.slots.get_mut(&token) {
            Some(Slot::Reading {
                conn, head_started, ..
            }) => match conn.read_available(&mut self.scratch, limit, drain) {
                Ok(ReadResult::Data | ReadResult::DataThenEof) => {
                    head_started.get_or_insert_with(Instant::now);
                    self.try_dispatch(token);
                }
                Ok(ReadResult::WouldBlock) => {}
                Ok(ReadResult::Closed) | Err(_) => self.close(token),
            },
            Some(Slot::Lingering { conn, .. }) => {
                let mut scratch = [0u8; 4096];
                loop {
                    match io::Read::read(&mut &*conn.stream, &mut scratch) {
                        Ok(0) => return self.close(token),
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return self.close(token),
                    }
                }
            }
            Some(Slot::Busy { readable, .. }) => {
                readable.store(true, Ordering::SeqCst);
                // Pairs with the fence in Shared::give_back: either the worker sees
                // this flag, or this thread sees the returned connection.
                fence(Ordering::SeqCst);
            }
            None => {}
        }
    }

    /// Parses the buffered head; hands a complete one to a worker, answers a bad one.
    fn try_dispatch(&mut self, token: usize) {
        let Some(Slot::Reading { conn, .. }) = self.slots.get(&token) else {
            return;
        };
        if conn.buf.is_empty() {
            return;
        }
        match parse_request_head(&conn.buf, &self.shared.config.head_limits) {
            // The rest of the head will never come.
            Ok(Parsed::Partial) if conn.peer_closed => self.close(token),
            Ok(Parsed::Partial) => {}
            Ok(Parsed::Complete { head, len }) => {
                let request = format!("{} {}", head.method, head.target);
                let busy = Slot::Busy {
                    request,
                    readable: conn.readable_while_busy.clone(),
                };
                let Some(Slot::Reading { conn, .. }) = self.slots.insert(token, busy) else {
                    return;
                };
                let job = Job {
                    token,
                    conn,
                    head,
                    head_len: len,
                };
                let refused = match &self.jobs {
                    Some(jobs) => dispatch(jobs, job),
                    None => Some(job),
                };
                if let Some(job) = refused {
                    // Every worker is busy and the queue is full: say so now.
                    self.reject(
                        token,
                        job.conn,
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        "the server is busy; retry later",
                    );
                }
            }
            Err(e) => {
                let Some(Slot::Reading { conn, .. }) = self.slots.remove(&token) else {
                    return;
                };
                self.reject(token, conn, e.status(), &e.to_string());
            }
        }
    }

    /// Answers a short error response and closes the connection gently.
    fn reject(&mut self, token: usize, conn: Connection, status: http::StatusCode, message: &str) {
        // Best effort on a non-blocking socket: an error response is a few hundred
        // bytes, which the socket buffer takes at once.
        let _ = (&*conn.stream).write_all(&error_response(status, message));
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        self.linger(token, conn, Instant::now() + LINGER);
    }

    /// Keeps `conn` only to read and drop what the client still sends, until EOF or
    /// `until`, so that a response already written is not destroyed by a reset.
    fn linger(&mut self, token: usize, conn: Connection, until: Instant) {
        self.slots.insert(token, Slot::Lingering { conn, until });
        self.on_readable(token, true);
    }

    /// Whether the client closed its side and everything it sent is answered.
    fn finished_by_client(&self, token: usize) -> bool {
        matches!(
            self.slots.get(&token),
            Some(Slot::Reading { conn, .. }) if conn.peer_closed && conn.buf.is_empty()
        )
    }

    fn take_returned(&mut self) {
        while let Ok(returned) = self.returns.try_recv() {
            match returned {
                Returned::KeepAlive(token, conn) => {
                    let readable = conn.readable_while_busy.swap(false, Ordering::SeqCst);
                    if self.shared.is_shutting_down() {
                        self.linger(token, conn, Instant::now());
                        self.close(token);
                        continue;
                    }
                    let has_bytes = !conn.buf.is_empty();
                    self.slots.insert(
                        token,
                        Slot::Reading {
                            conn,
                            head_started: has_bytes.then(Instant::now),
                            idle_since: Instant::now(),
                        },
                    );
                    // Bytes that arrived while the worker had the connection raised an
                    // edge then; read them now. Without one, the socket is drained.
                    if readable {
                        self.on_readable(token, true);
                    }
                    if self.finished_by_client(token) {
                        self.close(token);
                    } else {
                        self.try_dispatch(token);
                    }
                }
                Returned::Linger(token, conn) => self.linger(token, conn, Instant::now() + LINGER),
            }
        }
    }

    fn sweep_timers(&mut self) {
        let now = Instant::now();
        self.last_sweep = now;
        let config = &self.shared.config;
        let expired: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, slot)| match slot {
                Slot::Reading {
                    head_started: Some(started),
                    ..
                } => now.duration_since(*started) >= config.head_timeout,
                Slot::Reading { idle_since, .. } => {
                    now.duration_since(*idle_since) >= config.keep_alive_timeout
                }
                Slot::Lingering { until, .. } => now >= *until,
                Slot::Busy { .. } => false,
            })
            .map(|(token, _)| *token)
            .collect();
        for token in expired {
            self.close(token);
        }
        if self.accept_paused_until.is_some_and(|until| now >= until) {
            self.accept_all();
        }
    }

    fn close(&mut self, token: usize) {
        if let Some(Slot::Reading { conn, .. } | Slot::Lingering { conn, .. }) =
            self.slots.remove(&token)
        {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&conn.stream.as_raw_fd()));
            // An app that kept its Input alive holds the socket open: make sure the
            // client sees the end anyway.
            let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        }
        if self.slots.len() + 1 == self.shared.config.max_connections {
            self.accept_all();
        }
    }
}
