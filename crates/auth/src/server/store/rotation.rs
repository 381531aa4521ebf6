//! The rotation rule, in one place: the types a refresh hands to the store, the pure
//! decision the memory store runs under its lock, and what the caller gets back.
//! `rotation.lua`, beside this file, is the same rule as one atomic Redis script; a
//! change here is a change there (the store contract suite runs both).
//!
//! 0. a session bound to a key (DPoP) moves only for a proof by that key, each proof
//!    once: anything else is [`Decision::ProofRefused`], the session left alone (a
//!    copied token cannot refresh, nor end the owner's session by replaying);
//! 1. session gone → its tombstone's reason, else `invalid`;
//! 2. past the idle or absolute expiry → end (`expired`);
//! 3. presented = current → rotate, extend to `min(now + idle, absolute)`;
//! 4. presented = previous → hand back the sealed successor: the successor has never
//!    been presented (else the presented token would no longer be the previous one), so
//!    this is a lost reply or a sibling tab (GoTrue's "parent of the active token"
//!    rule). A bound session honours it however late, since only the key's holder can
//!    ask; an unbound one only within the grace window after the rotation, and later it
//!    ends the session (`reused`): a copy replaying the previous token each time the
//!    owner rotates would otherwise never fall behind far enough to be noticed;
//! 5. presented = an earlier hash, less than the grace window after the latest
//!    rotation → [`Decision::Superseded`]: a sibling tab's request that arrived late,
//!    refused, the session kept;
//! 6. presented = an earlier hash, later than that → end the session (`reused`: theft);
//! 7. anything else → [`Decision::Unrecognised`]: reject and leave the session alone,
//!    so someone who saw a session id cannot end it with a made-up token.
//!
//! A rotation and a replay both record who was seen ([`seen`]): last activity, address
//! and device, so a second user of a session shows on the sessions page.

use super::{Millis, SessionRecord, HISTORY_LEN};
use crate::server::tokens::TokenHash;
use crate::EndReason;

/// Everything one refresh needs, prepared before the single atomic store step.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// Hash of the refresh token the client presented.
    pub presented_hash: TokenHash,
    /// Hash of the new refresh token (used if this call wins).
    pub new_hash: TokenHash,
    /// The new token sealed under a key derived from the presented one (raw bytes).
    pub sealed_successor: Vec<u8>,
    /// Request time.
    pub now: Millis,
    /// `REFRESH_TOKEN_TTL` in ms.
    pub idle_ms: Millis,
    /// `REFRESH_REUSE_GRACE` in ms: after a rotation, how long older tokens count as
    /// a race between tabs rather than theft.
    pub grace_ms: Millis,
    /// The DPoP proof that came with the refresh, checked already; `None` without one.
    pub proof: Option<ProofClaim>,
    /// The caller's network (`ClientInfo::ip`), recorded as the session's last address.
    pub address: String,
    /// The caller's device label, recorded as the session's device.
    pub device: String,
}

/// What a checked DPoP proof claims, as the store compares and remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofClaim {
    /// Thumbprint of the key that signed the proof.
    pub jkt: String,
    /// Digest of the proof's `jti`: a proof is used once.
    pub jti_hash: String,
}

/// Whether `rotation` may touch `record` at all: an unbound session, or a proof by the
/// key the session is bound to (rule 0; the `jti` is each store's to claim).
pub fn proof_admits(record: &SessionRecord, rotation: &Rotation) -> bool {
    match &record.jkt {
        None => true,
        Some(bound) => rotation
            .proof
            .as_ref()
            .is_some_and(|proof| proof.jkt == *bound),
    }
}

/// The step [`decide`] chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Rotate and extend to `expires_at`.
    Rotate {
        /// New idle expiry.
        expires_at: Millis,
    },
    /// The previous token: hand back the stored successor; change nothing.
    Replay,
    /// End the session with this reason.
    End(EndReason),
    /// An earlier token just after a rotation: refuse, change nothing.
    Superseded,
    /// Not a token of this session: reject, change nothing.
    Unrecognised,
    /// A bound session without a proof by its key: refuse, change nothing.
    ProofRefused,
}

