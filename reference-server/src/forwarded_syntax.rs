//! The syntax of the forwarding headers, as pure functions over their values:
//! `Forwarded` (RFC 7239) and the lists of `X-Forwarded-For` and its siblings.

use std::net::{IpAddr, SocketAddr};

use gateway_spec::Scheme;

/// One element of a `Forwarded` list: what one proxy saw of the hop before it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Hop {
    /// `for=`: the node the proxy received the request from.
    pub(crate) from: Option<Node>,
    /// `proto=`, when it is http or https (any other scheme is not kept).
    pub(crate) proto: Option<Scheme>,
    /// `host=`: the Host the proxy received.
    pub(crate) host: Option<String>,
}

/// A node of `for=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// An address, with its port when one was given (else 0).
    Addr(SocketAddr),
    /// `unknown`, or an obfuscated identifier (`_hidden`): no address.
    Hidden,
}

/// The elements of `Forwarded` field values (several field lines are one list, in
/// order); `None` when any part is malformed, so that the header changes nothing.
pub(crate) fn parse_forwarded(values: &[&str]) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    for value in values {
        for element in split_outside_quotes(value, ',')? {
            let mut hop = Hop::default();
            for pair in split_outside_quotes(element, ';')? {
                let pair = pair.trim();
                if pair.is_empty() {
                    continue;
                }
                let (name, raw) = pair.split_once('=')?;
                let value = unquote(raw.trim())?;
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => hop.from = Some(parse_node(&value)?),
                    "proto" => {
                        hop.proto = match value.to_ascii_lowercase().as_str() {
                            "http" => Some(Scheme::Http),
                            "https" => Some(Scheme::Https),
                            _ => None,
                        }
                    }
                    "host" => hop.host = Some(valid_host(&value)?.to_owned()),
                    // `by=` and extensions say nothing the environ reports.
                    name if is_token(name) => {}
                    _ => return None,
                }
            }
            hops.push(hop);
        }
    }
    Some(hops)
}

/// The addresses of `X-Forwarded-For` values, leftmost first; `None` when one is
/// not an address (a port after an IPv4 address or a bracketed IPv6 one is
/// allowed, and dropped).
pub(crate) fn parse_address_list(values: &[&str]) -> Option<Vec<IpAddr>> {
    let mut addrs = Vec::new();
    for value in values {
        for item in value.split(',') {
            let item = item.trim();
            let ip = item
                .parse::<IpAddr>()
                .ok()
                .or_else(|| item.parse::<SocketAddr>().ok().map(|a| a.ip()))
                .or_else(|| {
                    let inner = item.strip_prefix('[')?.strip_suffix(']')?;
                    inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
                })?;
            addrs.push(ip);
        }
    }
    Some(addrs)
}

/// The rightmost item of comma-separated values (what the nearest proxy set),
/// trimmed; `None` when it is empty.
pub(crate) fn rightmost<'a>(values: &[&'a str]) -> Option<&'a str> {
    let item = values.last()?.rsplit(',').next()?.trim();
    (!item.is_empty()).then_some(item)
}

/// A Host value (`name[:port]`) made of visible ASCII with no `/`, `@`, `?` or `#`:
/// anything else is not a host a proxy received.
pub(crate) fn valid_host(host: &str) -> Option<&str> {
    let fine = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'/' | b'@' | b'?' | b'#' | b'\\' | b'"')
        });
    fine.then_some(host)
}

/// A `for=` node: an address (IPv6 in brackets) with an optional port, `unknown`,
/// or an obfuscated `_identifier`.
fn parse_node(value: &str) -> Option<Node> {
    if value.eq_ignore_ascii_case("unknown") || value.starts_with('_') {
        return Some(Node::Hidden);
    }
    if let Ok(ip) = value.parse::<std::net::Ipv4Addr>() {
        return Some(Node::Addr(SocketAddr::new(IpAddr::V4(ip), 0)));
    }
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            (inside, after.strip_prefix(':'))
        }
        None => match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        },
    };
    let ip: IpAddr = if value.starts_with('[') {
        IpAddr::V6(host.parse().ok()?)
    } else {
        IpAddr::V4(host.parse().ok()?)
    };
    let port = match port {
        None => 0,
        // An obfuscated port hides it: the address stays.
        Some(port) if port.starts_with('_') => 0,
        Some(port) => port.parse().ok()?,
    };
    Some(Node::Addr(SocketAddr::new(ip, port)))
}

