//! The one epoll instance every worker waits on: connections are registered
//! edge-triggered (no re-arming per request), the listener and the waker one-shot.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use crossbeam_channel::Sender;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

/// Events taken from the kernel by one wait, at most.
pub(crate) const BATCH: usize = 16;

/// The token of the waker (an eventfd): shutdown, and work queued for the workers.
pub(crate) const WAKER: u64 = u64::MAX;
/// Listening sockets at most (tokens below the waker's).
pub(crate) const MAX_LISTENERS: usize = 1024;
/// The first token no connection gets: listeners' tokens start here.
pub(crate) const RESERVED_TOKENS: u64 = u64::MAX - MAX_LISTENERS as u64 - 1;

/// The token of listener number `index`.
pub(crate) fn listener_token(index: usize) -> u64 {
    RESERVED_TOKENS + index as u64
}

/// The listener a token stands for, if it stands for one.
pub(crate) fn listener_index(token: u64) -> Option<usize> {
    (RESERVED_TOKENS..WAKER)
        .contains(&token)
        .then(|| (token - RESERVED_TOKENS) as usize)
}

/// What a wait returned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub(crate) token: u64,
    /// The peer closed its side or the socket failed: read to the end.
    pub(crate) closed: bool,
}

/// The shared epoll instance and its waker.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    waker: OwnedFd,
}

/// Readable, one event per arming, and tell when the peer closed its side.
fn one_shot() -> EventFlags {
    EventFlags::IN | EventFlags::ONESHOT | EventFlags::RDHUP
}

impl Poller {
    pub(crate) fn new() -> io::Result<Self> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let waker = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(&epoll, &waker, EventData::new_u64(WAKER), one_shot())?;
        Ok(Self { epoll, waker })
    }

    /// Registers `source`, armed for one event.
    pub(crate) fn add(&self, source: impl AsFd, token: u64) -> io::Result<()> {
        Ok(epoll::add(
            &self.epoll,
            source,
            EventData::new_u64(token),
            one_shot(),
        )?)
    }

    /// Registers a connection: an event each time bytes (or its end) arrive.
    pub(crate) fn add_edge_triggered(&self, source: impl AsFd, token: u64) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::RDHUP | EventFlags::ET;
        Ok(epoll::add(
            &self.epoll,
            source,
            EventData::new_u64(token),
            flags,
        )?)
    }

    /// Adds writability to a connection's events, for a response parked on it. The
    /// kernel reports at once if the socket is writable already, so no edge between
    /// the full socket and this call is lost. It stays on: with edge triggering, a
    /// writable socket raises an event only after a write found it full.
    pub(crate) fn watch_writable(&self, source: impl AsFd, token: u64) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        Ok(epoll::modify(
            &self.epoll,
            source,
            EventData::new_u64(token),
            flags,
        )?)
    }

    /// Arms `source` again for one event; one is raised at once if it is ready now.
    pub(crate) fn rearm(&self, source: impl AsFd, token: u64) -> io::Result<()> {
        Ok(epoll::modify(
            &self.epoll,
            source,
            EventData::new_u64(token),
            one_shot(),
        )?)
    }

    pub(crate) fn remove(&self, source: impl AsFd) -> io::Result<()> {
        Ok(epoll::delete(&self.epoll, source)?)
    }

    /// Waits up to `timeout` for ready sources, and gives out up to [`BATCH`] of
    /// them: the first is returned, the others go to `rest`, where any worker may
    /// take them (so that a worker that goes on to run a slow app holds no other
    /// client's event).
    pub(crate) fn wait(
        &self,
        timeout: Duration,
        rest: &Sender<Ready>,
    ) -> io::Result<Option<Ready>> {
        let timeout = Timespec::try_from(timeout).map_err(io::Error::other)?;
        let mut events = [Event {
            flags: EventFlags::empty(),
            data: EventData::new_u64(0),
        }; BATCH];
        let n = match epoll::wait(&self.epoll, &mut events[..], Some(&timeout)) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => 0,
            Err(e) => return Err(e.into()),
        };
        let mut ready = events[..n].iter().map(|event| {
            let Event { flags, data } = *event;
            Ready {
                token: data.u64(),
                closed: flags.intersects(EventFlags::RDHUP | EventFlags::HUP | EventFlags::ERR),
            }
        });
        let first = ready.next();
        for other in ready {
            let _ = rest.send(other);
        }
        Ok(first)
    }

    /// Raises the waker for one waiting thread.
    pub(crate) fn wake(&self) {
        let _ = rustix::io::write(&self.waker, &1u64.to_ne_bytes());
    }

    /// Called by the thread the waker woke. `keep` leaves it raised, so that the
    /// next waiting thread wakes too (a shutdown reaches every thread this way);
    /// otherwise it is consumed.
    pub(crate) fn woken(&self, keep: bool) {
        if !keep {
            let mut count = [0u8; 8];
            let _ = rustix::io::read(&self.waker, &mut count);
        }
        let _ = self.rearm(&self.waker, WAKER);
    }
}
