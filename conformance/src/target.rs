//! The server under test, known only by its address: either the one named by
//! `CONFORMANCE_TARGET`, or the reference server hosting the fixture app, started
//! once per process on an ephemeral loopback port.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use fixtures::raw_client::{connect, Reader, Response};
use serde_json::Value;
use thiserror::Error;

/// Why a target cannot be used.
#[derive(Debug, Error)]
pub enum TargetError {
    /// The URL is not `http://host:port`.
    #[error("target {0:?} is not an http://host:port URL; give e.g. http://127.0.0.1:8000")]
    BadUrl(String),
    /// The host does not resolve.
    #[error("target {url:?} does not resolve: {source}")]
    Resolve {
        /// The URL given.
        url: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The local reference server could not start.
    #[error("the reference server could not start: {0}")]
    Start(String),
    /// No target was named and the kit was built without the local server.
    #[error("set CONFORMANCE_TARGET=http://host:port: this build has no local reference server (feature `local`)")]
    NoTarget,
    /// A limit of the target given in the environment is not a number.
    #[error("{name}={value:?} is not a whole number; give {what}")]
    BadLimit {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should hold.
        what: &'static str,
    },
}

/// A server hosting the fixture app at its root.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    /// The address connections go to.
    pub addr: SocketAddr,
    /// The target's body inactivity timeout (LIMIT-10): how long the 408 check
    /// waits, plus a margin.
    pub body_timeout: Duration,
    /// The target's request body limit (LIMIT-5): the 413 check announces one
    /// octet more.
    pub max_body: u64,
}

/// The environment variable that points the suite at another server.
pub const TARGET_ENV: &str = "CONFORMANCE_TARGET";
/// The target's body inactivity timeout in seconds (default 30, SPEC's reference).
pub const BODY_TIMEOUT_ENV: &str = "CONFORMANCE_BODY_TIMEOUT";
/// The target's request body limit in octets (default 1 GiB, SPEC's reference).
pub const MAX_BODY_ENV: &str = "CONFORMANCE_MAX_BODY";

/// The body timeout the local reference server runs with: short, so that the 408
/// check takes seconds rather than SPEC's default 30.
#[cfg(feature = "local")]
const LOCAL_BODY_TIMEOUT: Duration = Duration::from_secs(2);

/// A whole number from the environment, or `default` when unset.
fn limit_from_env(
    name: &'static str,
    default: u64,
    what: &'static str,
) -> Result<u64, TargetError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map_err(|_| TargetError::BadLimit { name, value, what }),
        _ => Ok(default),
    }
}

impl Target {
    /// The target of a URL such as `http://127.0.0.1:8000`.
    pub fn from_url(url: &str) -> Result<Self, TargetError> {
        let authority = url
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .ok_or_else(|| TargetError::BadUrl(url.to_owned()))?;
        let addr = authority
            .to_socket_addrs()
            .map_err(|source| TargetError::Resolve {
                url: url.to_owned(),
                source,
            })?
            .next()
            .ok_or_else(|| TargetError::BadUrl(url.to_owned()))?;
        let seconds = limit_from_env(BODY_TIMEOUT_ENV, 30, "seconds, such as 30")?;
        Ok(Self {
            base: format!("http://{authority}"),
            addr,
            body_timeout: Duration::from_secs(seconds),
            max_body: limit_from_env(MAX_BODY_ENV, 1 << 30, "octets, such as 1073741824")?,
        })
    }

    /// The target of `CONFORMANCE_TARGET`, or else the local reference server
    /// (with the `local` feature; without it, the variable must be set).
    pub fn from_env() -> Result<Self, TargetError> {
        match std::env::var(TARGET_ENV) {
            Ok(url) if !url.is_empty() => Self::from_url(&url),
            #[cfg(feature = "local")]
            _ => Self::local(),
            #[cfg(not(feature = "local"))]
            _ => Err(TargetError::NoTarget),
        }
    }

