//! The session store: one trait, two implementations (Redis and in-memory) that pass one
//! shared contract test suite (`tests/store_contract.rs`).
//!
//! Every operation that decides something (rotation, redemption, rate counting) is one
//! atomic step in the store. The store never sees a token, only SHA-256 hashes of them.
//! Time is a parameter (`now`, Unix milliseconds) so expiry and grace windows are tested
//! without waiting.

mod memory;
mod redis;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

use crate::auth::{EndReason, Note};
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

/// The newest notes a user keeps; older ones drop off.
pub const MAX_NOTES: usize = 100;

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

/// A session as stored. Holds hashes only; `successor` is the sealed pair that a replay
/// of the previous refresh token inside the grace window gets back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id, `<user id>-<random hex>` (see [`user_id_of`]).
    pub sid: String,
    /// The owner (a snapshot: users are immutable).
    pub user: UserRecord,
    /// Device label from the User-Agent at sign-in.
    pub device: String,
    /// Sign-in time.
    pub created_at: Millis,
    /// Last sign-in or refresh.
    pub last_activity: Millis,
    /// Idle expiry, pushed forward by every refresh (capped by `absolute_expires_at`).
    pub expires_at: Millis,
    /// Absolute cap.
    pub absolute_expires_at: Millis,
    /// SHA-256 (hex) of the current refresh token's secret.
    pub refresh_hash: String,
    /// Hash of the token the current one replaced (empty right after sign-in).
    pub previous_hash: String,
    /// When the current token was issued.
    pub rotated_at: Millis,
    /// Successor pair sealed under a key derived from the previous token (empty at first).
    pub successor: String,
    /// Earlier hashes (comma separated, newest last, at most [`HISTORY_LEN`]).
    pub history: String,
}

impl SessionRecord {
    /// The record as reads return it: rotation internals stay inside the store.
    pub fn without_internals(mut self) -> Self {
        self.successor.clear();
        self.history.clear();
        self
    }

    /// Live at `now`: before both the idle and the absolute expiry.
    pub fn is_live(&self, now: Millis) -> bool {
        now < self.expires_at && now < self.absolute_expires_at
    }
}

/// Sorts sessions oldest first (ties by id): the order `list_sessions` promises.
pub fn oldest_first(sessions: &mut [SessionRecord]) {
    sessions.sort_by(|a, b| (a.created_at, &a.sid).cmp(&(b.created_at, &b.sid)));
}

/// The user id a session id starts with; sessions carry it so a refresh token alone
/// finds all keys of its owner in one Cluster slot.
pub fn user_id_of(sid: &str) -> Option<&str> {
    let (user, rest) = sid.split_once('-')?;
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(user) && hex(rest)).then_some(user)
}

/// Everything one refresh needs, prepared before the single atomic store step.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// Hash of the refresh token the client presented.
    pub presented_hash: String,
    /// Hash of the new refresh token (used if this call wins).
    pub new_hash: String,
    /// New pair sealed under a key derived from the presented token.
    pub sealed_successor: String,
    /// Request time.
    pub now: Millis,
    /// `REFRESH_TOKEN_TTL` in ms.
    pub idle_ms: Millis,
    /// `REFRESH_REUSE_GRACE` in ms.
    pub grace_ms: Millis,
}

/// What a rotation attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was current: it is now previous, the new hash is current,
    /// the session runs until `expires_at`.
    Rotated {
        /// New idle expiry.
        expires_at: Millis,
    },
    /// The presented token was the previous one, inside the grace window: here is the
    /// successor that the winning call issued (sealed), nothing changed.
    Replayed {
        /// The sealed successor pair.
        sealed_successor: String,
        /// Current idle expiry.
        expires_at: Millis,
    },
    /// The session is over (now, or earlier) for this reason.
    Ended(EndReason),
    /// The token names a live session but is none of its tokens: rejected, the session
    /// is left alone (so a guessed token cannot end someone else's session).
    Unknown,
}

