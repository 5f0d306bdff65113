//! The trusted-proxy flag: whose Forwarded and X-Forwarded-* headers say who the
//! client is (SPEC PROXY rules); its default is the library's.

use clap::Args;
use reference_server::TrustedProxies;

/// The proxy flags.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Peers whose Forwarded and X-Forwarded-For/-Proto/-Host/-Port headers set the
    /// client address, scheme and host the app sees: comma-separated addresses and
    /// CIDR ranges, * for every peer, '' for none. Unix-socket peers are always
    /// trusted; from any other peer those headers are removed.
    #[arg(long, env = "GATEWAY_FORWARDED_ALLOW_IPS", value_parser = parse_trusted,
          default_value_t = TrustedProxies::default())]
    pub forwarded_allow_ips: TrustedProxies,
}

fn parse_trusted(text: &str) -> Result<TrustedProxies, String> {
    text.parse()
        .map_err(|e: reference_server::TrustedProxiesError| e.to_string())
}
