//! In-process store: the embedded default when `REDIS_URL` is unset, so
//! `cargo leptos watch` works with nothing installed. Everything is lost on restart.

use super::{
    oldest_first,
    rotation::{self, Decision},
    FixedWindow, MagicLinkRecord, Millis, RateCount, RotateOutcome, Rotation, SessionRecord,
    SessionStore, StoreError, UserRecord, TOMBSTONE_MS,
};
use crate::{
    server::{dpop::PROOF_LIFETIME_MS, session_id::SessionId, tokens::TokenHash},
    EndReason,
};
use async_trait::async_trait;
use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

/// Sessions, links and counters in a `HashMap` behind one lock: each operation is
/// atomic because it runs entirely under that lock (and never awaits while holding it).
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<String, UserRecord>,
    sessions: HashMap<SessionId, StoredSession>,
    tombstones: HashMap<SessionId, (EndReason, Millis)>,
    /// Per address: the live link of each requesting network.
    links: HashMap<String, Vec<MagicLinkRecord>>,
    rates: HashMap<String, (u64, Millis)>,
}

/// A session with the rotation bookkeeping only this store needs to see (the Redis
/// store keeps the same inside its session hash).
struct StoredSession {
    record: SessionRecord,
    /// The token issued by the last rotation, sealed under the previous one.
    sealed_successor: Vec<u8>,
    /// Hashes this session replaced, oldest first, at most [`HISTORY_LEN`](super::HISTORY_LEN).
    earlier: Vec<TokenHash>,
    /// DPoP proofs used on this session (digest of the `jti`, remembered until).
    used_proofs: HashMap<String, Millis>,
}

impl StoredSession {
    /// Applies [`Decision::Rotate`] ([`rotation::apply`]) and keeps the sealed successor.
    fn rotate(&mut self, rotation: &Rotation, expires_at: Millis) {
        rotation::apply(&mut self.record, &mut self.earlier, rotation, expires_at);
        self.sealed_successor = rotation.sealed_successor.clone();
    }

    /// Claims a proof's `jti` for `PROOF_LIFETIME_MS`; false when it was used before.
    fn claim_proof(&mut self, jti_hash: &str, now: Millis) -> bool {
        self.used_proofs.retain(|_, until| *until > now);
        if self.used_proofs.contains_key(jti_hash) {
            return false;
        }
        self.used_proofs
            .insert(jti_hash.to_string(), now + PROOF_LIFETIME_MS);
        true
    }
}

impl Inner {
    /// Ends `sid` (if live) and remembers why.
    fn end(&mut self, sid: &SessionId, reason: EndReason, now: Millis) -> bool {
        let was_live = self
            .sessions
            .remove(sid)
            .is_some_and(|session| session.record.is_live(now));
        self.tombstones
            .insert(sid.clone(), (reason, now + TOMBSTONE_MS));
        was_live
    }

    /// Drops what has expired, like Redis TTLs would.
    fn sweep(&mut self, now: Millis) {
        let expired: Vec<SessionId> = self
            .sessions
            .values()
            .filter(|s| !s.record.is_live(now))
            .map(|s| s.record.sid.clone())
            .collect();
        for sid in expired {
            self.end(&sid, EndReason::Expired, now);
        }
        self.tombstones.retain(|_, (_, until)| *until > now);
        self.links.retain(|_, links| {
            links.retain(|link| link.expires_at > now);
            !links.is_empty()
        });
        self.rates.retain(|_, (_, reset_at)| *reset_at > now);
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied operation behind
        // (each one writes at its end), so a poisoned lock is still consistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn find_or_create_user(
        &self,
        email_key: &str,
        candidate: &UserRecord,
    ) -> Result<UserRecord, StoreError> {
        let mut inner = self.lock();
        Ok(inner
            .users
            .entry(email_key.to_string())
            .or_insert_with(|| candidate.clone())
            .clone())
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(session.created_at);
        inner.sessions.insert(
            session.sid.clone(),
            StoredSession {
                record: session.clone(),
                sealed_successor: Vec::new(),
                earlier: Vec::new(),
                used_proofs: HashMap::new(),
            },
        );
        Ok(())
    }

