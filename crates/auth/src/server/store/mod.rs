//! The session store: one trait, two implementations (Redis and in-memory) that pass one
//! shared contract test suite (`tests/store_contract.rs`).
//!
//! Every operation that decides something (rotation, redemption, rate counting) is one
//! atomic step in the store. The store never sees a token, only SHA-256 hashes of them.
//! Time is a parameter (`now`, Unix milliseconds) so expiry and grace windows are tested
//! without waiting.

#[cfg(feature = "redis")]
mod breaker;
mod memory;
#[cfg(feature = "redis")]
mod redis;
pub mod rotation;

pub use self::memory::MemoryStore;
#[cfg(feature = "redis")]
pub use self::redis::{Connection as RedisConnection, RedisStore};
pub use self::rotation::{ProofClaim, RotateOutcome, Rotation};

use super::{session_id::SessionId, tokens::TokenHash};
use crate::EndReason;
use async_trait::async_trait;

/// Unix time in milliseconds; every timestamp in the store uses it.
pub type Millis = u64;

/// How long an ended session's reason (and an expired session's record) is remembered,
/// so a late refresh learns *why* it failed instead of a bare "invalid".
pub const TOMBSTONE_MS: Millis = 24 * 60 * 60 * 1000;

/// How many past refresh-token hashes a session remembers to recognise replays.
pub const HISTORY_LEN: usize = 32;

/// How long a user record lives after the last sign-in (every key has a TTL).
pub const USER_TTL_MS: Millis = 400 * 24 * 60 * 60 * 1000;

/// A person, created on first sign-in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRecord {
    /// Random hex id; also the hash tag that keeps a user's keys in one Cluster slot.
    pub id: String,
    /// Normalised email address.
    pub email: String,
    /// Creation time.
    pub created_at: Millis,
}

/// A session as the store's callers see it: hashes only, never a usable token. The
/// rotation bookkeeping (earlier hashes, the sealed successor) stays inside each store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id; names the owner too.
    pub sid: SessionId,
    /// The owner (a snapshot: users are immutable).
    pub user: UserRecord,
    /// Device label from the User-Agent of the latest sign-in, refresh or replay.
    pub device: String,
    /// The network last seen using the session (an IPv4 address or an IPv6 /64): at
    /// sign-in, and on every refresh and replay.
    pub last_address: String,
    /// Sign-in time.
    pub created_at: Millis,
    /// Last sign-in, refresh or replay: what the sessions page shows, and what the
    /// session cap keeps the newest of.
    pub last_activity: Millis,
    /// When the current refresh token was issued (sign-in or the latest rotation): the
    /// reuse grace window counts from it.
    pub rotated_at: Millis,
    /// Idle expiry, pushed forward by every refresh (capped by `absolute_expires_at`).
    pub expires_at: Millis,
    /// Absolute cap.
    pub absolute_expires_at: Millis,
    /// Digest of the current refresh token's secret.
    pub refresh_hash: TokenHash,
    /// Digest of the token the current one replaced; `None` until the first refresh.
    pub previous_hash: Option<TokenHash>,
    /// Thumbprint of the key the session is bound to (DPoP, set at sign-in); `None`
    /// for a session signed in without a proof.
    pub jkt: Option<String>,
}

impl SessionRecord {
    /// Live at `now`: before both the idle and the absolute expiry.
    pub fn is_live(&self, now: Millis) -> bool {
        now < self.expires_at && now < self.absolute_expires_at
    }
}

/// A session of user `ab` signed in at 0, idle end 1 000, hard end `absolute` (unit
/// tests of the rotation rule and of the memory store's bookkeeping).
#[cfg(test)]
pub(crate) fn sample_session(absolute_expires_at: Millis) -> SessionRecord {
    SessionRecord {
        sid: SessionId::parse("ab-cd").expect("a well-formed id"),
        user: UserRecord {
            id: "ab".into(),
            email: "a@example.com".into(),
            created_at: 0,
        },
        device: "test".into(),
        last_address: "192.0.2.1".into(),
        created_at: 0,
        last_activity: 0,
        rotated_at: 0,
        expires_at: 1_000,
        absolute_expires_at,
        refresh_hash: TokenHash::of(b"h1"),
        previous_hash: None,
        jkt: None,
    }
}

/// Sorts sessions oldest first (ties by id): the order `list_sessions` promises.
pub fn oldest_first(sessions: &mut [SessionRecord]) {
    sessions.sort_by(|a, b| (a.created_at, &a.sid).cmp(&(b.created_at, &b.sid)));
}

/// A sign-in link waiting to be used: one per email address and requesting network (a
/// new request from the same network replaces that network's link only, so requests
/// from elsewhere cannot kill the link the owner is about to open). At most
/// [`LINK_NETWORKS`] networks hold a live link for one address; the oldest goes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MagicLinkRecord {
    /// Digest of the email that keys the link (also the link token's first part).
    pub email_key: String,
    /// The network the link was requested from (an IPv4 address or an IPv6 /64).
    pub network: String,
    /// Digest of the link's secret.
    pub secret_hash: TokenHash,
    /// The address, to create or find the user on redemption.
    pub email: String,
    /// After this the link is dead.
    pub expires_at: Millis,
}

/// Most requesting networks that hold a live link for one address at once.
pub const LINK_NETWORKS: usize = 8;

