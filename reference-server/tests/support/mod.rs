//! Shared helpers of the wire tests: start a server on an ephemeral loopback port,
//! speak raw bytes to it, read responses with every wait bounded by a timeout.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use gateway_spec::App;
use reference_server::{Config, Server, ServerHandle};

/// Every read in these tests gives up after this long.
pub const WAIT: Duration = Duration::from_secs(5);

pub fn start(app: impl App) -> ServerHandle {
    start_with(app, Config::default())
}

pub fn start_with(app: impl App, config: Config) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    Server::from_listener(listener)
        .config(config)
        .spawn(app)
        .expect("the server starts")
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the server");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body ended properly (length reached, final chunk seen).
    pub complete: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads responses from one connection, keeping bytes between them.
pub struct Reader {
    pub stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Reader {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send request bytes");
    }

    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                self.eof = true;
                false
            }
            Err(e) => panic!("reading a response failed (timeout is {WAIT:?}): {e}"),
        }
    }

    /// Reads one response to a request with `method`; `None` at a clean EOF.
    pub fn response(&mut self, method: &str) -> Option<Response> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if !self.fill() {
                assert!(
                    self.buf.is_empty(),
                    "connection closed mid-head: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let mut parts = status_line.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts.next().unwrap().parse().unwrap();
        let reason = parts.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_owned(), v.trim().to_owned())
            })
            .collect();
        let mut response = Response {
            status,
            reason,
            headers,
            body: Vec::new(),
            complete: true,
        };
        if status == 100 {
            return Some(response);
        }
        if method == "HEAD" || status == 204 || status == 304 {
            return Some(response);
        }
        if let Some(len) = response.header("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len && self.fill() {}
            let n = len.min(self.buf.len());
            response.body = self.buf.drain(..n).collect();
            response.complete = n == len;
        } else if response.header("transfer-encoding").is_some() {
            response.complete = false;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break Some(i);
                    }
                    if !self.fill() {
                        break None;
                    }
                };
                let Some(line_end) = line_end else { break };
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&self.buf[..line_end]).trim(),
                    16,
                )
                .unwrap();
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 && self.fill() {}
                if self.buf.len() < size + 2 {
                    response.body.append(&mut self.buf);
                    break;
                }
                response.body.extend(self.buf.drain(..size));
                self.buf.drain(..2);
                if size == 0 {
                    response.complete = true;
                    break;
                }
            }
        } else {
            while self.fill() {}
            response.body = std::mem::take(&mut self.buf);
        }
        Some(response)
    }

    /// Whether the server closed the connection (EOF or reset) within `WAIT`.
    pub fn is_closed(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if !self.fill() {
                return true;
            }
        }
        false
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut reader = Reader::new(connect(addr));
    reader.send(request);
    let method = String::from_utf8_lossy(request)
        .split(' ')
        .next()
        .unwrap_or("")
        .to_owned();
    reader.response(&method).expect("a response")
}
