//! The pipe from a worker process to its supervisor: one byte per message (ready,
//! heartbeat, retiring), written by the worker, read without blocking by the supervisor.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileTypeExt;
use std::sync::Mutex;

use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
use rustix::pipe::{pipe_with, PipeFlags};

/// The variable that names the descriptor of the pipe's writing end in a worker.
pub(crate) const LINK_ENV: &str = "GATEWAY_SUPERVISOR_LINK";

/// What a worker tells its supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// The worker serves: its listeners are open and its app is loaded.
    Ready,
    /// The worker is alive and its app can run (the interpreter is not wedged).
    Beat,
    /// The worker served its `--max-requests`: start its replacement, then stop it.
    Retiring,
}

impl Message {
    fn byte(self) -> u8 {
        match self {
            Message::Ready => b'R',
            Message::Beat => b'.',
            Message::Retiring => b'M',
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            b'R' => Some(Message::Ready),
            b'.' => Some(Message::Beat),
            b'M' => Some(Message::Retiring),
            _ => None,
        }
    }
}

/// A new pipe: the supervisor's reading end (non-blocking) and the writing end the
/// worker inherits. Both close on exec; the spawn maps the writing end explicitly.
pub(crate) fn pair() -> io::Result<(LinkReader, OwnedFd)> {
    let (read, write) = pipe_with(PipeFlags::CLOEXEC)?;
    let flags = fcntl_getfl(&read)?;
    fcntl_setfl(&read, flags | OFlags::NONBLOCK)?;
    Ok((LinkReader(std::fs::File::from(read)), write))
}

/// The supervisor's end of one worker's pipe.
#[derive(Debug)]
pub(crate) struct LinkReader(std::fs::File);

/// What reading a pipe found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Received {
    /// Any message at all came (each is a sign of life).
    pub(crate) alive: bool,
    pub(crate) ready: bool,
    pub(crate) retiring: bool,
}

impl LinkReader {
    /// Every message waiting, without blocking.
    pub(crate) fn receive(&mut self) -> Received {
        let mut received = Received::default();
        let mut buf = [0u8; 256];
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for message in buf[..n].iter().filter_map(|&b| Message::from_byte(b)) {
                        received.alive = true;
                        match message {
                            Message::Ready => received.ready = true,
                            Message::Retiring => received.retiring = true,
                            Message::Beat => {}
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        received
    }
}

/// The worker's end, taken from [`LINK_ENV`] once.
static LINK: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Takes the pipe the supervisor passed (if any) out of the environment; later
/// [`send`]s write to it. Returns whether there is one.
///
/// The inherited descriptor is reopened through `/proc/self/fd` (the same pipe, no
/// `unsafe` adoption of a raw descriptor), and only if it is a pipe: a stale
/// variable must not make this process write into some other file.
pub(crate) fn adopt() -> bool {
    let Some(fd) = std::env::var(LINK_ENV)
        .ok()
        .and_then(|fd| fd.parse::<u32>().ok())
        .filter(|&fd| fd > 2)
    else {
        return false;
    };
    let path = format!("/proc/self/fd/{fd}");
    let is_pipe = std::fs::metadata(&path).is_ok_and(|m| m.file_type().is_fifo());
    let file = is_pipe
        .then(|| std::fs::OpenOptions::new().write(true).open(&path))
        .and_then(Result::ok);
    let Some(file) = file else {
        log::warn!("{LINK_ENV}={fd} names no inherited pipe; no heartbeat is sent");
        return false;
    };
    *LINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
    true
}

/// Sends `message` to the supervisor; nothing happens without one. A supervisor
/// that went away is not an error here: the parent-death signal ends this process.
pub(crate) fn send(message: Message) {
    let mut link = LINK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(file) = link.as_mut() {
        let _ = file.write_all(&[message.byte()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_the_pipe_and_an_empty_pipe_does_not_block() {
        let (mut reader, write) = pair().unwrap();
        assert_eq!(reader.receive(), Received::default());
        let mut writer = std::fs::File::from(write);
        writer
            .write_all(&[Message::Beat.byte(), Message::Ready.byte()])
            .unwrap();
        let got = reader.receive();
        assert!(got.alive && got.ready && !got.retiring, "{got:?}");
        writer.write_all(&[Message::Retiring.byte(), b'?']).unwrap();
        let got = reader.receive();
        assert!(got.alive && got.retiring && !got.ready, "{got:?}");
        drop(writer);
        assert_eq!(reader.receive(), Received::default());
    }
}
