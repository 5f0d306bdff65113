//! Which peers are trusted proxies, whose Forwarded and X-Forwarded-* headers may
//! say who the client is: addresses and CIDR ranges, `*` for all (SPEC PROXY-1).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// The peers whose forwarding headers are believed. Unix-socket peers always are:
/// only who may open the socket file connects, which is how a proxy on the same
/// host reaches the server.
///
/// ```
/// use reference_server::TrustedProxies;
///
/// let trusted: TrustedProxies = "10.0.0.0/8, 192.0.2.7".parse().unwrap();
/// assert!(trusted.trusts_ip("10.1.2.3".parse().unwrap()));
/// assert!(!trusted.trusts_ip("192.0.2.8".parse().unwrap()));
/// assert!("*".parse::<TrustedProxies>().unwrap().trusts_ip("203.0.113.9".parse().unwrap()));
/// assert!("".parse::<TrustedProxies>().unwrap().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies {
    every_peer: bool,
    nets: Vec<IpNet>,
}

/// A value of the trusted-proxy list that is neither an address, a CIDR range,
/// nor `*`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address, a CIDR range (such as 10.0.0.0/8) or *")]
pub struct TrustedProxiesError(String);

impl TrustedProxies {
    /// Loopback only (`127.0.0.1` and `::1`), as gunicorn's `forwarded_allow_ips`:
    /// a proxy on the same host, such as nginx, is believed.
    pub fn loopback() -> Self {
        Self {
            every_peer: false,
            nets: vec![
                IpNet::from(IpAddr::from([127, 0, 0, 1])),
                IpNet::from(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
            ],
        }
    }

    /// No TCP peer (Unix-socket peers still are).
    pub fn none() -> Self {
        Self {
            every_peer: false,
            nets: Vec::new(),
        }
    }

    /// Whether no TCP peer is trusted.
    pub fn is_empty(&self) -> bool {
        !self.every_peer && self.nets.is_empty()
    }

    /// Whether the connection's peer is trusted (`None`: a Unix-socket peer).
    pub fn trusts(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_none_or(|addr| self.trusts_ip(addr.ip()))
    }

    /// Whether `ip` is a trusted proxy; an IPv4-mapped IPv6 address counts as
    /// its IPv4 address.
    pub fn trusts_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.every_peer || self.nets.iter().any(|net| net.contains(&ip))
    }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self::loopback()
    }
}

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    /// A comma-separated list; blanks around items are ignored, an empty list
    /// trusts no TCP peer.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut trusted = Self::none();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item == "*" {
                trusted.every_peer = true;
                continue;
            }
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| TrustedProxiesError(item.to_owned()))?;
            trusted.nets.push(net.trunc());
        }
        Ok(trusted)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self
            .nets
            .iter()
            .map(|net| match net.prefix_len() {
                32 | 128 => net.addr().to_string(),
                _ => net.to_string(),
            })
            .collect();
        if self.every_peer {
            items.push("*".to_owned());
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_print_back() {
        let trusted: TrustedProxies = " 127.0.0.1 ,::1,10.0.0.0/8,fd00::/8".parse().unwrap();
        assert_eq!(trusted.to_string(), "127.0.0.1,::1,10.0.0.0/8,fd00::/8");
        assert_eq!(TrustedProxies::default().to_string(), "127.0.0.1,::1");
        assert_eq!(
            "10.1.2.3/8".parse::<TrustedProxies>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        for bad in ["localhost", "10.0.0.0/33", "1.2.3", "::1/129", "**"] {
            let error = bad.parse::<TrustedProxies>().unwrap_err();
            assert!(error.to_string().contains("CIDR"), "{bad}: {error}");
        }
    }

    #[test]
    fn membership_follows_the_ranges_and_unix_peers_are_trusted() {
        let trusted = TrustedProxies::default();
        assert!(trusted.trusts(Some("127.0.0.1:5000".parse().unwrap())));
        assert!(trusted.trusts(Some("[::1]:5000".parse().unwrap())));
        assert!(trusted.trusts(Some("[::ffff:127.0.0.1]:5000".parse().unwrap())));
        assert!(!trusted.trusts(Some("127.0.0.2:5000".parse().unwrap())));
        assert!(!trusted.trusts(Some("192.0.2.1:5000".parse().unwrap())));
        assert!(trusted.trusts(None), "a Unix-socket peer");
        assert!(!TrustedProxies::none().trusts(Some("127.0.0.1:1".parse().unwrap())));
        assert!(TrustedProxies::none().trusts(None));
    }
}
