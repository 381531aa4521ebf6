//! The token record the browser keeps, and the times derived from it. Expiry is counted
//! from the server's `expires_in` and the local time the pair arrived (passed in, never
//! read here), so a device clock that is far ahead or behind cannot cause a refresh loop
//! or a missed refresh: only the time elapsed on that clock matters.

use crate::auth::TokenPair;
use serde::{Deserialize, Serialize};

/// Largest preemptive-refresh margin (at the default 30-minute lifetime).
const MAX_MARGIN_MS: f64 = 5.0 * 60.0 * 1000.0;

/// What the browser keeps between page loads.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// Bearer token for protected calls.
    pub access_token: String,
    /// Buys the next pair (rotated by every refresh).
    pub refresh_token: String,
    /// Local time the pair arrived (ms).
    pub received_at: f64,
    /// Local time the access token expires (ms).
    pub access_expires_at: f64,
    /// Local time the session ends unless refreshed (ms).
    pub session_expires_at: f64,
    /// Position of this pair among the pairs this browser has stored: one more than the
    /// newest this tab knew when it stored it. Orders pairs without trusting the clock
    /// (which may jump back) or a read of storage (which may be stale).
    #[serde(default)]
    pub serial: u64,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredTokens {
    /// The record for `pair`, which arrived at local time `received_at` (Unix ms).
    pub fn from_pair(pair: &TokenPair, received_at: f64) -> Self {
        Self {
            access_token: pair.access_token.clone(),
            refresh_token: pair.refresh_token.clone(),
            received_at,
            access_expires_at: received_at + pair.expires_in as f64 * 1000.0,
            session_expires_at: received_at + pair.refresh_expires_in as f64 * 1000.0,
            serial: 0,
        }
    }

    /// How early to refresh: 5 minutes at a 30-minute lifetime, a sixth of shorter
    /// lifetimes (so a short test lifetime never makes a refresh loop).
    pub fn margin_ms(&self) -> f64 {
        ((self.access_expires_at - self.received_at) / 6.0).clamp(0.0, MAX_MARGIN_MS)
    }

    /// When the preemptive refresh is due.
    pub fn refresh_due_at(&self) -> f64 {
        self.access_expires_at - self.margin_ms()
    }

    /// True inside the margin (or past expiry).
    pub fn needs_refresh(&self, at: f64) -> bool {
        at >= self.refresh_due_at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(expires_in: u64) -> TokenPair {
        TokenPair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            token_type: "bearer".into(),
            expires_in,
            refresh_expires_in: 30 * 24 * 3600,
            dpop_nonce: None,
        }
    }

    #[test]
    fn a_thirty_minute_token_is_refreshed_five_minutes_early() {
        let tokens = StoredTokens::from_pair(&pair(1800), 1_000_000.0);
        assert_eq!(tokens.margin_ms(), 300_000.0);
        assert_eq!(tokens.refresh_due_at(), 1_000_000.0 + 1_500_000.0);
        assert!(!tokens.needs_refresh(2_499_999.0));
        assert!(tokens.needs_refresh(2_500_000.0));
    }

    #[test]
    fn a_short_lifetime_is_refreshed_a_sixth_early() {
        for received_at in [0.0, 1_700_000_000_000.0] {
            let tokens = StoredTokens::from_pair(&pair(12), received_at);
            assert_eq!(tokens.margin_ms(), 2_000.0);
            assert_eq!(tokens.refresh_due_at(), received_at + 10_000.0);
        }
    }

    #[test]
    fn a_device_clock_far_ahead_or_behind_changes_nothing_but_the_origin() {
        let day = 24.0 * 3600.0 * 1000.0;
        for received_at in [
            1_700_000_000_000.0,
            1_700_000_000_000.0 + day,
            1_700_000_000_000.0 - day,
        ] {
            let tokens = StoredTokens::from_pair(&pair(1800), received_at);
            assert_eq!(tokens.refresh_due_at() - received_at, 1_500_000.0);
            assert_eq!(tokens.access_expires_at - received_at, 1_800_000.0);
            assert_eq!(tokens.session_expires_at - received_at, 30.0 * day);
            assert!(!tokens.needs_refresh(received_at));
        }
    }

    #[test]
    fn a_clock_set_back_after_arrival_waits_and_one_set_forward_refreshes_at_once() {
        let tokens = StoredTokens::from_pair(&pair(1800), 1_000_000.0);
        assert!(!tokens.needs_refresh(0.0));
        assert!(tokens.needs_refresh(1_000_000.0 + 3_600_000.0));
    }

    #[test]
    fn the_record_never_prints_its_tokens() {
        let printed = format!("{:?}", StoredTokens::from_pair(&pair(60), 0.0));
        assert!(
            !printed.contains("\"a\"") && !printed.contains("\"r\""),
            "{printed}"
        );
    }
}
