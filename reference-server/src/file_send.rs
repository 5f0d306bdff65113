//! The zero-copy path of file bodies: `sendfile(2)` from a body's file to the client's
//! socket without waiting, and the count of bytes sent that way. It frames nothing and
//! decides no length; the exchange (FRAME rules) and `response_writer` do.

use crate::connection::Stream;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};

use gateway_spec::exchange::SendFileError;
use rustix::io::Errno;

/// The most Linux moves in one `sendfile` call, whatever count it is asked for.
const MAX_SENDFILE: usize = 0x7fff_f000;

/// Body bytes sent with `sendfile` by every server in this process.
static SENT_BY_SENDFILE: AtomicU64 = AtomicU64::new(0);

/// Body bytes that the servers of this process have sent with `sendfile` since it
/// started: evidence that file bodies take the zero-copy path (FILE-3), for tests
/// and diagnostics. Bytes of a file that a middleware iterated, or that the server
/// read because the file cannot be sent so, do not count.
///
/// ```
/// // Read before and after serving a `Body::file`: the difference is what went
/// // out with sendfile (tests/file_bodies.rs asserts exact amounts).
/// let before = reference_server::sendfile_bytes();
/// # let _ = before;
/// ```
pub fn sendfile_bytes() -> u64 {
    SENT_BY_SENDFILE.load(Ordering::Relaxed)
}

/// How far one [`send_file`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileSent {
    /// Bytes the socket took.
    pub(crate) bytes: u64,
    /// The socket is full: it must report writable before the next try.
    pub(crate) socket_full: bool,
}

/// Sends up to `len` bytes of `file` from its position to `socket` (non-blocking),
/// until they are sent, the socket is full or the file ends; the file's position
/// moves past what went out, as plain reads would move it. An error after some bytes
/// went out is reported by the next call, so that those bytes are counted.
pub(crate) fn send_file(socket: &Stream, file: &File, len: u64) -> Result<FileSent, SendFileError> {
    let mut sent = 0u64;
    let mut socket_full = false;
    while sent < len {
        let count = usize::try_from(len - sent)
            .unwrap_or(usize::MAX)
            .min(MAX_SENDFILE);
        match rustix::fs::sendfile(socket, file, None, count) {
            // The end of the file before `len`: it shrank (FILE-5).
            Ok(0) => break,
            Ok(n) => sent += n as u64,
            Err(Errno::AGAIN) => {
                socket_full = true;
                break;
            }
            Err(Errno::INTR) => {}
            Err(_) if sent > 0 => break,
            Err(errno) => return Err(classify(errno)),
        }
    }
    SENT_BY_SENDFILE.fetch_add(sent, Ordering::Relaxed);
    Ok(FileSent {
        bytes: sent,
        socket_full,
    })
}

/// Whose failure a `sendfile` error is: the file's kind (a pipe, a file system
/// without zero-copy reads), reading the file, or the client's socket.
fn classify(errno: Errno) -> SendFileError {
    match errno {
        Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::SPIPE => SendFileError::Unsupported,
        Errno::IO | Errno::NOMEM | Errno::OVERFLOW | Errno::BADF | Errno::NXIO => {
            SendFileError::File(errno.into())
        }
        _ => SendFileError::Client(errno.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::net::{TcpListener, TcpStream};

    fn pair() -> (Stream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Stream::from(server), client)
    }

    #[test]
    fn sends_from_the_files_position_and_moves_it() {
        let (server, mut client) = pair();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        file.seek(SeekFrom::Start(2)).unwrap();
        let sent = send_file(&server, &file, 5).unwrap();
        assert_eq!(
            sent,
            FileSent {
                bytes: 5,
                socket_full: false
            }
        );
        assert_eq!(file.stream_position().unwrap(), 7);
        drop(server);
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"23456");
    }

    #[test]
    fn a_file_shorter_than_asked_sends_what_it_has() {
        let (server, _client) = pair();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"abc").unwrap();
        file.rewind().unwrap();
        let sent = send_file(&server, &file, 100).unwrap();
        assert_eq!(sent.bytes, 3);
        assert!(!sent.socket_full);
    }

    #[test]
    fn a_full_socket_stops_the_send_without_waiting() {
        let (server, _client) = pair();
        server.set_nonblocking(true).unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 64 << 20]).unwrap();
        file.rewind().unwrap();
        let sent = send_file(&server, &file, 64 << 20).unwrap();
        assert!(sent.socket_full, "64 MiB fit in the socket buffers");
        assert!(sent.bytes < 64 << 20);
        assert_eq!(file.stream_position().unwrap(), sent.bytes);
    }

    #[test]
    fn a_file_that_cannot_be_sent_so_says_so_before_sending_anything() {
        let (server, _client) = pair();
        // A directory opens as a `File`, but has no bytes to splice.
        let dir = tempfile::tempdir().unwrap();
        let file = File::open(dir.path()).unwrap();
        let error = send_file(&server, &file, 4).unwrap_err();
        assert!(matches!(error, SendFileError::Unsupported), "{error}");
    }
}