    /// The reference server hosting the fixture app, started once per process.
    #[cfg(feature = "local")]
    pub fn local() -> Result<Self, TargetError> {
        use std::net::TcpListener;
        use std::sync::OnceLock;
        static LOCAL: OnceLock<Result<SocketAddr, String>> = OnceLock::new();
        let addr = LOCAL
            .get_or_init(|| {
                let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
                let config = reference_server::Config {
                    body_read_timeout: LOCAL_BODY_TIMEOUT,
                    // The kit's client is a loopback peer: run as section 15.2
                    // asks, believing no proxy (ENV-26, PROXY-5).
                    trusted_proxies: reference_server::TrustedProxies::none(),
                    ..reference_server::Config::default()
                };
                let handle = reference_server::Server::from_listener(listener)
                    .config(config)
                    .spawn(fixtures::FixtureApp::new())
                    .map_err(|e| e.to_string())?;
                let addr = handle.local_addr();
                // Serves until the process ends: the handle is never dropped.
                std::mem::forget(handle);
                Ok(addr)
            })
            .clone()
            .map_err(TargetError::Start)?;
        Ok(Self {
            base: format!("http://{addr}"),
            addr,
            body_timeout: LOCAL_BODY_TIMEOUT,
            max_body: reference_server::Config::default().max_body_bytes,
        })
    }

    /// A new connection to the target.
    pub fn reader(&self) -> Reader {
        Reader::new(connect(self.addr))
    }

    /// Sends raw `request` bytes on a new connection and reads one response.
    pub fn exchange(&self, request: &[u8]) -> Response {
        let mut reader = self.reader();
        reader.send(request);
        let method = request.split(|&b| b == b' ').next().unwrap_or_default();
        reader
            .response(&String::from_utf8_lossy(method))
            .expect("the server answered nothing and closed the connection")
    }

    /// `GET path` with a Host header, on a new connection.
    pub fn get(&self, path: &str) -> Response {
        self.exchange(format!("GET {path} HTTP/1.1\r\nHost: conformance.test\r\n\r\n").as_bytes())
    }

    /// The JSON body of `GET path`.
    pub fn get_json(&self, path: &str) -> Result<Value, String> {
        json_of(&self.get(path))
    }

    /// How many times the fixture app ran with PATH_INFO `path` (its latin-1 view).
    pub fn seen(&self, path: &str) -> Result<u64, String> {
        let value = self.get_json(&format!("/fixture/seen?path={}", encode(path)))?;
        value["seen"]
            .as_u64()
            .ok_or_else(|| format!("no count in {value}"))
    }

    /// How many times a body labelled `id` was closed.
    pub fn closed(&self, id: &str) -> Result<u64, String> {
        let value = self.get_json(&format!("/fixture/closed?id={id}"))?;
        value["closed"]
            .as_u64()
            .ok_or_else(|| format!("no count in {value}"))
    }

    /// How many chunks were pulled from a body labelled `id`.
    pub fn pulled(&self, id: &str) -> Result<u64, String> {
        let value = self.get_json(&format!("/fixture/pulled?id={id}"))?;
        value["pulled"]
            .as_u64()
            .ok_or_else(|| format!("no count in {value}"))
    }
}

/// The JSON body of a response, or why it is not one.
pub fn json_of(response: &Response) -> Result<Value, String> {
    serde_json::from_slice(&response.body).map_err(|e| {
        format!(
            "expected a JSON body, got status {} and {:?}: {e}",
            response.status,
            response.text()
        )
    })
}

/// Percent-encodes a PATH_INFO as the fixture's counters expect it: each char of
/// the latin-1 view is the octet of the same code point; everything but unreserved
/// characters and `/` is escaped.
pub fn encode(path_info: &str) -> String {
    const KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    let octets: Vec<u8> = path_info
        .chars()
        .flat_map(|c| match u8::try_from(u32::from(c)) {
            Ok(octet) => vec![octet],
            Err(_) => c.to_string().into_bytes(),
        })
        .collect();
    percent_encoding::percent_encode(&octets, KEEPS).to_string()
}

/// A label unique within this process, for `id=` parameters and paths.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_info_chars_encode_as_their_octets() {
        assert_eq!(encode("/a b\u{e9}\u{ff}"), "/a%20b%E9%FF");
    }

    #[test]
    fn urls_must_be_plain_http_host_and_port() {
        assert!(Target::from_url("http://127.0.0.1:8000").is_ok());
        assert!(Target::from_url("http://127.0.0.1:8000/").is_ok());
        assert!(Target::from_url("https://127.0.0.1:8000").is_err());
        assert!(Target::from_url("http://127.0.0.1:8000/path").is_err());
        assert!(Target::from_url("127.0.0.1:8000").is_err());
    }
}
