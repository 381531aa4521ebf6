//! What the auth rules are configured with: where links point, the signing keys, the
//! lifetimes and the limits. The app builds one (from its environment, in this app's
//! `config.rs`) and hands it to [`AuthService`](super::AuthService); nothing here
//! reads the environment.

use std::time::Duration;

/// "N requests per window", e.g. `5/15m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub max: u64,
    /// Length of the fixed window.
    pub window: Duration,
}

impl RateLimit {
    /// `max` requests per `window`.
    pub const fn new(max: u64, window: Duration) -> Self {
        Self { max, window }
    }
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Every setting of the auth rules. [`AuthConfig::new`] fills in the defaults of the
/// design; change a field to tune it.
#[derive(Clone)]
pub struct AuthConfig {
    /// The site's address people open, without trailing slash: the base of sign-in
    /// links, and the address DPoP proofs must name.
    pub public_url: String,
    /// The path of the page a sign-in link opens, after `public_url` (default
    /// `/auth/verify`): the app serves a page there that reads `?token=` and signs in
    /// (the library's `FinishSignIn` component, or its own).
    pub link_path: String,
    /// `iss` of the access tokens, checked on every call (default `stay-signed-in`).
    pub issuer: String,
    /// `aud` of the access tokens, checked on every call (default `stay-signed-in/api`).
    pub audience: String,
    /// The prefix of the metric names (default `ssi`: `ssi_refresh_total`, ...). A
    /// process has one set of names: the first service made decides.
    pub metric_prefix: String,
    /// The key access tokens are signed with (HS256; at least 32 random bytes).
    pub jwt_secret: Vec<u8>,
    /// Keys that no longer sign but still verify (rotation).
    pub jwt_previous_secrets: Vec<Vec<u8>>,
    /// How long an access token works (default 30 min).
    pub access_ttl: Duration,
    /// Idle lifetime of a session: a refresh within it keeps the session (default 7 d).
    pub refresh_ttl: Duration,
    /// Absolute cap on a session's life, however active (default 30 d).
    pub session_max_age: Duration,
    /// After a rotation, how long a refresh token older than the previous one counts as
    /// a sibling tab's late request (refused, session kept) instead of theft (session
    /// ended), and how long an unbound session's previous token still gets its
    /// successor (default 30 s).
    pub reuse_grace: Duration,
    /// How long a sign-in link works (default 15 min).
    pub magic_link_ttl: Duration,
    /// Sign-in links one address may ask for (default 5 per 15 min).
    pub rate_limit_email: RateLimit,
    /// Sign-in requests (links, verifies) per client address (default 30 per 15 min).
    pub rate_limit_ip: RateLimit,
    /// Refreshes and sign-outs per client address; generous, as many people can share
    /// one address behind a NAT (default 600 per min).
    pub rate_limit_refresh_ip: RateLimit,
    /// Protected calls per session, counted in each server's memory; it stops one
    /// stolen or runaway token from flooding the store, and its 429 ends nothing
    /// (default 600 per min).
    pub rate_limit_session: RateLimit,
    /// Sign-in mails the whole service sends per window, from every address and
    /// network together (default 5,000 per hour).
    pub mail_budget: RateLimit,
    /// Live sessions one person may have; a sign-in beyond it ends the least recently
    /// active one (default 100).
    pub max_sessions_per_user: usize,
}

impl AuthConfig {
    /// The defaults of the design for a site at `public_url` (trailing slashes are
    /// dropped) signing with `jwt_secret`.
    pub fn new(public_url: &str, jwt_secret: Vec<u8>) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            link_path: "/auth/verify".into(),
            issuer: super::jwt::ISSUER.into(),
            audience: super::jwt::AUDIENCE.into(),
            metric_prefix: super::counters::DEFAULT_PREFIX.into(),
            jwt_secret,
            jwt_previous_secrets: Vec::new(),
            access_ttl: 30 * MINUTE,
            refresh_ttl: 7 * DAY,
            session_max_age: 30 * DAY,
            reuse_grace: Duration::from_secs(30),
            magic_link_ttl: 15 * MINUTE,
            rate_limit_email: RateLimit::new(5, 15 * MINUTE),
            rate_limit_ip: RateLimit::new(30, 15 * MINUTE),
            rate_limit_refresh_ip: RateLimit::new(600, MINUTE),
            rate_limit_session: RateLimit::new(600, MINUTE),
            mail_budget: RateLimit::new(5000, HOUR),
            max_sessions_per_user: 100,
        }
    }
}

impl AuthConfig {
    /// The defaults with a random signing key, for development: every access token
    /// ends with the process that made it (sessions in a store that outlives the
    /// process still refresh). Production sets `jwt_secret` to a key of its own.
    pub fn with_random_secret(public_url: &str) -> Self {
        Self::new(public_url, super::crypto::random_bytes::<32>().to_vec())
    }
}

/// Secrets stay out of logs.
impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("public_url", &self.public_url)
            .field("link_path", &self.link_path)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("metric_prefix", &self.metric_prefix)
            .field("jwt_secret", &"[redacted]")
            .field("jwt_previous_secrets", &self.jwt_previous_secrets.len())
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("session_max_age", &self.session_max_age)
            .field("reuse_grace", &self.reuse_grace)
            .field("magic_link_ttl", &self.magic_link_ttl)
            .field("rate_limit_email", &self.rate_limit_email)
            .field("rate_limit_ip", &self.rate_limit_ip)
            .field("rate_limit_refresh_ip", &self.rate_limit_refresh_ip)
            .field("rate_limit_session", &self.rate_limit_session)
            .field("mail_budget", &self.mail_budget)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_designs_and_no_secret_is_printed() {
        let config = AuthConfig::new("https://example.com/", b"k".repeat(32));
        assert_eq!(config.public_url, "https://example.com");
        assert_eq!(config.access_ttl, Duration::from_secs(1800));
        assert!(config.access_ttl < config.refresh_ttl);
        assert!(config.refresh_ttl <= config.session_max_age);
        assert!(!format!("{config:?}").contains("kkkk"));
    }
}
