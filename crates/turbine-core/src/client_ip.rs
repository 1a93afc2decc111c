//! Trusted proxies and the client's IP address.
//!
//! `X-Forwarded-For` and `X-Request-Id` are believed only from peers listed in
//! `server.trusted_proxies`; anyone else could forge them.
//!
//! Batteries use it too (login throttling keys on the client's address).
//!
//! ```
//! use std::net::IpAddr;
//! use http::HeaderMap;
//! use turbine_core::client_ip::TrustedProxies;
//!
//! let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
//! let mut headers = HeaderMap::new();
//! headers.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
//! // Believed from a trusted proxy...
//! let peer: IpAddr = "10.0.0.2".parse().unwrap();
//! assert_eq!(proxies.client_ip(peer, &headers).to_string(), "203.0.113.7");
//! // ...ignored from anyone else.
//! let peer: IpAddr = "198.51.100.1".parse().unwrap();
//! assert_eq!(proxies.client_ip(peer, &headers), peer);
//! ```
//!
//! In a handler, the [`ClientIp`] extractor gives the same answer.

use std::net::{IpAddr, SocketAddr};

use crate::context::Context;
use crate::problem::Problem;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use http::request::Parts;
use ipnet::IpNet;

/// The set of trusted proxy networks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// These networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// `server.trusted_proxies`.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self::new(config.settings().server.trusted_proxies.clone())
    }

    /// `true` when `ip` is in one of the trusted networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address: the peer itself, or, behind trusted proxies, the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or("?"))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        // Walk from the nearest hop; stop at the first untrusted one. An entry that does not parse
        // ends the walk: whatever lies left of it was written by someone not trusted.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !self.contains(client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// Extracts the client's IP address, honouring `X-Forwarded-For` from trusted proxies only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Rejection of [`ClientIp`]: the server was not started with connection info.
#[derive(Debug)]
pub struct ClientIpRejection;

impl IntoResponse for ClientIpRejection {
    fn into_response(self) -> Response {
        tracing::error!(
            "ClientIp used without connection info: serve the app with App::run or turbine::testing"
        );
        Problem::internal().into_response()
    }
}

impl FromRequestParts<Context> for ClientIp {
    type Rejection = ClientIpRejection;

    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or(ClientIpRejection)?
            .0
            .ip();
        let ip = match ctx.get::<TrustedProxies>() {
            Some(trusted) => trusted.client_ip(peer, &parts.headers),
            None => TrustedProxies::from_config(ctx.config()).client_ip(peer, &parts.headers),
        };
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let t = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(t.client_ip(peer, &headers("1.2.3.4")), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let ip = t.client_ip(peer, &headers("6.6.6.6, 198.51.100.7, 10.0.0.5"));
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_unparsable_hop_ends_the_walk() {
        let t = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        // The proxy wrote `ip:port`; the client-supplied 6.6.6.6 must not be believed.
        let ip = t.client_ip(peer, &headers("6.6.6.6, 198.51.100.7:4711"));
        assert_eq!(ip, peer);
        let ip = t.client_ip(peer, &headers("6.6.6.6, unknown, 10.0.0.9"));
        assert_eq!(ip, "10.0.0.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let t = TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(t.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
    }
}