/// Result of counting one request against a fixed-window limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateCount {
    /// Requests in the current window, this one included.
    pub count: u64,
    /// Milliseconds until the window resets.
    pub reset_in_ms: Millis,
}

/// A window of a fixed-window rate limit: windows are aligned to multiples of their
/// length, so every instance and every store agrees on where one starts and ends. The
/// one place this arithmetic is written (in-process limits, the memory store, Redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedWindow {
    /// Which window since the epoch (`now / length`): part of the counter's key.
    pub index: u64,
    /// When it ends (ms).
    pub end: Millis,
}

impl FixedWindow {
    /// The window of `length_ms` (at least 1 ms) that contains `now`.
    pub fn containing(now: Millis, length_ms: Millis) -> Self {
        let length_ms = length_ms.max(1);
        let index = now / length_ms;
        Self {
            index,
            end: (index + 1) * length_ms,
        }
    }

    /// `count` requests so far in this window, seen at `now`.
    pub fn count(self, count: u64, now: Millis) -> RateCount {
        RateCount {
            count,
            reset_in_ms: self.end - now,
        }
    }
}

/// Why a store call failed; never "not found" (that is an `Option`/outcome). The cause
/// is kept as the error's source and logged once, where the error becomes an API
/// answer (`auth/server/failure.rs`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store refused or dropped the call, or the connection is down: retry later (503).
    #[error("session store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store did not answer within its command timeout (503).
    #[error("session store timed out")]
    TimedOut,
    /// The store answered with data this code cannot read (500).
    #[error("session store returned unreadable data: {what}")]
    Corrupt {
        /// Which value could not be read.
        what: String,
        /// The decoding error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// Unreadable data described by `what`, without an underlying error.
    pub fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt {
            what: what.into(),
            source: None,
        }
    }

    /// Unreadable data described by `what`, caused by `source`.
    pub fn corrupt_because(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Corrupt {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Storage of users, sessions, magic links and rate counters.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// `"redis"` or `"memory"`, for `/healthz` and the log.
    fn kind(&self) -> &'static str;

    /// Answers when the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether every server of the store writes each change to disk as it happens
    /// (Redis' `appendonly yes`). Without it, a restart from an older snapshot brings
    /// ended sessions back and forgets current tokens. `None`: the store keeps nothing
    /// on disk at all (memory), so the question does not arise.
    async fn persists_writes(&self) -> Result<Option<bool>, StoreError> {
        Ok(None)
    }

    /// Returns the user for `candidate.email`, creating it from `candidate` when new.
    async fn find_or_create_user(
        &self,
        email_key: &str,
        candidate: &UserRecord,
    ) -> Result<UserRecord, StoreError>;

    /// Stores a new session and indexes it under its user.
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// The live session `sid`, or `None` when unknown, ended or expired at `now`.
    async fn get_session(
        &self,
        sid: &SessionId,
        now: Millis,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// One atomic refresh step, following [`rotation::decide`].
    async fn rotate(
        &self,
        sid: &SessionId,
        rotation: &Rotation,
    ) -> Result<RotateOutcome, StoreError>;

    /// Ends one session, remembering `reason`. Returns whether it was live (idempotent).
    async fn end_session(
        &self,
        sid: &SessionId,
        reason: EndReason,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// The user's live sessions, oldest first.
    async fn list_sessions(
        &self,
        user_id: &str,
        now: Millis,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Ends the user's least recently active sessions beyond the `keep` most recently
    /// active ones (as revoked), and forgets index entries of sessions that are gone:
    /// the cap on sessions per person (`MAX_SESSIONS_PER_USER`). Returns how many it
    /// ended.
    async fn end_least_active_sessions(
        &self,
        user_id: &str,
        keep: usize,
        now: Millis,
    ) -> Result<usize, StoreError>;

    /// Ends every session of the user; returns how many were live.
    async fn end_all_sessions(
        &self,
        user_id: &str,
        reason: EndReason,
        now: Millis,
    ) -> Result<usize, StoreError>;

    /// Saves a sign-in link, replacing any earlier one for the same email and network
    /// (and the oldest of another network beyond [`LINK_NETWORKS`]).
    async fn save_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError>;

    /// The address a live link signs in to, without consuming it: its email when
    /// `secret_hash` matches a live link for `email_key` that has not expired.
    /// The verify page shows it before the person presses the button.
    async fn peek_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;

    /// Consumes the link once: returns its email when `secret_hash` matches a live link
    /// for `email_key` that has not expired. Every link of the address is gone
    /// afterwards (one sign-in ends the others).
    async fn redeem_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;

    /// Counts one request under `key` in a fixed window of `window_ms`.
    async fn hit_rate_limit(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<RateCount, StoreError>;
}

#[cfg(test)]
mod fixed_window_tests {
    use super::{FixedWindow, RateCount};

    #[test]
    fn windows_are_aligned_to_their_length() {
        let window = FixedWindow::containing(125_000, 60_000);
        assert_eq!(
            window,
            FixedWindow {
                index: 2,
                end: 180_000
            }
        );
        assert_eq!(
            window.count(3, 125_000),
            RateCount {
                count: 3,
                reset_in_ms: 55_000
            }
        );
        assert_eq!(FixedWindow::containing(180_000, 60_000).index, 3);
        assert_eq!(
            FixedWindow::containing(5, 0).end,
            6,
            "a zero length counts as 1 ms"
        );
    }
}
