//! The token record the browser keeps, and the times derived from it. Expiry is counted
//! from the server's `expires_in` and the local time the pair arrived (passed in, never
//! read here), so a device clock that is far ahead or behind cannot cause a refresh loop
//! or a missed refresh: only the time elapsed on that clock matters.

use crate::TokenPair;
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

/// What the browser has for this tab: the token record, as this tab sees it.
#[derive(Debug, PartialEq)]
pub enum Record {
    /// A readable pair.
    Tokens(StoredTokens),
    /// Nothing: signed out.
    Empty,
    /// Something this version cannot read (another version wrote it, or it was
    /// damaged); kept as it is, reported, never taken for a sign-out.
    Unreadable,
}

impl Record {
    /// The pair this tab uses: the one it `kept` in memory when storage refused the
    /// newest write, else what `stored` reads (asked only then), unless another tab
    /// `announced` a newer pair than that: a stale read of storage (WebKit bug 225344)
    /// never sends an old refresh token, and a refused write loses no pair.
    pub fn current(
        kept: Option<StoredTokens>,
        stored: impl FnOnce() -> Record,
        announced: Option<StoredTokens>,
    ) -> Record {
        let record = kept.map_or_else(stored, Record::Tokens);
        match (record, announced) {
            (Record::Tokens(read), Some(heard)) if heard.serial > read.serial => {
                Record::Tokens(heard)
            }
            (Record::Empty | Record::Unreadable, Some(heard)) => Record::Tokens(heard),
            (record, _) => record,
        }
    }

    /// Whether `tokens`, announced by another tab, is newer than this record.
    pub fn is_older_than(&self, tokens: &StoredTokens) -> bool {
        match self {
            Record::Tokens(known) => tokens.serial > known.serial,
            Record::Empty | Record::Unreadable => true,
        }
    }

    /// The serial of a pair stored after this record: one more than the newest known.
    pub fn next_serial(&self) -> u64 {
        match self {
            Record::Tokens(known) => known.serial + 1,
            Record::Empty | Record::Unreadable => 1,
        }
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

    fn numbered(serial: u64) -> StoredTokens {
        StoredTokens {
            serial,
            ..StoredTokens::from_pair(&pair(60), 0.0)
        }
    }

    #[test]
    fn storage_that_refuses_writes_loses_no_pair() {
        // The newest pair lives in this tab's memory; storage still holds nothing (or an
        // older pair) and is not even read.
        let kept = numbered(5);
        let unread = || panic!("storage is not read while a pair is kept in memory");
        assert_eq!(
            Record::current(Some(kept.clone()), unread, None),
            Record::Tokens(kept)
        );
    }

    #[test]
    fn a_newer_announcement_wins_over_a_stale_read_of_storage() {
        let stale = || Record::Tokens(numbered(3));
        assert_eq!(
            Record::current(None, stale, Some(numbered(4))),
            Record::Tokens(numbered(4))
        );
        let fresh = || Record::Tokens(numbered(4));
        assert_eq!(
            Record::current(None, fresh, Some(numbered(3))),
            Record::Tokens(numbered(4))
        );
        assert_eq!(
            Record::current(None, || Record::Empty, Some(numbered(1))),
            Record::Tokens(numbered(1))
        );
    }

    #[test]
    fn an_unreadable_record_is_never_taken_for_a_sign_out() {
        assert_eq!(
            Record::current(None, || Record::Unreadable, None),
            Record::Unreadable
        );
        assert!(Record::Unreadable.is_older_than(&numbered(1)));
        assert_eq!(Record::Unreadable.next_serial(), 1);
    }

    #[test]
    fn every_stored_pair_is_numbered_after_the_newest_known() {
        assert_eq!(Record::Tokens(numbered(7)).next_serial(), 8);
        assert_eq!(Record::Empty.next_serial(), 1);
        assert!(Record::Tokens(numbered(7)).is_older_than(&numbered(8)));
        assert!(!Record::Tokens(numbered(7)).is_older_than(&numbered(7)));
    }
}
