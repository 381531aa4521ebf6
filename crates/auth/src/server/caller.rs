//! Who is calling and with what, read from a request in one place: the client's
//! identity ([`ClientInfo`]: the address rate limits count, the User-Agent the device
//! label comes from), its credentials (the bearer token, the DPoP proof) and the
//! session they prove ([`Authenticated`]). The server functions (`auth/api.rs`) and
//! axum handlers (`POST /login` in `http/login_form.rs`) read them here rather than
//! each assembling them from headers.

use super::{
    failure::{self, ServiceError},
    jwt::MAX_TOKEN_BYTES,
    AuthContext, AuthService, Authenticated,
};
use crate::AuthError;
use axum::extract::{FromRef, FromRequestParts};
use http::{header, request::Parts, HeaderMap};
use std::convert::Infallible;

/// The client's address as the HTTP layer resolved it (the TCP peer, or what trusted
/// proxies forwarded), left in the request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Who is calling, as far as rate limits and device labels care.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// What per-address limits count: the client's IPv4 address, or its IPv6 /64 (one
    /// subscriber usually holds a whole /64, so counting /128s would let one person
    /// rotate through fresh buckets).
    pub ip: String,
    /// Raw User-Agent (only its label is stored).
    pub user_agent: String,
}

/// Longest User-Agent looked at (the label needs far less).
const MAX_USER_AGENT_CHARS: usize = 512;

impl ClientInfo {
    /// From what the HTTP side read: the client's address (see `http/client_ip.rs`) and
    /// the `User-Agent` header.
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip: ip.map(limit_subject).unwrap_or_default(),
            user_agent: user_agent
                .unwrap_or_default()
                .chars()
                .take(MAX_USER_AGENT_CHARS)
                .collect(),
        }
    }
}

impl ClientInfo {
    /// The networks a link request counts in, finest first, each with how many
    /// `RATE_LIMIT_EMAIL` allowances it gets: an IPv4 address (1); an IPv6 /64 (1), its
    /// /56 (2) and its /48 (4).
    pub fn networks(&self) -> Vec<(String, u64)> {
        let Some(v6) = self
            .ip
            .strip_suffix("/64")
            .and_then(|network| network.parse::<std::net::Ipv6Addr>().ok())
        else {
            return vec![(self.ip.clone(), 1)];
        };
        [(64, 1), (56, 2), (48, 4)]
            .into_iter()
            .map(|(prefix, allowances)| {
                let mask = !((1u128 << (128 - prefix)) - 1);
                let network = std::net::Ipv6Addr::from(u128::from(v6) & mask);
                (format!("{network}/{prefix}"), allowances)
            })
            .collect()
    }
}

/// The per-address rate-limit subject of `ip`: IPv4 as is, IPv6 by its /64.
fn limit_subject(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

impl ClientInfo {
    /// The caller of a request: the address the HTTP layer resolved ([`ClientAddr`] in
    /// the extensions; this app's `http/client_ip.rs` puts it there), else the TCP peer
    /// axum's `ConnectInfo` names (an app served with
    /// `into_make_service_with_connect_info`), and the `User-Agent` header.
    pub fn from_parts(parts: &Parts) -> Self {
        let client = parts
            .extensions
            .get::<ClientAddr>()
            .map(|ClientAddr(ip)| *ip)
            .or_else(|| {
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|info| info.0.ip())
            });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Self::new(client, user_agent)
    }
}

/// `ClientInfo` as an axum extractor, for handlers outside the server functions.
impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::from_parts(parts))
    }
}

/// The caller's live session as an axum extractor, for handlers outside the server
/// functions: a valid access token in `Authorization: Bearer`, whose session is live.
/// Otherwise the handler never runs and the answer is the API's own (401
/// `unauthorized`, or 429 / 503), exactly what a protected server function answers.
impl<S> FromRequestParts<S> for Authenticated
where
    AuthContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        let token = bearer_token(&parts.headers)?;
        let context = AuthContext::from_ref(state);
        context
            .service
            .authenticate(token)
            .await
            .map_err(ServiceError::into_answer)
    }
}