/// The rotation rules, as a pure function over the stored record: the memory store
/// runs it under its lock, the Redis Lua script mirrors it line by line.
pub fn decide_rotation(record: &SessionRecord, rotation: &Rotation) -> Decision {
    use subtle::ConstantTimeEq;
    let same = |a: &str, b: &str| !b.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()));
    let presented = rotation.presented_hash.as_str();
    if !record.is_live(rotation.now) {
        return Decision::End(EndReason::Expired);
    }
    if same(presented, &record.refresh_hash) {
        let expires_at = (rotation.now + rotation.idle_ms).min(record.absolute_expires_at);
        return Decision::Rotate { expires_at };
    }
    if same(presented, &record.previous_hash)
        && rotation.now < record.rotated_at + rotation.grace_ms
    {
        return Decision::Replay;
    }
    if record.history.split(',').any(|old| same(presented, old)) {
        return Decision::End(EndReason::Reused);
    }
    Decision::Reject
}

/// The step [`decide_rotation`] chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Rotate and extend to `expires_at`.
    Rotate {
        /// New idle expiry.
        expires_at: Millis,
    },
    /// Hand back the stored successor.
    Replay,
    /// End the session with this reason.
    End(EndReason),
    /// Not a token of this session: reject, change nothing.
    Reject,
}

/// Applies a [`Decision::Rotate`] to a record (the memory store's write half).
pub fn apply_rotation(record: &mut SessionRecord, rotation: &Rotation, expires_at: Millis) {
    let mut history: Vec<&str> = record
        .history
        .split(',')
        .filter(|h| !h.is_empty())
        .collect();
    history.push(&record.refresh_hash);
    let skip = history.len().saturating_sub(HISTORY_LEN);
    let history = history[skip..].join(",");
    record.history = history;
    record.previous_hash = std::mem::take(&mut record.refresh_hash);
    record.refresh_hash = rotation.new_hash.clone();
    record.rotated_at = rotation.now;
    record.successor = rotation.sealed_successor.clone();
    record.last_activity = rotation.now;
    record.expires_at = expires_at;
}

/// A sign-in link waiting to be used: one per email address (a new one replaces it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MagicLinkRecord {
    /// Digest of the email that keys the link (also the link token's first part).
    pub email_key: String,
    /// SHA-256 (hex) of the link's secret.
    pub secret_hash: String,
    /// The address, to create or find the user on redemption.
    pub email: String,
    /// After this the link is dead.
    pub expires_at: Millis,
}

/// Result of counting one request against a fixed-window limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateCount {
    /// Requests in the current window, this one included.
    pub count: u64,
    /// Milliseconds until the window resets.
    pub reset_in_ms: Millis,
}

/// Why a store call failed; never "not found" (that is an `Option`/outcome).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer in time or the connection is down: retry later (503).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with data this code cannot read (500).
    #[error("session store returned unreadable data: {0}")]
    Corrupt(String),
}

