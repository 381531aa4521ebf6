//! Which address a request comes from, for rate limits: the TCP peer, unless the peer is
//! one of `TRUSTED_PROXIES`; then the rightmost address of `X-Forwarded-For` that is not
//! a trusted proxy (each proxy appends the address it saw, so everything to the left of
//! that one was written by the client and proves nothing).
//!
//! A layer resolves it once per request and leaves it in the request's extensions as
//! [`ClientAddr`], where the server functions and `POST /login` read it.

use crate::auth::server::ClientAddr;
use axum::extract::{ConnectInfo, Request};
use http::{header::HeaderName, HeaderMap};
use ipnet::IpNet;
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};
use tower::util::MapRequestLayer;

/// The layer that stores each request's [`ClientAddr`] (nothing when the connection's
/// peer address is unknown, as in router-level tests). A typed `map_request` rather than
/// `axum::middleware::from_fn`, which boxes every request's future and clones the
/// router below it (docs/performance.md).
pub fn layer(trusted: Arc<[IpNet]>) -> MapRequestLayer<impl Fn(Request) -> Request + Clone> {
    MapRequestLayer::new(move |mut request: Request| {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if let Some(peer) = peer {
            let client = client_ip(peer, request.headers(), &trusted);
            request.extensions_mut().insert(ClientAddr(client));
        }
        request
    })
}

pub(super) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Most `X-Forwarded-For` entries looked at (a chain of proxies is short).
const MAX_HOPS: usize = 16;

/// The client's address: `peer`, or what trusted proxies in front of it report.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    // Entries right to left, across repeated headers (later headers are nearer to us).
    let entries: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev().take(MAX_HOPS) {
        // Anything unreadable was not written by a proxy we trust: stop at the hop
        // that passed it on.
        let Some(ip) = parse_entry(entry) else {
            return nearest;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:80`,
/// `[2001:db8::1]:80`).
pub(super) fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(&X_FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let forged = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(ip("198.51.100.7"), &forged, &[]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_forward() {
        let trusted = nets(&["10.0.0.0/8"]);
        let forged = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(ip("198.51.100.7"), &forged, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client forged the first entry; our proxies appended the rest.
        let chain = headers(&["6.6.6.6, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_read() {
        let trusted = nets(&["127.0.0.1/32"]);
        let chain = headers(&["[2001:db8::1]:4711"]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &chain, &trusted),
            ip("2001:db8::1")
        );
        let chain = headers(&["203.0.113.9:80"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn garbage_stops_at_the_proxy_that_passed_it() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let chain = headers(&["not-an-ip, 10.0.0.5"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &chain, &trusted), ip("10.0.0.5"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }
}
