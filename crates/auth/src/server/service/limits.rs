//! Every rate limit of the service: in the store (shared by every instance) for sign-in
//! links and the mail budget, in this process for refreshes and protected calls.

use super::AuthService;
use crate::{
    server::{
        caller::ClientInfo,
        config::RateLimit,
        counters,
        crypto::sha256_hex,
        email::Email,
        failure::ServiceError,
        store::{Millis, RateCount},
    },
    AuthError,
};

/// How many `RATE_LIMIT_EMAIL` allowances one inbox gets per window from all networks
/// together before each network is held to its first link of the window.
pub const INBOX_ALLOWANCES: u64 = 4;

/// 429 with `retry_after` once `count` is over `limit` (counted as `scope`).
fn over_limit(scope: &'static str, count: RateCount, limit: RateLimit) -> Result<(), ServiceError> {
    if count.count > limit.max {
        counters::rate_limited(scope);
        return Err(AuthError::RateLimited {
            retry_after: count.reset_in_ms.div_ceil(1000).max(1),
        }
        .into());
    }
    Ok(())
}

impl AuthService {
    /// Counts a request against `limit` in the store (shared by every instance); 429
    /// with `retry_after` once over it.
    pub(super) async fn limit(
        &self,
        scope: &'static str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<(), ServiceError> {
        let count = self.count(scope, subject, limit).await?;
        over_limit(scope, count, limit)
    }

    /// Counts one request of `subject` in `limit`'s current window (shared by every
    /// instance, in the store).
    pub(super) async fn count(
        &self,
        scope: &'static str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateCount, ServiceError> {
        let window_ms = limit.window.as_millis() as Millis;
        let key = format!("{scope}:{}", sha256_hex(subject.as_bytes()));
        Ok(self
            .store
            .hit_rate_limit(&key, window_ms, self.now())
            .await?)
    }

    /// Counts a refresh or sign-out of `client` against `RATE_LIMIT_REFRESH_IP`, in this
    /// process: no store round trip on the refresh path (see `local_limit`).
    pub(super) fn limit_refreshes(&self, client: &ClientInfo) -> Result<(), ServiceError> {
        let limit = self.config.rate_limit_refresh_ip;
        let count =
            self.refresh_limit
                .hit(&client.ip, limit.window.as_millis() as Millis, self.now());
        over_limit("refresh-ip", count, limit)
    }

    /// Counts a protected call of session `sid` against `RATE_LIMIT_SESSION`, in this
    /// process. Only a token that verified is counted, so forged ones cannot fill the
    /// counts; a 429 here ends nothing.
    pub(super) fn limit_calls(&self, sid: &str) -> Result<(), ServiceError> {
        let limit = self.config.rate_limit_session;
        let count = self
            .session_limit
            .hit(sid, limit.window.as_millis() as Millis, self.now());
        over_limit("session", count, limit)
    }

    /// Counts a sign-in request of `client` against `limit` in every network it belongs
    /// to ([`ClientInfo::networks`]: an IPv6 /56 gets twice the limit of a /64, a /48
    /// four times), so a large IPv6 block is not thousands of fresh allowances.
    pub(super) async fn limit_networks(
        &self,
        scope: &'static str,
        client: &ClientInfo,
        limit: RateLimit,
    ) -> Result<(), ServiceError> {
        for (network, allowances) in client.networks() {
            let scaled = RateLimit {
                max: limit.max * allowances,
                ..limit
            };
            self.limit(scope, &network, scaled).await?;
        }
        Ok(())
    }

    /// How many links an inbox gets, so that nobody can keep its owner from signing in
    /// and a flood's mail stays bounded:
    /// - per address and requesting network (an IPv4 address; for IPv6 its /64, with
    ///   twice the allowance per /56 and four times per /48, so a large IPv6 block is
    ///   not thousands of networks): `RATE_LIMIT_EMAIL`. Requests from elsewhere never
    ///   use up the owner's allowance, and each network's link is its own (a new request
    ///   replaces only that network's), so they never kill the link the owner opens;
    /// - per inbox, from all networks together: past [`INBOX_ALLOWANCES`] allowances in
    ///   a window, each network gets only its first link of the window. The owner,
    ///   asking from their own network, still gets one that works; a flood from N
    ///   networks brings the inbox at most the cap plus N mails a window.
    pub(super) async fn limit_links_to(
        &self,
        email: &Email,
        client: &ClientInfo,
    ) -> Result<(), ServiceError> {
        let limit = self.config.rate_limit_email;
        let mut own = None;
        for (network, allowances) in client.networks() {
            let scaled = RateLimit {
                max: limit.max * allowances,
                ..limit
            };
            let key = format!("{}|{network}", email.as_str());
            let count = self.count("link-email", &key, scaled).await?;
            over_limit("link-email", count, scaled)?;
            own.get_or_insert(count);
        }
        let inbox = RateLimit {
            max: limit.max * INBOX_ALLOWANCES,
            ..limit
        };
        let flooded = self.count("link-inbox", email.as_str(), inbox).await?;
        let first_from_here = own.is_none_or(|count| count.count <= 1);
        if first_from_here {
            return Ok(());
        }
        over_limit("link-inbox", flooded, inbox)
    }
}
