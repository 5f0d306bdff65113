//! A request's forwarding headers applied to its environ (SPEC PROXY rules): from a
//! trusted proxy they say who the client is and what it asked; from anyone else
//! they are removed, so that no app can take a client's forgery for a proxy's word.

use std::net::SocketAddr;

use gateway_spec::{Environ, Scheme};
use http::header::{HeaderName, FORWARDED, HOST};
use http::{HeaderMap, HeaderValue};

use crate::forwarded_syntax::{parse_address_list, parse_forwarded, rightmost, valid_host, Node};
use crate::trusted_proxies::TrustedProxies;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");

/// Every forwarding header this file reads or removes.
const FORWARDING: [HeaderName; 5] = [
    FORWARDED,
    X_FORWARDED_FOR,
    X_FORWARDED_PROTO,
    X_FORWARDED_HOST,
    X_FORWARDED_PORT,
];

/// What the forwarding headers of a trusted proxy say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Forwarded {
    client: Option<SocketAddr>,
    proto: Option<Scheme>,
    host: Option<String>,
    port: Option<u16>,
}

/// Applies the forwarding headers of `environ`'s request, received from `peer`
/// (`None`: a Unix-socket peer), as `trusted` allows (PROXY-2 to PROXY-5).
pub(crate) fn apply(environ: &mut Environ, trusted: &TrustedProxies, peer: Option<SocketAddr>) {
    // Most requests carry none: one pass over the few names, no hashing.
    if !environ.headers.keys().any(is_forwarding) {
        return;
    }
    if !trusted.trusts(peer) {
        for name in FORWARDING {
            environ.headers.remove(name);
        }
        return;
    }
    let said = if environ.headers.contains_key(FORWARDED) {
        from_forwarded(&environ.headers, trusted)
    } else {
        from_x_forwarded(&environ.headers, trusted)
    };
    if let Some(client) = said.client {
        environ.remote_addr = Some(client);
    }
    let scheme_changed = said.proto.is_some_and(|p| p != environ.url_scheme);
    if let Some(proto) = said.proto {
        environ.url_scheme = proto;
    }
    let mut host = said.host.or_else(|| {
        // A new scheme changes the default port of the Host the client sent.
        scheme_changed
            .then(|| environ.headers.get(HOST)?.to_str().ok().map(str::to_owned))
            .flatten()
    });
    if let Some(port) = said.port {
        let base = host
            .take()
            .or_else(|| Some(environ.headers.get(HOST)?.to_str().ok()?.to_owned()))
            .unwrap_or_else(|| environ.server_name.clone());
        host = Some(with_port(&base, port, environ.url_scheme));
    }
    if let Some(host) = host {
        if let Ok(value) = HeaderValue::from_str(&host) {
            environ.headers.insert(HOST, value);
            environ.set_server_from_host(&host);
        }
    }
}

fn is_forwarding(name: &HeaderName) -> bool {
    let name = name.as_str();
    name == "forwarded"
        || (name.starts_with("x-forwarded-") && FORWARDING.iter().any(|n| n.as_str() == name))
}

/// Every field line of `name` as text; `None` when one is not visible ASCII.
fn values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Vec<&'a str>> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok())
        .collect()
}

/// `Forwarded`, read from the right: the first hop whose `for=` is not itself a
/// trusted proxy is the client's (all trusted: the leftmost), and its `proto=`
/// and `host=` say what the client asked for (PROXY-3).
fn from_forwarded(headers: &HeaderMap, trusted: &TrustedProxies) -> Forwarded {
    let Some(hops) = values(headers, &FORWARDED).and_then(|v| parse_forwarded(&v)) else {
        log::debug!("a malformed Forwarded header from a trusted proxy was ignored");
        return Forwarded::default();
    };
    let is_proxy =
        |node: &Option<Node>| matches!(node, Some(Node::Addr(a)) if trusted.trusts_ip(a.ip()));
    let Some(hop) = hops
        .iter()
        .rev()
        .find(|hop| !is_proxy(&hop.from))
        .or(hops.first())
    else {
        return Forwarded::default();
    };
    Forwarded {
        client: match hop.from {
            Some(Node::Addr(addr)) => Some(addr),
            // unknown or obfuscated: the client's address stays untold.
            _ => None,
        },
        proto: hop.proto,
        host: hop.host.clone(),
        port: None,
    }
}

