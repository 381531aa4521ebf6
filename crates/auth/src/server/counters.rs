//! What the auth system counts, in one place: metric names (under the app's prefix,
//! `ssi` by default), their labels, and one small function per event. Recording is a
//! no-op unless the app installed a recorder (this app: `METRICS_ADDR`, see
//! `http/metrics.rs`), so these calls cost nothing otherwise.

use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use std::sync::OnceLock;

/// The prefix of every metric name unless `AuthConfig::metric_prefix` says otherwise.
pub const DEFAULT_PREFIX: &str = "ssi";

/// Every metric's name, under one prefix: `<prefix>_api_requests_total`, ...
#[derive(Debug)]
pub struct MetricNames {
    /// Requests to `/api/v1`, by `endpoint` and `status`.
    pub api_requests: &'static str,
    /// Time to answer `/api/v1` requests, by `endpoint` (seconds).
    pub api_duration: &'static str,
    /// Refresh attempts by `outcome`: rotated, replayed, superseded, reused, expired,
    /// revoked, invalid, proof_refused (a bound session without a fresh proof by its
    /// key; sign-outs too).
    pub refreshes: &'static str,
    /// Sessions opened by a sign-in link.
    pub sign_ins: &'static str,
    /// Sign-in emails by `result`: sent, failed, queue_full.
    pub magic_links: &'static str,
    /// Requests refused with 429, by `scope`: link-ip, link-email, link-inbox,
    /// verify-ip, mail-budget, refresh-ip, session.
    pub rate_limited: &'static str,
    /// Session store failures by `kind`: unavailable, timeout, corrupt.
    pub store_errors: &'static str,
    /// Requests answered 503 at once because too many were in progress.
    pub shed: &'static str,
    /// DPoP proofs refused as invalid (wrong type, algorithm, key, signature, method,
    /// URL).
    pub dpop_refused: &'static str,
}

impl MetricNames {
    fn under(prefix: &str) -> Self {
        // Made once per process: the recorder keys on `&'static str` names for free.
        let name = |suffix: &str| -> &'static str {
            Box::leak(format!("{prefix}_{suffix}").into_boxed_str())
        };
        Self {
            api_requests: name("api_requests_total"),
            api_duration: name("api_request_duration_seconds"),
            refreshes: name("refresh_total"),
            sign_ins: name("sign_ins_total"),
            magic_links: name("magic_links_total"),
            rate_limited: name("rate_limited_total"),
            store_errors: name("store_errors_total"),
            shed: name("requests_shed_total"),
            dpop_refused: name("dpop_proofs_refused_total"),
        }
    }
}

static NAMES: OnceLock<MetricNames> = OnceLock::new();

/// Names the metrics under `prefix`, before any is recorded or named. A process has
/// one set of names, as it has one recorder: the first call (the first `AuthService`
/// made) decides.
pub fn use_prefix(prefix: &str) {
    NAMES.get_or_init(|| MetricNames::under(prefix));
}

/// The metric names in use.
pub fn names() -> &'static MetricNames {
    NAMES.get_or_init(|| MetricNames::under(DEFAULT_PREFIX))
}

/// Registers the descriptions (the `# HELP` lines); once, when metrics are on.
pub fn describe() {
    let names = names();
    describe_counter!(
        names.api_requests,
        "Requests to /api/v1 by endpoint and status"
    );
    describe_histogram!(
        names.api_duration,
        Unit::Seconds,
        "Time to answer /api/v1 requests"
    );
    describe_counter!(names.refreshes, "Refresh attempts by outcome");
    describe_counter!(
        names.shed,
        "Requests answered 503 at once: too many in progress"
    );
    describe_counter!(names.sign_ins, "Sessions opened by a sign-in link");
    describe_counter!(names.magic_links, "Sign-in emails by result (sent, failed)");
    describe_counter!(names.rate_limited, "Requests refused with 429, by scope");
    describe_counter!(names.store_errors, "Session store failures by kind");
    describe_counter!(names.dpop_refused, "DPoP proofs refused as invalid");
}

/// A DPoP proof that did not check out (not one that only needed a fresh nonce).
pub fn dpop_refused() {
    counter!(names().dpop_refused).increment(1);
}

/// One answered `/api/v1` request.
pub fn api_request(endpoint: &'static str, status: u16, seconds: f64) {
    counter!(names().api_requests, "endpoint" => endpoint, "status" => status.to_string())
        .increment(1);
    histogram!(names().api_duration, "endpoint" => endpoint).record(seconds);
}

/// One refresh attempt and how it ended.
pub fn refresh(outcome: &'static str) {
    counter!(names().refreshes, "outcome" => outcome).increment(1);
}

/// A sign-in link was redeemed and a session opened.
pub fn sign_in() {
    counter!(names().sign_ins).increment(1);
}

/// A sign-in email was handed over (`sent`), not (`failed`), or refused because too
/// many wait for the mail server (`queue_full`).
pub fn magic_link(result: &'static str) {
    counter!(names().magic_links, "result" => result).increment(1);
}

/// A request was answered 503 at once: too many were in progress.
pub fn shed() {
    counter!(names().shed).increment(1);
}

/// A request was refused by the limit of `scope`.
pub fn rate_limited(scope: &'static str) {
    counter!(names().rate_limited, "scope" => scope).increment(1);
}

/// The store failed a call.
pub fn store_error(kind: &'static str) {
    counter!(names().store_errors, "kind" => kind).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_under_the_prefix_and_the_default_ones_are_the_documented_ones() {
        let notes = MetricNames::under("notes");
        assert_eq!(notes.refreshes, "notes_refresh_total");
        assert_eq!(notes.api_duration, "notes_api_request_duration_seconds");
        let ours = MetricNames::under(DEFAULT_PREFIX);
        assert_eq!(
            [
                ours.api_requests,
                ours.sign_ins,
                ours.magic_links,
                ours.shed
            ],
            [
                "ssi_api_requests_total",
                "ssi_sign_ins_total",
                "ssi_magic_links_total",
                "ssi_requests_shed_total"
            ]
        );
    }
}