/// The caller's live session, in a server function: what a protected one (an app's
/// own too) calls first. Reads the bearer token from the request's [`Parts`] and the
/// service from the [`AuthContext`] the server provides; 401 `unauthorized` without a
/// valid token whose session is live.
pub async fn authenticated() -> Result<Authenticated, AuthError> {
    let context = leptos::prelude::use_context::<AuthContext>()
        .ok_or_else(|| failure::internal("auth context missing"))?;
    authenticated_by(&context.service).await
}

/// [`authenticated`] with the service already at hand.
pub async fn authenticated_by(service: &AuthService) -> Result<Authenticated, AuthError> {
    let token = leptos::prelude::with_context::<Parts, _>(|parts| {
        bearer_token(&parts.headers).map(str::to_owned)
    })
    .ok_or_else(|| failure::internal("request parts missing"))??;
    service
        .authenticate(&token)
        .await
        .map_err(ServiceError::into_answer)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive,
/// header capped at 8 KiB); anything else is 401 `unauthorized`.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::Unauthorized)?;
    if header.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Unauthorized);
    }
    let header = header.to_str().map_err(|_| AuthError::Unauthorized)?;
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(AuthError::Unauthorized)
}

/// The request's DPoP proof (RFC 9449 §4.1: one `DPoP` header at most; two are read as
/// none that can be right, an invalid proof).
pub fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(super::dpop::DPOP_HEADER).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(Some)
            .map_err(|_| AuthError::InvalidDpopProof),
        (Some(_), Some(_)) => Err(AuthError::InvalidDpopProof),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_caller_is_the_resolved_address_and_the_user_agent() {
        let mut parts = parts(&[(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/150.0",
        )]);
        parts
            .extensions
            .insert(ClientAddr("2001:db8:1:2:3:4:5:6".parse().unwrap()));
        let caller = ClientInfo::from_parts(&parts);
        assert_eq!(caller.ip, "2001:db8:1:2::/64");
        assert!(caller.user_agent.contains("Firefox"));
        let unknown = ClientInfo::from_parts(&self::parts(&[]));
        assert_eq!((unknown.ip.as_str(), unknown.user_agent.as_str()), ("", ""));
    }

    #[test]
    fn without_a_resolved_address_the_tcp_peer_is_the_caller() {
        let peer: std::net::SocketAddr = "192.0.2.7:50123".parse().unwrap();
        let mut parts = parts(&[]);
        parts.extensions.insert(axum::extract::ConnectInfo(peer));
        assert_eq!(ClientInfo::from_parts(&parts).ip, "192.0.2.7");
        parts
            .extensions
            .insert(ClientAddr("198.51.100.9".parse().unwrap()));
        assert_eq!(ClientInfo::from_parts(&parts).ip, "198.51.100.9");
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_scheme_case() {
        for header in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            let parts = parts(&[("authorization", header)]);
            assert_eq!(bearer_token(&parts.headers), Ok("abc"), "{header}");
        }
        for header in ["Basic abc", "Bearerabc", ""] {
            let parts = parts(&[("authorization", header)]);
            assert_eq!(bearer_token(&parts.headers), Err(AuthError::Unauthorized));
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
        let parts = parts(&[("authorization", &long)]);
        assert_eq!(bearer_token(&parts.headers), Err(AuthError::Unauthorized));
    }

    #[test]
    fn one_dpop_header_is_the_proof_and_two_are_invalid() {
        assert_eq!(dpop_proof(&parts(&[]).headers), Ok(None));
        let one = parts(&[("DPoP", "a.b.c")]);
        assert_eq!(dpop_proof(&one.headers), Ok(Some("a.b.c")));
        let two = parts(&[("dpop", "a.b.c"), ("DPoP", "d.e.f")]);
        assert_eq!(dpop_proof(&two.headers), Err(AuthError::InvalidDpopProof));
    }
}