/// `X-Forwarded-For` read from the right as `Forwarded` is; `-Proto`, `-Host` and
/// `-Port` by their rightmost value, the one the nearest proxy set. Each header
/// that is malformed is ignored on its own (PROXY-4).
fn from_x_forwarded(headers: &HeaderMap, trusted: &TrustedProxies) -> Forwarded {
    let client = values(headers, &X_FORWARDED_FOR).and_then(|list| {
        if list.is_empty() {
            return None;
        }
        let Some(addrs) = parse_address_list(&list) else {
            log::debug!("a malformed X-Forwarded-For from a trusted proxy was ignored");
            return None;
        };
        let ip = addrs
            .iter()
            .rev()
            .find(|ip| !trusted.trusts_ip(**ip))
            .or(addrs.first())?;
        Some(SocketAddr::new(*ip, 0))
    });
    let last =
        |name: &HeaderName| values(headers, name).and_then(|v| rightmost(&v).map(str::to_owned));
    let proto = last(&X_FORWARDED_PROTO).and_then(|p| match p.to_ascii_lowercase().as_str() {
        "http" => Some(Scheme::Http),
        "https" => Some(Scheme::Https),
        _ => None,
    });
    let host = last(&X_FORWARDED_HOST).filter(|h| valid_host(h).is_some());
    let port = last(&X_FORWARDED_PORT)
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p != 0);
    Forwarded {
        client,
        proto,
        host,
        port,
    }
}

