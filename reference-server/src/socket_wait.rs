//! Blocking reads and writes with timeouts on the non-blocking sockets the event loop
//! owns: workers wait for readiness only when a read or write would block, so the
//! common path costs no mode switch. Nothing here knows HTTP.

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

thread_local! {
    // One poller per worker thread, made on first need: most requests never block.
    static POLL: RefCell<Option<(Poll, Events)>> = const { RefCell::new(None) };
}

/// Waits until `stream` is ready for `interest` or `deadline` passes.
fn wait(stream: &TcpStream, interest: Interest, deadline: Instant) -> io::Result<()> {
    POLL.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some((Poll::new()?, Events::with_capacity(1)));
        }
        let (poll, events) = cell.as_mut().expect("made above");
        let fd = stream.as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), Token(0), interest)?;
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(io::ErrorKind::TimedOut.into());
            }
            match poll.poll(events, Some(left)) {
                Ok(()) if !events.is_empty() => break Ok(()),
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let _ = poll.registry().deregister(&mut SourceFd(&fd));
        result
    })
}

/// Reads into `buf`, waiting up to `timeout` for the first byte.
pub(crate) fn read(stream: &TcpStream, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        match (&*stream).read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(stream, Interest::READABLE, deadline)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Writes all of `buf`; fails when no progress is made for `timeout`.
pub(crate) fn write_all(stream: &TcpStream, buf: &[u8], timeout: Duration) -> io::Result<()> {
    write_all_vectored(stream, &mut [IoSlice::new(buf)], timeout)
}

/// Writes all of `slices` with as few system calls as the socket allows (one in
/// the common case); fails when no progress is made for `timeout`.
pub(crate) fn write_all_vectored(
    stream: &TcpStream,
    mut slices: &mut [IoSlice<'_>],
    timeout: Duration,
) -> io::Result<()> {
    let mut deadline = Instant::now() + timeout;
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match (&*stream).write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                IoSlice::advance_slices(&mut slices, n);
                deadline = Instant::now() + timeout;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(stream, Interest::WRITABLE, deadline)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