    async fn get_session(
        &self,
        sid: &SessionId,
        now: Millis,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .sessions
            .get(sid)
            .map(|session| &session.record)
            .filter(|record| record.is_live(now))
            .cloned())
    }

    async fn rotate(
        &self,
        sid: &SessionId,
        rotation: &Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        let mut inner = self.lock();
        let now = rotation.now;
        let Some(session) = inner.sessions.get_mut(sid) else {
            let reason = inner
                .tombstones
                .get(sid)
                .filter(|(_, until)| *until > now)
                .map(|(reason, _)| *reason);
            return Ok(RotateOutcome::Ended(reason.unwrap_or(EndReason::Invalid)));
        };
        let decision = rotation::decide(&session.record, &session.earlier, rotation);
        // A bound session's proof is used once (claimed as `rotation.lua` does, before
        // anything else the decision would do).
        if let (Some(_), Some(proof)) = (&session.record.jkt, &rotation.proof) {
            if decision != Decision::ProofRefused && !session.claim_proof(&proof.jti_hash, now) {
                return Ok(RotateOutcome::ProofRefused);
            }
        }
        match decision {
            Decision::Rotate { expires_at } => {
                session.rotate(rotation, expires_at);
                Ok(RotateOutcome::Rotated { expires_at })
            }
            Decision::Replay => {
                rotation::seen(&mut session.record, rotation);
                Ok(RotateOutcome::Replayed {
                    sealed_successor: session.sealed_successor.clone(),
                    expires_at: session.record.expires_at,
                })
            }
            Decision::End(reason) => {
                inner.end(sid, reason, now);
                Ok(RotateOutcome::Ended(reason))
            }
            Decision::Superseded => Ok(RotateOutcome::Superseded),
            Decision::Unrecognised => Ok(RotateOutcome::Unrecognised),
            Decision::ProofRefused => Ok(RotateOutcome::ProofRefused),
        }
    }

    async fn end_session(
        &self,
        sid: &SessionId,
        reason: EndReason,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if !inner.sessions.contains_key(sid) {
            return Ok(false);
        }
        Ok(inner.end(sid, reason, now))
    }

    async fn list_sessions(
        &self,
        user_id: &str,
        now: Millis,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let inner = self.lock();
        let mut sessions: Vec<SessionRecord> = inner
            .sessions
            .values()
            .map(|s| &s.record)
            .filter(|r| r.user.id == user_id && r.is_live(now))
            .cloned()
            .collect();
        oldest_first(&mut sessions);
        Ok(sessions)
    }

    async fn end_all_sessions(
        &self,
        user_id: &str,
        reason: EndReason,
        now: Millis,
    ) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let sids: Vec<SessionId> = inner
            .sessions
            .keys()
            .filter(|sid| sid.user_id() == user_id)
            .cloned()
            .collect();
        Ok(sids
            .iter()
            .filter(|sid| inner.end(sid, reason, now))
            .count())
    }

    async fn end_least_active_sessions(
        &self,
        user_id: &str,
        keep: usize,
        now: Millis,
    ) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let mut live: Vec<(Millis, SessionId)> = inner
            .sessions
            .values()
            .filter(|session| session.record.sid.user_id() == user_id)
            .map(|session| (session.record.last_activity, session.record.sid.clone()))
            .collect();
        // Least recently active first; ties by id, as the Redis script breaks them.
        live.sort_by(|a, b| (a.0, a.1.within_user()).cmp(&(b.0, b.1.within_user())));
        let excess = live.len().saturating_sub(keep);
        for (_, sid) in &live[..excess] {
            inner.end(sid, EndReason::Revoked, now);
        }
        Ok(excess)
    }

    async fn save_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let links = inner.links.entry(link.email_key.clone()).or_default();
        links.retain(|earlier| earlier.network != link.network);
        links.push(link.clone());
        // Oldest first (links live equally long): drop the oldest beyond the cap.
        let excess = links.len().saturating_sub(super::LINK_NETWORKS);
        links.drain(..excess);
        Ok(())
    }

    async fn peek_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let inner = self.lock();
        Ok(matching_link(inner.links.get(email_key), secret_hash)
            .filter(|link| link.expires_at > now)
            .map(|link| link.email.clone()))
    }

    async fn redeem_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let mut inner = self.lock();
        let Some(link) = matching_link(inner.links.get(email_key), secret_hash).cloned() else {
            return Ok(None);
        };
        inner.links.remove(email_key);
        Ok(Some(link.email).filter(|_| link.expires_at > now))
    }

    async fn hit_rate_limit(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<RateCount, StoreError> {
        let window = FixedWindow::containing(now, window_ms);
        let mut inner = self.lock();
        let entry = inner.rates.entry(key.to_string()).or_insert((0, 0));
        if entry.1 != window.end {
            *entry = (0, window.end);
        }
        entry.0 += 1;
        Ok(window.count(entry.0, now))
    }
}

/// The link among `links` whose secret hashes to `secret_hash` (`TokenHash` compares
/// in constant time).
fn matching_link<'a>(
    links: Option<&'a Vec<MagicLinkRecord>>,
    secret_hash: &TokenHash,
) -> Option<&'a MagicLinkRecord> {
    links?.iter().find(|link| link.secret_hash == *secret_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::HISTORY_LEN;

    #[test]
    fn a_session_remembers_at_most_history_len_earlier_hashes() {
        let mut session = StoredSession {
            record: crate::server::store::sample_session(1_000),
            sealed_successor: Vec::new(),
            earlier: Vec::new(),
            used_proofs: HashMap::new(),
        };
        for i in 1..=(HISTORY_LEN as u64 + 10) {
            let rotation = Rotation {
                presented_hash: session.record.refresh_hash,
                new_hash: TokenHash::of(format!("h{i}").as_bytes()),
                sealed_successor: format!("s{i}").into_bytes(),
                now: i,
                idle_ms: 1_000,
                grace_ms: 0,
                proof: None,
                address: String::new(),
                device: String::new(),
            };
            session.rotate(&rotation, 1_000);
        }
        assert_eq!(session.earlier.len(), HISTORY_LEN);
        let h41 = TokenHash::of(b"h41");
        assert_eq!(session.earlier.last(), Some(&h41));
        assert_eq!(session.record.previous_hash, Some(h41));
    }
}