/// What a rotation attempt did, as the store reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was current: it is now previous, the new hash is current,
    /// the session runs until `expires_at`.
    Rotated {
        /// New idle expiry.
        expires_at: Millis,
    },
    /// The presented token was the previous one: here is the successor that the
    /// rotation issued (sealed), nothing changed.
    Replayed {
        /// The sealed successor token.
        sealed_successor: Vec<u8>,
        /// Current idle expiry.
        expires_at: Millis,
    },
    /// The session is over (now, or earlier) for this reason.
    Ended(EndReason),
    /// An earlier token of this session, within the grace window after the latest
    /// rotation: another tab's late request. Refused; the session is left alone.
    Superseded,
    /// The token names a session but is none of its tokens: rejected, the session is
    /// left alone.
    Unrecognised,
    /// The session is bound to a key and the refresh came without a fresh proof by it
    /// (none, another key's, or one used before): refused, the session left alone.
    ProofRefused,
}

/// Records on `record` that its owner (or someone holding its token) was seen by
/// `rotation`: a rotation and a replay both write this, in every store.
pub fn seen(record: &mut SessionRecord, rotation: &Rotation) {
    record.last_activity = rotation.now;
    record.last_address.clone_from(&rotation.address);
    record.device.clone_from(&rotation.device);
}

/// Applies [`Decision::Rotate`] to a record and the hashes it replaced (`earlier`,
/// oldest first, kept to [`HISTORY_LEN`]): the presented (current) hash becomes the
/// previous one, the new hash current, and the caller is recorded as seen. The memory
/// store and the rule's tests both rotate with this; `rotation.lua` is its twin.
pub fn apply(
    record: &mut SessionRecord,
    earlier: &mut Vec<TokenHash>,
    rotation: &Rotation,
    expires_at: Millis,
) {
    let replaced = std::mem::replace(&mut record.refresh_hash, rotation.new_hash);
    earlier.push(replaced);
    let excess = earlier.len().saturating_sub(HISTORY_LEN);
    earlier.drain(..excess);
    record.previous_hash = Some(replaced);
    record.rotated_at = rotation.now;
    record.expires_at = expires_at;
    seen(record, rotation);
}

