//! Blocking reads and writes with timeouts on the non-blocking sockets the poller
//! owns: workers wait for readiness only when a read or write would block, so the
//! common path costs no mode switch. Nothing here knows HTTP.

use crate::connection::Stream;
use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags};

/// Waits until `stream` is ready for `interest` or `deadline` passes: one poll(2)
/// on the one socket, no registration to make or undo.
fn wait(stream: &Stream, interest: PollFlags, deadline: Instant) -> io::Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let timeout = rustix::event::Timespec::try_from(left).map_err(io::Error::other)?;
        let mut fds = [PollFd::new(stream, interest)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => {}
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether `stream` has bytes (or its end) to read within `timeout`.
pub(crate) fn readable_within(stream: &Stream, timeout: Duration) -> bool {
    wait(stream, PollFlags::IN, Instant::now() + timeout).is_ok()
}

/// Whether `stream` becomes writable within `timeout`.
pub(crate) fn writable_within(stream: &Stream, timeout: Duration) -> bool {
    wait(stream, PollFlags::OUT, Instant::now() + timeout).is_ok()
}

/// Reads into `buf`, waiting up to `timeout` for the first byte.
pub(crate) fn read(stream: &Stream, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
    // The clock is read only when the socket makes the reader wait.
    let mut deadline = None;
    loop {
        match (&*stream).read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                wait(stream, PollFlags::IN, deadline)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Writes all of `buf`; fails when no progress is made for `timeout`.
pub(crate) fn write_all(stream: &Stream, buf: &[u8], timeout: Duration) -> io::Result<()> {
    write_all_vectored(stream, &mut [IoSlice::new(buf)], timeout)
}

/// Writes all of `slices` with as few system calls as the socket allows (one in
/// the common case); fails when no progress is made for `timeout`.
fn write_all_vectored(
    stream: &Stream,
    mut slices: &mut [IoSlice<'_>],
    timeout: Duration,
) -> io::Result<()> {
    // The clock is read only when the socket makes the writer wait; progress
    // starts the timeout again.
    let mut deadline = None;
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match (&*stream).write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                IoSlice::advance_slices(&mut slices, n);
                deadline = None;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                wait(stream, PollFlags::OUT, deadline)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
