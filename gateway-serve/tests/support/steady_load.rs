//! A steady, bounded load of keep-alive GET requests from a few client threads,
//! counting what was answered, by which process, and every request that failed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a load saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Requests answered with a complete 200 response.
    pub answered: u64,
    /// Answers by the pid in their body.
    pub by_pid: BTreeMap<u32, u64>,
    /// Requests sent again because the server closed a reused keep-alive
    /// connection before any byte of their response: the race RFC 9112 section
    /// 9.3.1 lets a client retry, which every HTTP client library does.
    pub retried: u64,
    /// Requests that failed in any other way (or failed again when retried).
    pub failed: Vec<String>,
}

/// A load running in the background until [`SteadyLoad::finish`].
pub struct SteadyLoad {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    clients: Vec<JoinHandle<()>>,
    started: Instant,
}

/// The longest a load runs, whatever the test does.
const LONGEST: Duration = Duration::from_secs(60);

impl SteadyLoad {
    /// Starts `clients` threads, each sending requests one after another on a
    /// keep-alive connection to `addr`.
    pub fn start(addr: SocketAddr, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let started = Instant::now();
        let clients = (0..clients)
            .map(|_| {
                let (stop, tally) = (stop.clone(), tally.clone());
                std::thread::spawn(move || client(addr, &stop, &tally, started + LONGEST))
            })
            .collect();
        Self {
            stop,
            tally,
            clients,
            started,
        }
    }

    /// What was answered so far.
    pub fn answered(&self) -> u64 {
        self.tally.lock().unwrap().answered
    }

    /// The processes that answered so far.
    pub fn pids(&self) -> std::collections::BTreeSet<u32> {
        self.tally.lock().unwrap().by_pid.keys().copied().collect()
    }

    /// Answers so far, by process.
    pub fn by_pid(&self) -> BTreeMap<u32, u64> {
        self.tally.lock().unwrap().by_pid.clone()
    }

    /// Stops the clients and returns the tally and how long the load ran.
    pub fn finish(self) -> (Tally, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.join().expect("a client thread panicked");
        }
        let elapsed = self.started.elapsed();
        let tally = std::mem::take(&mut *self.tally.lock().unwrap());
        (tally, elapsed)
    }
}

/// How one request went.
enum Outcome {
    Answered(u32),
    /// Closed before any byte of the response, on a connection that had already
    /// carried a request.
    ClosedBeforeAnswer,
    Failed(String),
}

fn client(addr: SocketAddr, stop: &AtomicBool, tally: &Mutex<Tally>, deadline: Instant) {
    let mut connection: Option<TcpStream> = None;
    let mut used = 0u64;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let stream = match connection.take() {
            Some(stream) => stream,
            None => match TcpStream::connect(addr) {
                Ok(stream) => {
                    used = 0;
                    stream
                }
                Err(e) => {
                    tally.lock().unwrap().failed.push(format!("connect: {e}"));
                    continue;
                }
            },
        };
        let (mut outcome, mut kept) = request(stream, used);
        if matches!(outcome, Outcome::ClosedBeforeAnswer) {
            tally.lock().unwrap().retried += 1;
            (outcome, kept) = match TcpStream::connect(addr) {
                Ok(stream) => {
                    used = 0;
                    match request(stream, 0) {
                        (Outcome::ClosedBeforeAnswer, _) => (
                            Outcome::Failed("closed before any answer, retried".into()),
                            None,
                        ),
                        other => other,
                    }
                }
                Err(e) => (Outcome::Failed(format!("connect for the retry: {e}")), None),
            };
        }
        used += 1;
        connection = kept;
        let mut tally = tally.lock().unwrap();
        match outcome {
            Outcome::Answered(pid) => {
                tally.answered += 1;
                *tally.by_pid.entry(pid).or_default() += 1;
            }
            Outcome::ClosedBeforeAnswer => unreachable!("retried above"),
            Outcome::Failed(e) => tally.failed.push(e),
        }
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: load\r\n\r\n";

/// One GET on `stream`, which carried `used` requests before; the outcome, and
/// the stream when it may carry another.
fn request(mut stream: TcpStream, used: u64) -> (Outcome, Option<TcpStream>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if let Err(e) = stream.write_all(REQUEST) {
        return if used > 0 && is_close(&e) {
            (Outcome::ClosedBeforeAnswer, None)
        } else {
            (Outcome::Failed(format!("write: {e}")), None)
        };
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                match parse(&response) {
                    None => {}
                    Some(Ok((pid, close))) => {
                        return (Outcome::Answered(pid), (!close).then_some(stream));
                    }
                    Some(Err(e)) => return (Outcome::Failed(e), None),
                }
            }
            Err(e) if response.is_empty() && used > 0 && is_close(&e) => {
                return (Outcome::ClosedBeforeAnswer, None);
            }
            Err(e) => {
                return (
                    Outcome::Failed(format!("read: {e} after {} bytes", response.len())),
                    None,
                );
            }
        }
    }
    if response.is_empty() && used > 0 {
        (Outcome::ClosedBeforeAnswer, None)
    } else {
        (
            Outcome::Failed(format!(
                "closed after {} bytes of the response: {:?}",
                response.len(),
                String::from_utf8_lossy(&response)
            )),
            None,
        )
    }
}

fn is_close(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
    )
}

/// A complete response's pid and whether it closes the connection; `None` while
/// incomplete; an error for anything but a 200 with a pid.
fn parse(response: &[u8]) -> Option<Result<(u32, bool), String>> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let body = &response[end + 4..];
    if !head.starts_with("http/1.1 200 ") {
        return Some(Err(format!("not a 200: {head:?}")));
    }
    let length: usize = match head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
    {
        Some(length) => length,
        None => return Some(Err(format!("no Content-Length: {head:?}"))),
    };
    if body.len() < length {
        return None;
    }
    let close = head.lines().any(|line| line == "connection: close");
    Some(
        std::str::from_utf8(&body[..length])
            .ok()
            .and_then(|b| b.trim().parse().ok())
            .map(|pid| (pid, close))
            .ok_or_else(|| format!("not a pid: {body:?}")),
    )
}
