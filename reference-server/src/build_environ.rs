//! The environ of one request, built from its parsed head and its connection as
//! SPEC.md section 5 says. It reads no bytes; the body arrives through `Input`.

use std::io::{self, Write};
use std::net::SocketAddr;

use gateway_spec::target::TargetError;
use gateway_spec::{Environ, ErrorStream, Input};
use http::header::HOST;
use http::{HeaderMap, HeaderValue};

use crate::body_reader::BodyReader;
use crate::forwarded;
use crate::http1::{BodyFraming, RequestHead};
use crate::request_body::RequestBody;
use crate::TrustedProxies;

/// The connection a request came on, as the environ sees it.
pub(crate) struct Peers<'a> {
    /// The client's address (`None` on a Unix socket).
    pub(crate) peer: Option<SocketAddr>,
    /// Our address (`None` on a Unix socket).
    pub(crate) local: Option<SocketAddr>,
    /// The configured `SERVER_NAME` for requests that name no host.
    pub(crate) server_name: Option<&'a str>,
    /// Whose forwarding headers are believed.
    pub(crate) trusted: &'a TrustedProxies,
}

/// Builds the environ for `head` with its fields as `headers`, whose body the app
/// reads through `body`, received on `peers`.
pub(crate) fn build_environ(
    (head, target): (RequestHead, &str),
    headers: HeaderMap,
    body: RequestBody,
    peers: Peers<'_>,
) -> Result<Environ, TargetError> {
    let Peers {
        peer,
        local,
        server_name,
        trusted,
    } = peers;
    let mut environ = Environ::new(head.method, target)?;
    environ.version = head.version;
    environ.headers = without_underscored_names(headers);
    environ.remote_addr = peer;
    let framing = head.framing;
    environ.content_length = match framing {
        BodyFraming::Length(n) => Some(n),
        BodyFraming::None | BodyFraming::Chunked => None,
    };
    // Only an absolute-form target (not starting with '/') names an authority.
    let absolute_authority = (!target.starts_with('/'))
        .then(|| target.split_once("://"))
        .flatten()
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or_default());
    if let Some(authority) = absolute_authority {
        // Environ::new took SERVER_NAME from the target's authority, which also
        // replaces Host (ENV-19, RFC 9112 section 3.2.2).
        if let Ok(value) = HeaderValue::from_str(authority) {
            environ.headers.insert(HOST, value);
        }
    } else {
        // A clone of the value shares the head's bytes: no copy of the text.
        let host = environ.headers.get(HOST).cloned();
        match host
            .as_ref()
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty())
        {
            Some(host) => environ.set_server_from_host(host),
            None => {
                // HTTP/1.0 without Host, or an empty Host: the server's own name
                // (on a Unix socket, which has no address: the configured name or
                // `localhost`, port 80).
                environ.server_name = server_name.map_or_else(
                    || local.map_or_else(|| "localhost".to_owned(), |a| a.ip().to_string()),
                    str::to_owned,
                );
                environ.server_port = local.map_or(80, |a| a.port());
            }
        }
    }
    // Last: a trusted proxy's word replaces what the connection says (PROXY-2).
    forwarded::apply(&mut environ, trusted, peer);
    environ.input = match framing {
        // Most requests have no body: no reader, no buffer.
        BodyFraming::None | BodyFraming::Length(0) => Input::empty(),
        BodyFraming::Length(_) | BodyFraming::Chunked => Input::new(BodyReader::new(body)),
    };
    environ.errors = ERRORS.with(ErrorStream::clone);
    Ok(environ)
}

/// Drops request headers whose name holds `_` (ENV-18), so that `X_Forwarded_For`
/// can never pose as `X-Forwarded-For` in the CGI view.
fn without_underscored_names(headers: HeaderMap) -> HeaderMap {
    if !headers.keys().any(|name| name.as_str().contains('_')) {
        return headers;
    }
    let mut kept = HeaderMap::with_capacity(headers.len());
    let mut current = None;
    for (name, value) in headers {
        if let Some(name) = name {
            current = Some(name);
        }
        if let Some(name) = current.as_ref().filter(|n| !n.as_str().contains('_')) {
            kept.append(name.clone(), value);
        }
    }
    kept
}

thread_local! {
    // One errors stream per worker thread: made once, cloned per request.
    static ERRORS: ErrorStream = ErrorStream::new(LogLines::default());
}

/// The errors stream of the reference server: each line an app writes becomes one
/// record of the `log` facade, target `gateway::app`, level warn.
#[derive(Default)]
struct LogLines {
    line: Vec<u8>,
}

impl Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        while let Some(end) = self.line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.line.drain(..=end).collect();
            log::warn!(target: "gateway::app", "{}", String::from_utf8_lossy(&line).trim_end());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            log::warn!(target: "gateway::app", "{}", String::from_utf8_lossy(&line));
        }
        Ok(())
    }
}

impl Drop for LogLines {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscored_header_names_are_dropped_and_order_kept() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x_forwarded_for", HeaderValue::from_static("evil"));
        headers.append("x-a", HeaderValue::from_static("2"));
        let kept = without_underscored_names(headers);
        assert_eq!(kept.len(), 2);
        let values: Vec<_> = kept.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
    }
}