/// Storage of users, sessions, magic links, rate counters and notes.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// `"redis"` or `"memory"`, for `/healthz` and the log.
    fn kind(&self) -> &'static str;

    /// Answers when the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Returns the user for `candidate.email`, creating it from `candidate` when new.
    async fn find_or_create_user(
        &self,
        email_key: &str,
        candidate: &UserRecord,
    ) -> Result<UserRecord, StoreError>;

    /// Stores a new session and indexes it under its user.
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// The live session `sid`, or `None` when unknown, ended or expired at `now`.
    /// Rotation internals (`successor`, `history`) stay in the store and come back empty.
    async fn get_session(
        &self,
        sid: &str,
        now: Millis,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// One atomic refresh step, following [`decide_rotation`].
    async fn rotate(&self, sid: &str, rotation: &Rotation) -> Result<RotateOutcome, StoreError>;

    /// Ends one session, remembering `reason`. Returns whether it was live (idempotent).
    async fn end_session(
        &self,
        sid: &str,
        reason: EndReason,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// The user's live sessions, oldest first (without rotation internals).
    async fn list_sessions(
        &self,
        user_id: &str,
        now: Millis,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Ends every session of the user; returns how many were live.
    async fn end_all_sessions(
        &self,
        user_id: &str,
        reason: EndReason,
        now: Millis,
    ) -> Result<usize, StoreError>;

    /// Saves a sign-in link, replacing any earlier one for the same email.
    async fn save_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError>;

    /// Consumes the link once: returns its email when `secret_hash` matches the newest
    /// link for `email_key` and it has not expired; the link is gone afterwards.
    async fn redeem_magic_link(
        &self,
        email_key: &str,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;

    /// Counts one request under `key` in a fixed window of `window_ms`.
    async fn hit_rate_limit(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<RateCount, StoreError>;

    /// Appends a note to the user's list (keeping the newest [`MAX_NOTES`]).
    async fn add_note(&self, user_id: &str, note: &Note) -> Result<(), StoreError>;

    /// The user's notes, oldest first.
    async fn list_notes(&self, user_id: &str) -> Result<Vec<Note>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SessionRecord {
        SessionRecord {
            sid: "ab-cd".into(),
            user: UserRecord {
                id: "ab".into(),
                email: "a@example.com".into(),
                created_at: 0,
            },
            device: "test".into(),
            created_at: 0,
            last_activity: 0,
            expires_at: 1_000,
            absolute_expires_at: 5_000,
            refresh_hash: "h1".into(),
            previous_hash: String::new(),
            rotated_at: 0,
            successor: String::new(),
            history: String::new(),
        }
    }

    fn rotation(presented: &str, now: Millis) -> Rotation {
        Rotation {
            presented_hash: presented.into(),
            new_hash: format!("{presented}'"),
            sealed_successor: "sealed".into(),
            now,
            idle_ms: 1_000,
            grace_ms: 30,
        }
    }

    #[test]
    fn current_token_rotates_and_extends_up_to_the_cap() {
        let r = record();
        assert_eq!(
            decide_rotation(&r, &rotation("h1", 500)),
            Decision::Rotate { expires_at: 1_500 }
        );
        let mut late = record();
        late.expires_at = 4_900;
        assert_eq!(
            decide_rotation(&late, &rotation("h1", 4_500)),
            Decision::Rotate { expires_at: 5_000 }
        );
    }

    #[test]
    fn previous_token_replays_only_inside_grace() {
        let mut r = record();
        let rot = rotation("h1", 100);
        apply_rotation(&mut r, &rot, 1_100);
        assert_eq!(decide_rotation(&r, &rotation("h1", 129)), Decision::Replay);
        assert_eq!(
            decide_rotation(&r, &rotation("h1", 130)),
            Decision::End(EndReason::Reused)
        );
    }

    #[test]
    fn older_tokens_are_reuse_and_strangers_are_rejected() {
        let mut r = record();
        apply_rotation(&mut r, &rotation("h1", 100), 1_100);
        apply_rotation(&mut r, &rotation("h1'", 200), 1_200);
        assert_eq!(
            decide_rotation(&r, &rotation("h1", 201)),
            Decision::End(EndReason::Reused)
        );
        assert_eq!(decide_rotation(&r, &rotation("zz", 201)), Decision::Reject);
        assert_eq!(decide_rotation(&r, &rotation("", 201)), Decision::Reject);
    }

    #[test]
    fn expired_sessions_end() {
        let r = record();
        assert_eq!(
            decide_rotation(&r, &rotation("h1", 1_000)),
            Decision::End(EndReason::Expired)
        );
    }

    #[test]
    fn history_is_bounded() {
        let mut r = record();
        for i in 0..(HISTORY_LEN as u64 + 10) {
            let current = r.refresh_hash.clone();
            apply_rotation(&mut r, &rotation(&current, i), 1_000);
        }
        assert_eq!(r.history.split(',').count(), HISTORY_LEN);
    }

    #[test]
    fn session_ids_carry_their_user() {
        assert_eq!(user_id_of("0a1b-ff00"), Some("0a1b"));
        assert_eq!(user_id_of("0a1b"), None);
        assert_eq!(user_id_of("xyz-00"), None);
        assert_eq!(user_id_of("00-"), None);
    }
}