/// `host` (`name[:port]`) with `port` instead of its own; none shown when it is
/// the scheme's default.
fn with_port(host: &str, port: u16, scheme: Scheme) -> String {
    let name = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    };
    if port == scheme.default_port() {
        name.to_owned()
    } else {
        format!("{name}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn environ(headers: &[(&str, &str)]) -> Environ {
        let mut environ = Environ::new(Method::GET, "/").unwrap();
        environ.remote_addr = Some("127.0.0.1:40000".parse().unwrap());
        for (name, value) in headers {
            environ.headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        if let Some(host) = environ.headers.get(HOST).and_then(|h| h.to_str().ok()) {
            let host = host.to_owned();
            environ.set_server_from_host(&host);
        }
        environ
    }

    fn applied(headers: &[(&str, &str)], trusted: &str, peer: Option<&str>) -> Environ {
        let mut e = environ(headers);
        let peer = peer.map(|p| p.parse().unwrap());
        apply(&mut e, &trusted.parse().unwrap(), peer);
        e
    }

    const PROXY: Option<&str> = Some("127.0.0.1:40000");

    #[test]
    fn a_trusted_proxys_x_forwarded_headers_set_the_client_the_scheme_and_the_host() {
        let e = applied(
            &[
                ("host", "backend:8000"),
                ("x-forwarded-for", "203.0.113.9, 10.0.0.2"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "example.com"),
            ],
            "127.0.0.1,10.0.0.0/8",
            PROXY,
        );
        assert_eq!(e.remote_addr, Some("203.0.113.9:0".parse().unwrap()));
        assert_eq!(e.url_scheme, Scheme::Https);
        assert_eq!(
            (e.server_name.as_str(), e.server_port),
            ("example.com", 443)
        );
        assert_eq!(e.headers[HOST], "example.com");
        // The headers stay for the app to read.
        assert_eq!(e.headers["x-forwarded-for"], "203.0.113.9, 10.0.0.2");
    }

    #[test]
    fn a_list_is_read_from_the_right_and_a_forged_left_part_is_not_believed() {
        // The client wrote "1.1.1.1" itself; the proxy appended the real address.
        let e = applied(
            &[("x-forwarded-for", "1.1.1.1, 198.51.100.4")],
            "127.0.0.1",
            PROXY,
        );
        assert_eq!(e.remote_addr, Some("198.51.100.4:0".parse().unwrap()));
        // Every hop trusted: the leftmost.
        let e = applied(
            &[("x-forwarded-for", "10.0.0.1, 10.0.0.2")],
            "127.0.0.1,10.0.0.0/8",
            PROXY,
        );
        assert_eq!(e.remote_addr, Some("10.0.0.1:0".parse().unwrap()));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_and_its_hop_gives_proto_and_host() {
        let e = applied(
            &[
                ("host", "backend"),
                ("x-forwarded-for", "192.0.2.99"),
                (
                    "forwarded",
                    r#"for="[2001:db8::7]:4711";proto=https;host="shop.example:8443""#,
                ),
            ],
            "127.0.0.1",
            PROXY,
        );
        assert_eq!(e.remote_addr, Some("[2001:db8::7]:4711".parse().unwrap()));
        assert_eq!(e.url_scheme, Scheme::Https);
        assert_eq!(
            (e.server_name.as_str(), e.server_port),
            ("shop.example", 8443)
        );
    }

    #[test]
    fn a_new_scheme_or_port_moves_the_default_port_of_the_clients_host() {
        let e = applied(
            &[("host", "example.com"), ("x-forwarded-proto", "https")],
            "127.0.0.1",
            PROXY,
        );
        assert_eq!(
            (e.server_name.as_str(), e.server_port),
            ("example.com", 443)
        );
        let e = applied(
            &[("host", "example.com"), ("x-forwarded-port", "8080")],
            "127.0.0.1",
            PROXY,
        );
        assert_eq!(e.headers[HOST], "example.com:8080");
        assert_eq!(e.server_port, 8080);
    }

    #[test]
    fn malformed_values_change_nothing_and_an_unknown_scheme_is_ignored() {
        for (name, value) in [
            ("x-forwarded-for", "evil"),
            ("x-forwarded-for", "1.2.3.4,"),
            ("forwarded", "for=\"1.2.3.4"),
            ("forwarded", "for=nonsense"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-host", "evil.com/x"),
            ("x-forwarded-port", "99999"),
        ] {
            let e = applied(&[("host", "backend"), (name, value)], "127.0.0.1", PROXY);
            assert_eq!(
                e.remote_addr,
                Some("127.0.0.1:40000".parse().unwrap()),
                "{name}: {value}"
            );
            assert_eq!(e.url_scheme, Scheme::Http, "{name}: {value}");
            assert_eq!(
                (e.server_name.as_str(), e.server_port),
                ("backend", 80),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn an_untrusted_peers_forwarding_headers_change_nothing_and_are_removed() {
        let e = applied(
            &[
                ("host", "backend"),
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https"),
                ("forwarded", "for=203.0.113.9"),
                ("x-forwarded-host", "evil"),
                ("x-forwarded-port", "1"),
                ("x-other", "kept"),
            ],
            "",
            PROXY,
        );
        assert_eq!(e.remote_addr, Some("127.0.0.1:40000".parse().unwrap()));
        assert_eq!(e.url_scheme, Scheme::Http);
        assert_eq!(e.server_name, "backend");
        for name in FORWARDING {
            assert!(!e.headers.contains_key(&name), "{name}");
        }
        assert_eq!(e.headers["x-other"], "kept");
    }

    #[test]
    fn a_unix_socket_peer_is_trusted_even_with_an_empty_list() {
        let e = applied(&[("x-forwarded-for", "203.0.113.9")], "", None);
        assert_eq!(e.remote_addr, Some("203.0.113.9:0".parse().unwrap()));
    }
}
