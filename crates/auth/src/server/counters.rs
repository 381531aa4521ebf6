//! What the auth system counts, in one place: metric names, their labels, and one small
//! function per event. Recording is a no-op unless the server installed a recorder
//! (`METRICS_ADDR`, see `http/metrics.rs`), so these calls cost nothing otherwise.

use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};

/// Requests to `/api/v1`, by `endpoint` and `status`.
pub const API_REQUESTS: &str = "ssi_api_requests_total";
/// Time to answer `/api/v1` requests, by `endpoint` (seconds).
pub const API_DURATION: &str = "ssi_api_request_duration_seconds";
/// Refresh attempts by `outcome`: rotated, replayed, superseded, reused, expired, revoked,
/// invalid, proof_refused (a bound session without a fresh proof by its key; sign-outs
/// too).
pub const REFRESHES: &str = "ssi_refresh_total";
/// Sessions opened by a sign-in link.
pub const SIGN_INS: &str = "ssi_sign_ins_total";
/// Sign-in emails by `result`: sent, failed, queue_full.
pub const MAGIC_LINKS: &str = "ssi_magic_links_total";
/// Requests refused with 429, by `scope`: link-ip, link-email, link-inbox, verify-ip,
/// mail-budget, refresh-ip, session.
pub const RATE_LIMITED: &str = "ssi_rate_limited_total";
/// Session store failures by `kind`: unavailable, timeout, corrupt.
pub const STORE_ERRORS: &str = "ssi_store_errors_total";
/// Requests answered 503 at once because `MAX_CONCURRENT_REQUESTS` were in progress.
pub const SHED: &str = "ssi_requests_shed_total";
/// DPoP proofs refused as invalid (wrong type, algorithm, key, signature, method, URL).
pub const DPOP_REFUSED: &str = "ssi_dpop_proofs_refused_total";

/// Registers the descriptions (the `# HELP` lines); once, when metrics are on.
pub fn describe() {
    describe_counter!(API_REQUESTS, "Requests to /api/v1 by endpoint and status");
    describe_histogram!(
        API_DURATION,
        Unit::Seconds,
        "Time to answer /api/v1 requests"
    );
    describe_counter!(REFRESHES, "Refresh attempts by outcome");
    describe_counter!(SHED, "Requests answered 503 at once: too many in progress");
    describe_counter!(SIGN_INS, "Sessions opened by a sign-in link");
    describe_counter!(MAGIC_LINKS, "Sign-in emails by result (sent, failed)");
    describe_counter!(RATE_LIMITED, "Requests refused with 429, by scope");
    describe_counter!(STORE_ERRORS, "Session store failures by kind");
    describe_counter!(DPOP_REFUSED, "DPoP proofs refused as invalid");
}

/// A DPoP proof that did not check out (not one that only needed a fresh nonce).
pub fn dpop_refused() {
    counter!(DPOP_REFUSED).increment(1);
}

/// One answered `/api/v1` request.
pub fn api_request(endpoint: &'static str, status: u16, seconds: f64) {
    counter!(API_REQUESTS, "endpoint" => endpoint, "status" => status.to_string()).increment(1);
    histogram!(API_DURATION, "endpoint" => endpoint).record(seconds);
}

/// One refresh attempt and how it ended.
pub fn refresh(outcome: &'static str) {
    counter!(REFRESHES, "outcome" => outcome).increment(1);
}

/// A sign-in link was redeemed and a session opened.
pub fn sign_in() {
    counter!(SIGN_INS).increment(1);
}

/// A sign-in email was handed over (`sent`), not (`failed`), or refused because too
/// many wait for the mail server (`queue_full`).
pub fn magic_link(result: &'static str) {
    counter!(MAGIC_LINKS, "result" => result).increment(1);
}

/// A request was answered 503 at once: too many were in progress.
pub fn shed() {
    counter!(SHED).increment(1);
}

/// A request was refused by the limit of `scope`.
pub fn rate_limited(scope: &'static str) {
    counter!(RATE_LIMITED, "scope" => scope).increment(1);
}

/// The store failed a call.
pub fn store_error(kind: &'static str) {
    counter!(STORE_ERRORS, "kind" => kind).increment(1);
}