/// Splits `text` at `separator` where it is not inside a quoted string; `None` for
/// an unterminated quote.
fn split_outside_quotes(text: &str, separator: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

/// A token as it is, or a quoted string without its quotes and escapes.
fn unquote(value: &str) -> Option<String> {
    match value.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' { chars.next()? } else { c });
            }
            Some(out)
        }
        None => is_token(value).then(|| value.to_owned()),
    }
}

/// An RFC 9110 token (with `:` `[` `]` allowed, as proxies write unquoted
/// addresses; RFC 7239 asks them to quote, and lenient parsing costs nothing).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Node {
        Node::Addr(text.parse().unwrap())
    }

    #[test]
    fn forwarded_elements_parse_as_rfc_7239_writes_them() {
        let cases: &[(&[&str], Option<Vec<Hop>>)] = &[
            (
                &["for=192.0.2.43"],
                Some(vec![Hop {
                    from: Some(addr("192.0.2.43:0")),
                    ..Hop::default()
                }]),
            ),
            (
                &[r#"for="[2001:db8:cafe::17]:4711";proto=https;host=example.com"#],
                Some(vec![Hop {
                    from: Some(addr("[2001:db8:cafe::17]:4711")),
                    proto: Some(Scheme::Https),
                    host: Some("example.com".into()),
                }]),
            ),
            (
                &[
                    "for=192.0.2.60;proto=http;by=203.0.113.43",
                    "For=\"_gazonk\", for=unknown",
                ],
                Some(vec![
                    Hop {
                        from: Some(addr("192.0.2.60:0")),
                        proto: Some(Scheme::Http),
                        host: None,
                    },
                    Hop {
                        from: Some(Node::Hidden),
                        ..Hop::default()
                    },
                    Hop {
                        from: Some(Node::Hidden),
                        ..Hop::default()
                    },
                ]),
            ),
            (
                &[r#"for="198.51.100.17:_port";proto=gopher"#],
                Some(vec![Hop {
                    from: Some(addr("198.51.100.17:0")),
                    ..Hop::default()
                }]),
            ),
            (&[r#"for="a,b""#], None),
            (&["for=[2001:db8::1"], None),
            (&["for=not-an-address"], None),
            (&["for=\"192.0.2.1"], None),
            (&["for"], None),
            (&["host=\"a/b\""], None),
            (&["for=1.2.3.4:99999"], None),
            (&["f o r=1.2.3.4"], None),
        ];
        for (values, want) in cases {
            assert_eq!(&parse_forwarded(values), want, "{values:?}");
        }
    }

    #[test]
    fn x_forwarded_for_is_a_list_of_addresses_or_nothing() {
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        assert_eq!(
            parse_address_list(&["203.0.113.9, 10.0.0.1", "::1"]),
            Some(vec![ip("203.0.113.9"), ip("10.0.0.1"), ip("::1")])
        );
        assert_eq!(
            parse_address_list(&["192.0.2.1:4000, [2001:db8::2]"]),
            Some(vec![ip("192.0.2.1"), ip("2001:db8::2")])
        );
        for bad in [
            "",
            "1.2.3.4,",
            "evil",
            "1.2.3.4, unknown",
            "1.2.3.4 5.6.7.8",
        ] {
            assert_eq!(parse_address_list(&[bad]), None, "{bad:?}");
        }
    }

    #[test]
    fn the_rightmost_item_is_what_the_nearest_proxy_set() {
        assert_eq!(rightmost(&["http, https"]), Some("https"));
        assert_eq!(rightmost(&["https", " http "]), Some("http"));
        assert_eq!(rightmost(&["https,"]), None);
        assert_eq!(rightmost(&[]), None);
        assert_eq!(valid_host("example.com:8443"), Some("example.com:8443"));
        assert_eq!(valid_host("evil.com/path"), None);
        assert_eq!(valid_host("a b"), None);
    }
}