/// The rule over a live record and the hashes it replaced (`earlier`, any order).
/// Comparisons are constant-time.
pub fn decide(record: &SessionRecord, earlier: &[TokenHash], rotation: &Rotation) -> Decision {
    // `TokenHash` compares in constant time.
    let same = |known: &TokenHash| *known == rotation.presented_hash;
    if !proof_admits(record, rotation) {
        return Decision::ProofRefused;
    }
    if !record.is_live(rotation.now) {
        return Decision::End(EndReason::Expired);
    }
    if same(&record.refresh_hash) {
        let expires_at = (rotation.now + rotation.idle_ms).min(record.absolute_expires_at);
        return Decision::Rotate { expires_at };
    }
    let racing = rotation.now < record.rotated_at + rotation.grace_ms;
    if record.previous_hash.as_ref().is_some_and(same) {
        return if record.jkt.is_some() || racing {
            Decision::Replay
        } else {
            Decision::End(EndReason::Reused)
        };
    }
    if earlier.iter().any(same) {
        return if racing {
            Decision::Superseded
        } else {
            Decision::End(EndReason::Reused)
        };
    }
    Decision::Unrecognised
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::sample_session;

    /// A record plus the hashes it replaced, rotated as the memory store does. Tokens
    /// are named: the session starts with "h1", and each rotation adds a `'`.
    struct Session {
        record: SessionRecord,
        earlier: Vec<TokenHash>,
        current: String,
    }

    impl Session {
        fn new() -> Self {
            Self {
                record: sample_session(5_000),
                earlier: Vec::new(),
                current: "h1".into(),
            }
        }

        fn decide(&self, presented: &str, now: Millis) -> Decision {
            decide(&self.record, &self.earlier, &rotation(presented, now))
        }

        fn rotate(&mut self, now: Millis) {
            self.rotate_with(now, None);
        }

        fn rotate_with(&mut self, now: Millis, proof: Option<ProofClaim>) {
            let rotation = Rotation {
                proof,
                ..rotation(&self.current, now)
            };
            self.current.push('\'');
            let Decision::Rotate { expires_at } = decide(&self.record, &self.earlier, &rotation)
            else {
                panic!("the current token rotates");
            };
            apply(&mut self.record, &mut self.earlier, &rotation, expires_at);
        }
    }

    /// A refresh presenting the token named `presented`; the new token is named with a
    /// `'` added.
    fn rotation(presented: &str, now: Millis) -> Rotation {
        Rotation {
            presented_hash: TokenHash::of(presented.as_bytes()),
            new_hash: TokenHash::of(format!("{presented}'").as_bytes()),
            sealed_successor: "sealed".into(),
            now,
            idle_ms: 1_000,
            grace_ms: 30,
            proof: None,
            address: "192.0.2.1".into(),
            device: "Firefox on Linux".into(),
        }
    }

    fn proof_by(jkt: &str) -> Option<ProofClaim> {
        Some(ProofClaim {
            jkt: jkt.into(),
            jti_hash: "j1".into(),
        })
    }

    #[test]
    fn current_token_rotates_and_extends_up_to_the_cap() {
        let session = Session::new();
        assert_eq!(
            session.decide("h1", 500),
            Decision::Rotate { expires_at: 1_500 }
        );
        let mut late = Session::new();
        late.record.expires_at = 4_900;
        assert_eq!(
            late.decide("h1", 4_500),
            Decision::Rotate { expires_at: 5_000 }
        );
    }

    #[test]
    fn a_bound_session_replays_the_previous_token_for_its_whole_life() {
        let mut session = Session::new();
        session.record.jkt = Some("owner".into());
        session.rotate_with(100, proof_by("owner"));
        let late = |now| Rotation {
            proof: proof_by("owner"),
            ..rotation("h1", now)
        };
        for now in [129, 999] {
            assert_eq!(
                decide(&session.record, &session.earlier, &late(now)),
                Decision::Replay
            );
        }
        assert_eq!(
            decide(&session.record, &session.earlier, &late(1_100)),
            Decision::End(EndReason::Expired)
        );
    }

    #[test]
    fn an_unbound_session_replays_the_previous_token_within_grace_only() {
        let mut session = Session::new();
        session.rotate(100);
        assert_eq!(session.decide("h1", 129), Decision::Replay);
        assert_eq!(session.decide("h1", 130), Decision::End(EndReason::Reused));
        // Counted from the rotation, not from the last activity a replay records.
        session.record.last_activity = 129;
        assert_eq!(session.decide("h1", 130), Decision::End(EndReason::Reused));
    }

    #[test]
    fn rotating_records_who_was_seen() {
        let mut session = Session::new();
        session.rotate(100);
        assert_eq!(session.record.last_activity, 100);
        assert_eq!(session.record.rotated_at, 100);
        assert_eq!(session.record.last_address, "192.0.2.1");
        assert_eq!(session.record.device, "Firefox on Linux");
    }

    #[test]
    fn older_tokens_are_a_race_inside_grace_and_reuse_after_it() {
        let mut session = Session::new();
        session.rotate(100);
        session.rotate(200);
        assert_eq!(session.decide("h1", 229), Decision::Superseded);
        assert_eq!(session.decide("h1", 230), Decision::End(EndReason::Reused));
        assert_eq!(session.decide("zz", 230), Decision::Unrecognised);
        assert_eq!(session.decide("", 230), Decision::Unrecognised);
    }

    #[test]
    fn expired_sessions_end() {
        assert_eq!(
            Session::new().decide("h1", 1_000),
            Decision::End(EndReason::Expired)
        );
    }

    #[test]
    fn a_bound_session_moves_only_for_a_proof_by_its_key() {
        let mut session = Session::new();
        session.record.jkt = Some("owner".into());
        session.rotate_with(100, proof_by("owner"));
        for proof in [None, proof_by("thief")] {
            // Not the current token, not the previous one (which would hand out the
            // successor), not an old one (which would end the session as reused), and
            // not even an expired session's end.
            for (presented, now) in [("h1'", 150), ("h1", 150), ("h1", 5_000)] {
                let attempt = Rotation {
                    proof: proof.clone(),
                    ..rotation(presented, now)
                };
                assert_eq!(
                    decide(&session.record, &session.earlier, &attempt),
                    Decision::ProofRefused
                );
            }
        }
        let owners = Rotation {
            proof: proof_by("owner"),
            ..rotation("h1", 150)
        };
        assert_eq!(
            decide(&session.record, &session.earlier, &owners),
            Decision::Replay
        );
        // An unbound session ignores a proof: binding happens at sign-in only.
        let unbound = Session::new();
        let with_proof = Rotation {
            proof: proof_by("anyone"),
            ..rotation("h1", 150)
        };
        assert!(matches!(
            decide(&unbound.record, &unbound.earlier, &with_proof),
            Decision::Rotate { .. }
        ));
    }
}
