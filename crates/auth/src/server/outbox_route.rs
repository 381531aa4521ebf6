//! `GET /dev/outbox[?to=email]`: the development outbox as JSON (oldest first), for a
//! developer or a browser test to sign in without a mail server. A sign-in link read
//! there is a sign-in, so only a client on this machine is answered: anyone else (also
//! a client a proxy forwards, trusted or not) gets a 404 as if the route did not exist.

use super::{mailer::DevOutbox, ClientAddr};
use axum::{
    extract::{ConnectInfo, Query},
    http::{HeaderMap, HeaderName, StatusCode},
    response::IntoResponse,
    routing::{get, MethodRouter},
    Extension, Json,
};
use serde::Deserialize;
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

/// Optional filter by recipient.
#[derive(Deserialize)]
struct OutboxQuery {
    to: Option<String>,
}

/// The route that lists what `outbox` "sent", to a client on this machine. It needs the
/// TCP peer: serve with `into_make_service_with_connect_info::<SocketAddr>()` (without
/// it every request is answered 404).
pub fn outbox_route<S: Clone + Send + Sync + 'static>(outbox: Arc<DevOutbox>) -> MethodRouter<S> {
    get(
        move |peer: Option<Extension<ConnectInfo<SocketAddr>>>,
              client: Option<Extension<ClientAddr>>,
              headers: HeaderMap,
              Query(query): Query<OutboxQuery>| async move {
            let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
            let client = client.map(|Extension(ClientAddr(ip))| ip);
            if from_this_machine(peer, client, &headers) {
                Json(outbox.messages(query.to.as_deref())).into_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        },
    )
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
static FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// One forwarding entry: an address, maybe with a port (`1.2.3.4:80`, `[::1]:80`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
}

/// Whether a request comes from this machine and speaks for no one else: the TCP peer,
/// the client address the app's proxy rules resolved (when it has any), and every
/// address a forwarding header names are loopback. An unknown peer, an unreadable
/// forwarding entry or a `Forwarded` header count as elsewhere.
fn from_this_machine(peer: Option<IpAddr>, client: Option<IpAddr>, headers: &HeaderMap) -> bool {
    let loopback = |ip: &IpAddr| ip.to_canonical().is_loopback();
    let forwarded_all_loopback = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .chain(headers.get_all(&X_REAL_IP))
        .all(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .all(|entry| forwarded_address(entry).is_some_and(|ip| loopback(&ip)))
            })
        });
    peer.is_some_and(|ip| loopback(&ip))
        && client.is_none_or(|ip| loopback(&ip))
        && forwarded_all_loopback
        && !headers.contains_key(&FORWARDED)
}

#[cfg(test)]
mod tests {
    use super::from_this_machine;
    use axum::http::HeaderMap;
    use std::net::IpAddr;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_client_on_this_machine_is_answered() {
        let none = HeaderMap::new();
        assert!(from_this_machine(ip("127.0.0.1"), ip("127.0.0.1"), &none));
        assert!(from_this_machine(ip("::1"), None, &none));
        assert!(from_this_machine(ip("::ffff:127.0.0.1"), None, &none));
        // A proxy on this machine forwarding a client on this machine.
        let local = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert!(from_this_machine(ip("127.0.0.2"), ip("127.0.0.1"), &local));
        let with_port = headers(&[("x-forwarded-for", "[::1]:5000")]);
        assert!(from_this_machine(ip("127.0.0.1"), None, &with_port));
    }

    #[test]
    fn anyone_elsewhere_is_not() {
        let none = HeaderMap::new();
        assert!(!from_this_machine(
            ip("203.0.113.9"),
            ip("203.0.113.9"),
            &none
        ));
        assert!(!from_this_machine(None, None, &none));
        // Forwarded by a trusted proxy: the resolved client is remote.
        assert!(!from_this_machine(
            ip("127.0.0.1"),
            ip("203.0.113.9"),
            &none
        ));
        // Forwarded by a proxy on this machine that the app does not trust.
        for forwarded in [
            headers(&[("x-forwarded-for", "203.0.113.9")]),
            headers(&[("x-forwarded-for", "127.0.0.1, 203.0.113.9")]),
            headers(&[("x-forwarded-for", "unknown")]),
            headers(&[("x-real-ip", "203.0.113.9")]),
            headers(&[("forwarded", "for=127.0.0.1")]),
        ] {
            assert!(!from_this_machine(
                ip("127.0.0.1"),
                ip("127.0.0.1"),
                &forwarded
            ));
        }
    }
}
