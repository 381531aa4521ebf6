//! One contract, four stores: every test body below runs against the in-memory store,
//! a real Redis (`REDIS_URL`) and a real three-master Redis Cluster
//! (`REDIS_CLUSTER_NODES`), both started by `./scripts/test`, each Redis test in its own
//! key prefix, and a Redis of the test's own that speaks only TLS (`rediss://`). Without
//! `REDIS_URL` (or the Cluster's nodes) a plain `cargo test` runs the memory store's and
//! skips the rest, naming each.
#![cfg(feature = "ssr")]

use stay_signed_in::{
    auth::{
        server::{
            store::{
                MagicLinkRecord, MemoryStore, ProofClaim, RedisStore, RotateOutcome, Rotation,
                SessionRecord, SessionStore, UserRecord, HISTORY_LEN, LINK_NETWORKS,
            },
            SessionId, TokenHash,
        },
        EndReason,
    },
    notes::{
        server::{MemoryNotes, NoteStore, RedisNotes, MAX_NOTES},
        Note,
    },
};
use std::sync::Arc;
use test_support::redis::skipped;
use test_support_macros::redis_test;

type Store = Arc<dyn SessionStore>;

const HOUR: u64 = 3_600_000;
const T0: u64 = 1_800_000_000_000;

fn random_hex() -> String {
    stay_signed_in::auth::server::random_id()
}

/// The hash of a fresh random secret.
fn random_hash() -> TokenHash {
    TokenHash::of(random_hex().as_bytes())
}

fn memory_store() -> Store {
    Arc::new(MemoryStore::new())
}

fn redis_store() -> Store {
    redis()
}

/// A store on the test Redis, in a key prefix of its own.
fn redis() -> Arc<RedisStore> {
    let url = std::env::var("REDIS_URL").expect(
        "REDIS_URL must point at a Redis for the store contract tests (./scripts/test starts one)",
    );
    Arc::new(RedisStore::new(&url, &format!("test-{}", random_hex()), None).unwrap())
}

fn cluster_store() -> Store {
    cluster()
}

/// A store on the test Cluster, in a key prefix of its own.
fn cluster() -> Arc<RedisStore> {
    let nodes = std::env::var("REDIS_CLUSTER_NODES").expect(
        "REDIS_CLUSTER_NODES must name a Redis Cluster for the store contract tests \
         (./scripts/test starts one)",
    );
    let nodes: Vec<String> = nodes.split(',').map(str::to_string).collect();
    Arc::new(RedisStore::cluster(&nodes, &format!("test-{}", random_hex()), None).unwrap())
}

/// A store on `server`, a Redis that speaks only TLS (`rediss://`), trusting the test CA.
fn tls_store(server: &test_support::redis_server::RedisServer) -> Store {
    tls(server)
}

fn tls(server: &test_support::redis_server::RedisServer) -> Arc<RedisStore> {
    let ca = std::fs::read(server.ca_file()).unwrap();
    let prefix = format!("test-{}", random_hex());
    Arc::new(RedisStore::new(&server.url(), &prefix, Some(&ca)).unwrap())
}

fn user() -> UserRecord {
    UserRecord {
        id: random_hex(),
        email: format!("{}@example.com", random_hex()),
        created_at: T0,
    }
}

fn session_for(user: &UserRecord, now: u64) -> SessionRecord {
    SessionRecord {
        sid: SessionId::generate(&user.id),
        user: user.clone(),
        device: "Test on Linux".into(),
        last_address: "192.0.2.1".into(),
        created_at: now,
        last_activity: now,
        rotated_at: now,
        expires_at: now + 24 * HOUR,
        absolute_expires_at: now + 72 * HOUR,
        refresh_hash: random_hash(),
        previous_hash: None,
        jkt: None,
    }
}

fn rotation(presented: &TokenHash, now: u64) -> Rotation {
    Rotation {
        presented_hash: *presented,
        new_hash: random_hash(),
        sealed_successor: format!("sealed-{}", random_hex()).into_bytes(),
        now,
        idle_ms: 24 * HOUR,
        grace_ms: 30_000,
        proof: None,
        address: "192.0.2.1".into(),
        device: "Test on Linux".into(),
    }
}

async fn stored_session(store: &Store) -> SessionRecord {
    let session = session_for(&user(), T0);
    store.create_session(&session).await.unwrap();
    session
}

/// A stored session rotated at `T0` + 1 s and + 2 s (the two rotations returned): its
/// original token is now two rotations old.
async fn rotated_twice(store: &Store) -> (SessionRecord, Rotation, Rotation) {
    let session = stored_session(store).await;
    let first = rotation(&session.refresh_hash, T0 + 1_000);
    store.rotate(&session.sid, &first).await.unwrap();
    let second = rotation(&first.new_hash, T0 + 2_000);
    store.rotate(&session.sid, &second).await.unwrap();
    (session, first, second)
}

async fn sessions_are_created_read_and_expire(store: Store) {
    let session = stored_session(&store).await;
    let read = store.get_session(&session.sid, T0 + 1).await.unwrap();
    assert_eq!(read.as_ref(), Some(&session));
    assert_eq!(
        store
            .get_session(&session.sid, session.expires_at)
            .await
            .unwrap(),
        None
    );
    let unknown = SessionId::parse("ab-cd").unwrap();
    assert_eq!(store.get_session(&unknown, T0).await.unwrap(), None);
}

async fn rotation_extends_and_the_previous_token_replays(store: Store) {
    let session = stored_session(&store).await;
    let first = rotation(&session.refresh_hash, T0 + HOUR);
    assert_eq!(
        store.rotate(&session.sid, &first).await.unwrap(),
        RotateOutcome::Rotated {
            expires_at: T0 + 25 * HOUR
        }
    );
    let stored = store
        .get_session(&session.sid, T0 + HOUR)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_hash, first.new_hash);
    assert_eq!(stored.last_activity, T0 + HOUR);
    assert_eq!(stored.expires_at, T0 + 25 * HOUR);

    // The same (now previous) token from elsewhere: the same successor back, and who
    // asked is recorded.
    let replay = Rotation {
        address: "198.51.100.9".into(),
        device: "Other on Windows".into(),
        ..rotation(&session.refresh_hash, T0 + HOUR + 10_000)
    };
    assert_eq!(
        store.rotate(&session.sid, &replay).await.unwrap(),
        RotateOutcome::Replayed {
            sealed_successor: first.sealed_successor.clone(),
            expires_at: T0 + 25 * HOUR,
        }
    );
    let seen = store
        .get_session(&session.sid, T0 + HOUR + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_activity, T0 + HOUR + 10_000);
    assert_eq!(seen.last_address, "198.51.100.9");
    assert_eq!(seen.device, "Other on Windows");
    assert_eq!(seen.rotated_at, T0 + HOUR);
    // The successor still works: nothing was rotated by the replay.
    let next = rotation(&first.new_hash, T0 + HOUR + 20_000);
    assert!(matches!(
        store.rotate(&session.sid, &next).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

async fn rotation_is_capped_by_the_absolute_age(store: Store) {
    let session = stored_session(&store).await;
    let late = rotation(&session.refresh_hash, session.absolute_expires_at - HOUR);
    // Idle expiry has passed by then: the session is over.
    assert_eq!(
        store.rotate(&session.sid, &late).await.unwrap(),
        RotateOutcome::Ended(EndReason::Expired)
    );
    let mut young = session_for(&user(), T0);
    young.absolute_expires_at = T0 + 2 * HOUR;
    store.create_session(&young).await.unwrap();
    assert_eq!(
        store
            .rotate(&young.sid, &rotation(&young.refresh_hash, T0 + HOUR))
            .await
            .unwrap(),
        RotateOutcome::Rotated {
            expires_at: T0 + 2 * HOUR
        }
    );
}

async fn a_bound_sessions_lost_reply_an_hour_later_still_gets_the_successor(store: Store) {
    let session = SessionRecord {
        jkt: Some("owner-thumbprint".into()),
        ..session_for(&user(), T0)
    };
    store.create_session(&session).await.unwrap();
    let owners = |presented: &TokenHash, now| Rotation {
        proof: proof("owner-thumbprint"),
        ..rotation(presented, now)
    };
    let first = owners(&session.refresh_hash, T0 + 1_000);
    store.rotate(&session.sid, &first).await.unwrap();
    // The reply of that rotation never arrived; the client comes back an hour later
    // with the token it still has: the same successor, however late.
    let late = owners(&session.refresh_hash, T0 + HOUR);
    assert_eq!(
        store.rotate(&session.sid, &late).await.unwrap(),
        RotateOutcome::Replayed {
            sealed_successor: first.sealed_successor.clone(),
            expires_at: T0 + 1_000 + 24 * HOUR,
        }
    );
    // The successor then rotates as usual.
    assert!(matches!(
        store
            .rotate(&session.sid, &owners(&first.new_hash, T0 + HOUR + 1))
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

async fn an_unbound_sessions_previous_token_after_the_grace_window_ends_it(store: Store) {
    let session = stored_session(&store).await;
    let first = rotation(&session.refresh_hash, T0 + 1_000);
    store.rotate(&session.sid, &first).await.unwrap();
    // Within the grace window (a lost reply retried, a sibling tab): the successor.
    assert!(matches!(
        store
            .rotate(&session.sid, &rotation(&session.refresh_hash, T0 + 30_999))
            .await
            .unwrap(),
        RotateOutcome::Replayed { .. }
    ));
    // After it, whoever still holds the previous token is a copy: the session ends,
    // the owner's current token with it.
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&session.refresh_hash, T0 + 31_000))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Reused)
    );
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&first.new_hash, T0 + 31_001))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Reused)
    );
}

async fn the_previous_token_after_its_successor_was_used_ends_the_session(store: Store) {
    let (session, _, second) = rotated_twice(&store).await;
    // Two rotations old, past the grace window: theft.
    let stale = rotation(&session.refresh_hash, T0 + 2_000 + 30_000);
    assert_eq!(
        store.rotate(&session.sid, &stale).await.unwrap(),
        RotateOutcome::Ended(EndReason::Reused)
    );
    // The current token dies with it.
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&second.new_hash, T0 + 40_000))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Reused)
    );
    assert_eq!(
        store.get_session(&session.sid, T0 + 40_000).await.unwrap(),
        None
    );
}

fn proof(jkt: &str) -> Option<ProofClaim> {
    Some(ProofClaim {
        jkt: jkt.to_string(),
        jti_hash: random_hex(),
    })
}

async fn a_bound_session_moves_only_for_a_fresh_proof_by_its_key(store: Store) {
    let session = SessionRecord {
        jkt: Some("owner-thumbprint".into()),
        ..session_for(&user(), T0)
    };
    store.create_session(&session).await.unwrap();
    let read = store.get_session(&session.sid, T0).await.unwrap().unwrap();
    assert_eq!(read.jkt.as_deref(), Some("owner-thumbprint"));
    let with = |presented: &TokenHash, now, proof| Rotation {
        proof,
        ..rotation(presented, now)
    };
    // No proof, another key's: refused, and nothing moved.
    for attempt in [None, proof("thief-thumbprint")] {
        let refused = store
            .rotate(
                &session.sid,
                &with(&session.refresh_hash, T0 + 1_000, attempt),
            )
            .await
            .unwrap();
        assert_eq!(refused, RotateOutcome::ProofRefused);
    }
    assert_eq!(
        store.get_session(&session.sid, T0 + 1_000).await.unwrap(),
        Some(read)
    );
    // The owner's proof rotates; the same proof again is refused, even for the token
    // that would otherwise replay its successor.
    let owners = with(&session.refresh_hash, T0 + 2_000, proof("owner-thumbprint"));
    assert!(matches!(
        store.rotate(&session.sid, &owners).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    let again = Rotation {
        now: T0 + 3_000,
        ..owners.clone()
    };
    assert_eq!(
        store.rotate(&session.sid, &again).await.unwrap(),
        RotateOutcome::ProofRefused
    );
    // A copy replaying two rotations old after the grace window cannot end the session
    // as reused: without the key, it touches nothing.
    let second = with(&owners.new_hash, T0 + 4_000, proof("owner-thumbprint"));
    assert!(matches!(
        store.rotate(&session.sid, &second).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    let stale = with(&session.refresh_hash, T0 + 100_000, None);
    assert_eq!(
        store.rotate(&session.sid, &stale).await.unwrap(),
        RotateOutcome::ProofRefused
    );
    let late = with(&owners.new_hash, T0 + 100_000, proof("owner-thumbprint"));
    assert!(matches!(
        store.rotate(&session.sid, &late).await.unwrap(),
        RotateOutcome::Replayed { .. }
    ));
    // An unbound session ignores proofs.
    let unbound = stored_session(&store).await;
    assert_eq!(unbound.jkt, None);
    let any = with(&unbound.refresh_hash, T0 + 1_000, proof("anyone"));
    assert!(matches!(
        store.rotate(&unbound.sid, &any).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

async fn older_tokens_just_after_a_rotation_are_a_race_not_theft(store: Store) {
    let (session, _, second) = rotated_twice(&store).await;
    // A sibling tab's request with the original token, late but inside the grace
    // window after the latest rotation: refused, the session lives on.
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&session.refresh_hash, T0 + 3_000))
            .await
            .unwrap(),
        RotateOutcome::Superseded
    );
    assert!(matches!(
        store
            .rotate(&session.sid, &rotation(&second.new_hash, T0 + 4_000))
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

/// Theft is recognised for the last `HISTORY_LEN` replaced tokens; an older one is only
/// unknown (refused, the session kept). Rotating more than twice the history length
/// goes round a ring of remembered hashes twice.
async fn earlier_tokens_are_remembered_up_to_the_history_length(store: Store) {
    let session = stored_session(&store).await;
    let mut hashes = vec![session.refresh_hash];
    let mut now = T0;
    let rotations = 2 * HISTORY_LEN + 3;
    for _ in 0..rotations {
        now += 60_000;
        let step = rotation(hashes.last().unwrap(), now);
        let outcome = store.rotate(&session.sid, &step).await.unwrap();
        assert!(
            matches!(outcome, RotateOutcome::Rotated { .. }),
            "{outcome:?}"
        );
        hashes.push(step.new_hash);
    }
    // hashes[rotations] is current; the HISTORY_LEN replaced before it are remembered,
    // the previous one (hashes[rotations - 1]) among them.
    let oldest_remembered = rotations - HISTORY_LEN;
    let late = now + HOUR;
    for forgotten in [0, HISTORY_LEN, oldest_remembered - 1] {
        assert_eq!(
            store
                .rotate(&session.sid, &rotation(&hashes[forgotten], late))
                .await
                .unwrap(),
            RotateOutcome::Unrecognised,
            "hashes[{forgotten}]"
        );
    }
    assert!(store
        .get_session(&session.sid, late)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&hashes[oldest_remembered], late))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Reused)
    );
}

/// Every one of the remembered earlier tokens is recognised, the newest and the oldest
/// alike, wherever the ring has got to.
async fn each_remembered_earlier_token_is_recognised(store: Store) {
    let session = stored_session(&store).await;
    let mut hashes = vec![session.refresh_hash];
    let mut now = T0;
    for _ in 0..HISTORY_LEN + 5 {
        now += 60_000;
        let step = rotation(hashes.last().unwrap(), now);
        store.rotate(&session.sid, &step).await.unwrap();
        hashes.push(step.new_hash);
    }
    // Inside the grace window an earlier token is refused as a late sibling, which
    // shows it was recognised without ending the session. The remembered ones are the
    // HISTORY_LEN replaced last, the previous one among them (that one replays).
    let previous = hashes.len() - 2;
    let remembered = &hashes[previous + 1 - HISTORY_LEN..previous];
    for (age, earlier) in remembered.iter().rev().enumerate() {
        assert_eq!(
            store
                .rotate(&session.sid, &rotation(earlier, now + 1))
                .await
                .unwrap(),
            RotateOutcome::Superseded,
            "the token replaced {} rotations before the previous one",
            age + 1
        );
    }
}

async fn unknown_tokens_are_rejected_without_harm(store: Store) {
    let session = stored_session(&store).await;
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&random_hash(), T0 + 1))
            .await
            .unwrap(),
        RotateOutcome::Unrecognised
    );
    assert!(store
        .get_session(&session.sid, T0 + 1)
        .await
        .unwrap()
        .is_some());
    let ghost = SessionId::generate(&random_hex());
    assert_eq!(
        store
            .rotate(&ghost, &rotation(&random_hash(), T0))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Invalid)
    );
}

async fn concurrent_rotations_have_one_winner(store: Store) {
    let session = stored_session(&store).await;
    let attempts: Vec<Rotation> = (0..20)
        .map(|_| rotation(&session.refresh_hash, T0 + 5_000))
        .collect();
    let tasks = attempts.iter().cloned().map(|attempt| {
        let store = store.clone();
        let sid = session.sid.clone();
        tokio::spawn(async move { store.rotate(&sid, &attempt).await.unwrap() })
    });
    let outcomes: Vec<RotateOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, RotateOutcome::Rotated { .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let winner = &attempts[winners[0]];
    for (i, outcome) in outcomes.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(
                outcome,
                &RotateOutcome::Replayed {
                    sealed_successor: winner.sealed_successor.clone(),
                    expires_at: T0 + 5_000 + 24 * HOUR,
                }
            );
        }
    }
    let stored = store
        .get_session(&session.sid, T0 + 6_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_hash, winner.new_hash);
}

async fn ending_a_session_is_remembered_and_idempotent(store: Store) {
    let session = stored_session(&store).await;
    assert!(store
        .end_session(&session.sid, EndReason::Revoked, T0 + 1)
        .await
        .unwrap());
    assert!(!store
        .end_session(&session.sid, EndReason::Revoked, T0 + 2)
        .await
        .unwrap());
    assert_eq!(store.get_session(&session.sid, T0 + 3).await.unwrap(), None);
    assert_eq!(
        store
            .rotate(&session.sid, &rotation(&session.refresh_hash, T0 + 4))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Revoked)
    );
}

async fn sessions_are_listed_and_ended_per_user(store: Store) {
    let owner = user();
    let stranger_session = stored_session(&store).await;
    let mut mine = Vec::new();
    for i in 0..3 {
        let session = session_for(&owner, T0 + i);
        store.create_session(&session).await.unwrap();
        mine.push(session);
    }
    let listed = store.list_sessions(&owner.id, T0 + 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| &s.sid).collect::<Vec<_>>(),
        mine.iter().map(|s| &s.sid).collect::<Vec<_>>()
    );
    assert_eq!(
        store
            .list_sessions(&owner.id, T0 + 48 * HOUR)
            .await
            .unwrap(),
        vec![]
    );

    assert_eq!(
        store
            .end_all_sessions(&owner.id, EndReason::Revoked, T0 + 20)
            .await
            .unwrap(),
        3
    );
    assert!(store
        .list_sessions(&owner.id, T0 + 21)
        .await
        .unwrap()
        .is_empty());
    for session in &mine {
        assert_eq!(
            store
                .rotate(&session.sid, &rotation(&session.refresh_hash, T0 + 22))
                .await
                .unwrap(),
            RotateOutcome::Ended(EndReason::Revoked)
        );
    }
    assert!(store
        .get_session(&stranger_session.sid, T0 + 23)
        .await
        .unwrap()
        .is_some());
}

async fn beyond_the_cap_the_least_recently_active_sessions_end(store: Store) {
    let owner = user();
    let mut sessions = Vec::new();
    for i in 0..5 {
        let session = session_for(&owner, T0 + i);
        store.create_session(&session).await.unwrap();
        sessions.push(session);
    }
    // The oldest sign-in is the most recently active one: it refreshed just now.
    let rotated = store
        .rotate(
            &sessions[0].sid,
            &rotation(&sessions[0].refresh_hash, T0 + 100),
        )
        .await
        .unwrap();
    assert!(
        matches!(rotated, RotateOutcome::Rotated { .. }),
        "{rotated:?}"
    );
    assert_eq!(
        store
            .end_least_active_sessions(&owner.id, 5, T0 + 101)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .end_least_active_sessions(&owner.id, 3, T0 + 101)
            .await
            .unwrap(),
        2
    );
    let kept: Vec<_> = store
        .list_sessions(&owner.id, T0 + 102)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    let expected: Vec<_> = [0, 3, 4].iter().map(|&i| sessions[i].sid.clone()).collect();
    assert_eq!(kept, expected);
    // The ended ones say so: revoked, not unknown.
    for ended in &sessions[1..3] {
        let outcome = store
            .rotate(&ended.sid, &rotation(&ended.refresh_hash, T0 + 103))
            .await
            .unwrap();
        assert_eq!(outcome, RotateOutcome::Ended(EndReason::Revoked));
    }
}

fn link(email_key: &str, now: u64) -> MagicLinkRecord {
    link_from(email_key, "198.51.100.7", now)
}

fn link_from(email_key: &str, network: &str, now: u64) -> MagicLinkRecord {
    MagicLinkRecord {
        email_key: email_key.to_string(),
        network: network.to_string(),
        secret_hash: random_hash(),
        email: "ada@example.com".into(),
        expires_at: now + 15 * 60_000,
    }
}

/// More sessions than one store call handles (Redis works through a person's sessions
/// in batches): all of them are listed, and all of them end.
async fn hundreds_of_sessions_are_listed_and_ended(store: Store) {
    let owner = user();
    let mut created = Vec::new();
    for i in 0..250 {
        let session = session_for(&owner, T0 + i);
        store.create_session(&session).await.unwrap();
        created.push(session.sid);
    }
    let listed = store.list_sessions(&owner.id, T0 + HOUR).await.unwrap();
    let mut listed: Vec<_> = listed.into_iter().map(|s| s.sid).collect();
    listed.sort();
    created.sort();
    assert_eq!(listed, created);
    let ended = store
        .end_all_sessions(&owner.id, EndReason::Revoked, T0 + HOUR)
        .await
        .unwrap();
    assert_eq!(ended, 250);
    assert!(store
        .list_sessions(&owner.id, T0 + HOUR)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .rotate(&created[249], &rotation(&random_hash(), T0 + HOUR))
            .await
            .unwrap(),
        RotateOutcome::Ended(EndReason::Revoked)
    );
}

async fn magic_links_are_single_use_and_superseded(store: Store) {
    let key = random_hex();
    let older = link(&key, T0);
    let newer = link(&key, T0);
    store.save_magic_link(&older).await.unwrap();
    store.save_magic_link(&newer).await.unwrap();
    assert_eq!(
        store
            .redeem_magic_link(&key, &older.secret_hash, T0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .redeem_magic_link(&key, &newer.secret_hash, T0)
            .await
            .unwrap()
            .as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        store
            .redeem_magic_link(&key, &newer.secret_hash, T0)
            .await
            .unwrap(),
        None
    );

    let expired = link(&random_hex(), T0);
    store.save_magic_link(&expired).await.unwrap();
    assert_eq!(
        store
            .redeem_magic_link(&expired.email_key, &expired.secret_hash, expired.expires_at)
            .await
            .unwrap(),
        None
    );
}

async fn each_network_keeps_its_own_link_and_one_sign_in_ends_them_all(store: Store) {
    let key = random_hex();
    let owner = link_from(&key, "203.0.113.10", T0);
    store.save_magic_link(&owner).await.unwrap();
    // Someone else asks again and again from other networks: the owner's link lives.
    for n in 0..5 {
        let flood = link_from(&key, &format!("198.51.100.{n}"), T0 + n);
        store.save_magic_link(&flood).await.unwrap();
        store
            .save_magic_link(&link_from(&key, &format!("198.51.100.{n}"), T0 + n))
            .await
            .unwrap();
    }
    let peeked = store
        .peek_magic_link(&key, &owner.secret_hash, T0 + 10)
        .await
        .unwrap();
    assert_eq!(peeked.as_deref(), Some("ada@example.com"));
    let another = link_from(&key, "198.51.100.9", T0 + 10);
    store.save_magic_link(&another).await.unwrap();
    let used = store
        .redeem_magic_link(&key, &owner.secret_hash, T0 + 10)
        .await;
    assert_eq!(used.unwrap().as_deref(), Some("ada@example.com"));
    // One sign-in ends the address's other links.
    let after = store
        .redeem_magic_link(&key, &another.secret_hash, T0 + 10)
        .await;
    assert_eq!(after.unwrap(), None);
}

async fn beyond_link_networks_the_oldest_link_goes(store: Store) {
    let key = random_hex();
    let links: Vec<MagicLinkRecord> = (0..=LINK_NETWORKS as u64)
        .map(|n| link_from(&key, &format!("192.0.2.{n}"), T0 + n))
        .collect();
    for link in &links {
        store.save_magic_link(link).await.unwrap();
    }
    let oldest = store.peek_magic_link(&key, &links[0].secret_hash, T0).await;
    assert_eq!(
        oldest.unwrap(),
        None,
        "the oldest of {} networks' links",
        links.len()
    );
    for link in &links[1..] {
        let live = store
            .peek_magic_link(&key, &link.secret_hash, T0)
            .await
            .unwrap();
        assert!(live.is_some(), "{}'s link", link.network);
    }
}

async fn a_link_is_read_without_being_used(store: Store) {
    let record = link(&random_hex(), T0);
    store.save_magic_link(&record).await.unwrap();
    let (key, hash) = (&record.email_key, &record.secret_hash);
    for _ in 0..2 {
        let peeked = store.peek_magic_link(key, hash, T0).await.unwrap();
        assert_eq!(peeked.as_deref(), Some("ada@example.com"));
    }
    assert_eq!(
        store
            .peek_magic_link(key, &random_hash(), T0)
            .await
            .unwrap(),
        None
    );
    let at_expiry = store.peek_magic_link(key, hash, record.expires_at).await;
    assert_eq!(at_expiry.unwrap(), None);
    // Still there to be used once, and gone after that.
    assert!(store
        .redeem_magic_link(key, hash, T0)
        .await
        .unwrap()
        .is_some());
    assert_eq!(store.peek_magic_link(key, hash, T0).await.unwrap(), None);
}

async fn concurrent_redemptions_have_one_winner(store: Store) {
    let record = link(&random_hex(), T0);
    store.save_magic_link(&record).await.unwrap();
    let tasks = (0..10).map(|_| {
        let store = store.clone();
        let record = record.clone();
        tokio::spawn(async move {
            store
                .redeem_magic_link(&record.email_key, &record.secret_hash, T0 + 1)
                .await
                .unwrap()
        })
    });
    let redeemed = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_some())
        .count();
    assert_eq!(redeemed, 1);
}

async fn rate_limits_count_per_window(store: Store) {
    let key = random_hex();
    let window = 60_000;
    let start = T0 - T0 % window;
    for expected in 1..=3 {
        let count = store
            .hit_rate_limit(&key, window, start + 10)
            .await
            .unwrap();
        assert_eq!(count.count, expected);
        assert_eq!(count.reset_in_ms, window - 10);
    }
    let next_window = store
        .hit_rate_limit(&key, window, start + window)
        .await
        .unwrap();
    assert_eq!(next_window.count, 1);
    assert_eq!(
        store
            .hit_rate_limit(&random_hex(), window, start)
            .await
            .unwrap()
            .count,
        1
    );
}

async fn users_are_created_once(store: Store) {
    let key = random_hex();
    let first = user();
    let tasks = (0..8).map(|_| {
        let store = store.clone();
        let key = key.clone();
        let candidate = UserRecord {
            id: random_hex(),
            ..first.clone()
        };
        tokio::spawn(async move { store.find_or_create_user(&key, &candidate).await.unwrap() })
    });
    let users: Vec<UserRecord> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(users.iter().all(|u| u == &users[0]));
    assert_eq!(
        store.find_or_create_user(&key, &user()).await.unwrap(),
        users[0]
    );
}

async fn the_store_answers_pings(store: Store) {
    store.ping().await.unwrap();
    assert!(["redis", "memory"].contains(&store.kind()));
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::memory_store()).await })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::skipped(concat!("redis::", stringify!($name)), "REDIS_URL") {
                    return;
                }
                super::$name(super::redis_store()).await
            })*
        }
        mod cluster {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::skipped(concat!("cluster::", stringify!($name)), "REDIS_CLUSTER_NODES") {
                    return;
                }
                super::$name(super::cluster_store()).await
            })*
        }
        mod tls {
            // A Redis of the test's own: run where the test Redis is (it needs redis-server).
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if super::skipped(concat!("tls::", stringify!($name)), "REDIS_URL") {
                    return;
                }
                let server = test_support::redis_server::RedisServer::start_tls();
                super::$name(super::tls_store(&server)).await
            })*
        }
    };
}

contract!(
    sessions_are_created_read_and_expire,
    rotation_extends_and_the_previous_token_replays,
    rotation_is_capped_by_the_absolute_age,
    a_bound_sessions_lost_reply_an_hour_later_still_gets_the_successor,
    an_unbound_sessions_previous_token_after_the_grace_window_ends_it,
    the_previous_token_after_its_successor_was_used_ends_the_session,
    older_tokens_just_after_a_rotation_are_a_race_not_theft,
    a_bound_session_moves_only_for_a_fresh_proof_by_its_key,
    earlier_tokens_are_remembered_up_to_the_history_length,
    each_remembered_earlier_token_is_recognised,
    unknown_tokens_are_rejected_without_harm,
    concurrent_rotations_have_one_winner,
    ending_a_session_is_remembered_and_idempotent,
    sessions_are_listed_and_ended_per_user,
    beyond_the_cap_the_least_recently_active_sessions_end,
    hundreds_of_sessions_are_listed_and_ended,
    magic_links_are_single_use_and_superseded,
    a_link_is_read_without_being_used,
    each_network_keeps_its_own_link_and_one_sign_in_ends_them_all,
    beyond_link_networks_the_oldest_link_goes,
    concurrent_redemptions_have_one_winner,
    rate_limits_count_per_window,
    users_are_created_once,
    the_store_answers_pings,
);

/// Redis only: a stopped or hung Redis is `Unavailable` within about a second, and the
/// same store works again (with its data) once Redis is back, without a new store.
mod redis_outage {
    use super::*;
    use stay_signed_in::auth::server::store::StoreError;
    use std::time::{Duration, Instant};
    use test_support::redis_server::RedisServer;

    async fn ping_recovers(store: &Store) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match store.ping().await {
                Ok(()) => return,
                Err(_) if Instant::now() < deadline => tokio::task::yield_now().await,
                Err(e) => panic!("store did not recover: {e}"),
            }
        }
    }

    #[redis_test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopped_redis_is_unavailable_then_recovers_with_data() {
        let redis = RedisServer::start();
        let store: Store = Arc::new(RedisStore::new(&redis.url(), "outage", None).unwrap());
        let session = stored_session(&store).await;

        redis.stop();
        let started = Instant::now();
        let error = store.get_session(&session.sid, T0).await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_millis(2_500),
            "{:?}",
            started.elapsed()
        );

        redis.launch();
        ping_recovers(&store).await;
        let back = store.get_session(&session.sid, T0 + 1).await.unwrap();
        assert_eq!(back.map(|s| s.sid), Some(session.sid));
    }

    /// One thread, so every call uses the same connection, as on a server thread that
    /// served nobody while Redis restarted. Its first call afterwards must work: failing
    /// it would answer a person 503 although Redis is back.
    #[redis_test]
    async fn a_connection_idle_through_a_restart_serves_the_first_call_after_it() {
        let redis = RedisServer::start();
        let store: Store = Arc::new(RedisStore::new(&redis.url(), "idle", None).unwrap());
        let session = stored_session(&store).await;

        // Restarted off this thread, so its runtime stays free to notice, as a server's does.
        let redis = tokio::task::spawn_blocking(move || {
            redis.stop();
            redis.launch();
            redis
        })
        .await
        .unwrap();
        let back = store.get_session(&session.sid, T0 + 1).await.unwrap();
        assert_eq!(back.map(|s| s.sid), Some(session.sid));
        drop(redis);
    }

    #[redis_test(flavor = "multi_thread", worker_threads = 2)]
    async fn hung_redis_times_out_instead_of_hanging() {
        let redis = RedisServer::start();
        let store: Store = Arc::new(RedisStore::new(&redis.url(), "hung", None).unwrap());
        store.ping().await.unwrap();

        redis.freeze();
        let started = Instant::now();
        let error = store.ping().await.unwrap_err();
        let waited = started.elapsed();
        redis.thaw();
        assert!(matches!(error, StoreError::TimedOut), "{error:?}");
        assert!(waited < Duration::from_millis(2_500), "{waited:?}");
        ping_recovers(&store).await;
    }

    #[redis_test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_created_while_redis_is_down_connects_later() {
        let redis = RedisServer::start();
        redis.stop();
        let store: Store = Arc::new(RedisStore::new(&redis.url(), "late", None).unwrap());
        assert!(store.ping().await.is_err());
        redis.launch();
        ping_recovers(&store).await;
    }
}

/// Redis only: a stored session on the test Redis, its key, and a plain connection that
/// reads (or rewrites) what the store wrote, for the tests of how sessions are stored.
struct RawSession {
    store: Store,
    session: SessionRecord,
    key: String,
    redis: ::redis::Connection,
}

async fn raw_session() -> RawSession {
    let url = std::env::var("REDIS_URL").expect("REDIS_URL (./scripts/test starts one)");
    let prefix = format!("test-{}", random_hex());
    let store: Store = Arc::new(RedisStore::new(&url, &prefix, None).unwrap());
    let session = stored_session(&store).await;
    let key = format!(
        "{prefix}:{{{}}}:session:{}",
        session.sid.user_id(),
        session.sid.within_user()
    );
    let redis = ::redis::Client::open(url)
        .unwrap()
        .get_connection()
        .unwrap();
    RawSession {
        store,
        session,
        key,
        redis,
    }
}

/// Redis only: Redis drops a session's key at the key's expiry, so that expiry must keep
/// up with every extension, or people would be signed out while their session is live.
/// This follows a session through rotations minutes and hours apart, up to one that
/// reaches the absolute cap.
mod redis_key_expiry {
    use super::*;
    use stay_signed_in::auth::server::store::TOMBSTONE_MS;

    #[redis_test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_key_lives_a_tombstone_past_every_extension() {
        let RawSession {
            store,
            session,
            key,
            mut redis,
        } = raw_session().await;
        let mut key_expiry = || -> u64 {
            ::redis::cmd("PEXPIRETIME")
                .arg(&key)
                .query(&mut redis)
                .unwrap()
        };
        assert_eq!(key_expiry(), session.expires_at + TOMBSTONE_MS, "created");

        let mut hash = session.refresh_hash;
        let near_the_cap = session.absolute_expires_at - HOUR / 2;
        // Twenty rotations ten minutes apart, then a day's worth of them, hours apart.
        let times = (1..=20)
            .map(|i| T0 + i * HOUR / 6)
            .chain((1..=3).map(|i| T0 + i * 20 * HOUR))
            .filter(|&at| at < near_the_cap);
        for now in times {
            let step = rotation(&hash, now);
            let RotateOutcome::Rotated { expires_at } =
                store.rotate(&session.sid, &step).await.unwrap()
            else {
                panic!("the current token rotates");
            };
            assert_eq!(key_expiry(), expires_at + TOMBSTONE_MS, "rotated at {now}");
            hash = step.new_hash;
        }

        // Capped by the absolute age: the key goes a tombstone after it.
        let step = rotation(&hash, near_the_cap);
        let outcome = store.rotate(&session.sid, &step).await.unwrap();
        assert_eq!(
            outcome,
            RotateOutcome::Rotated {
                expires_at: session.absolute_expires_at
            }
        );
        assert_eq!(
            key_expiry(),
            session.absolute_expires_at + TOMBSTONE_MS,
            "at the cap"
        );
    }
}

/// Redis only: sessions written before the history ring and the hot-fields-first order
/// (fields in creation order, no empty placeholders, earlier hashes newest first) keep
/// working after an upgrade: they rotate, replay, and still recognise earlier tokens,
/// but for the one their first rotation overwrites (ARCHITECTURE, "Compact sessions").
mod redis_older_layout {
    use super::*;

    #[redis_test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_in_the_older_layout_rotates_and_recognises_earlier_tokens() {
        let RawSession {
            store,
            session,
            key,
            mut redis,
        } = raw_session().await;
        let mut hashes = vec![session.refresh_hash];
        for i in 1..=3 {
            let step = rotation(hashes.last().unwrap(), T0 + i * 1_000);
            store.rotate(&session.sid, &step).await.unwrap();
            hashes.push(step.new_hash);
        }

        // Rewrite it as the older build stored it after those three rotations.
        let stored: Vec<(String, Vec<u8>)> =
            ::redis::cmd("HGETALL").arg(&key).query(&mut redis).unwrap();
        let field = |name: &str| {
            stored
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.clone())
                .unwrap()
        };
        let newest_first: Vec<u8> = hashes[..3]
            .iter()
            .rev()
            .flat_map(|hash| hash.as_bytes()[..8].to_vec())
            .collect();
        let mut older = ::redis::cmd("HSET");
        older.arg(&key);
        for name in [
            "email",
            "user_created_at",
            "device",
            "created_at",
            "last_activity",
            "expires_at",
            "absolute_expires_at",
            "refresh_hash",
            "previous_hash",
            "successor",
        ] {
            older.arg(name).arg(field(name));
        }
        older.arg("history:1").arg(newest_first);
        ::redis::cmd("DEL")
            .arg(&key)
            .query::<()>(&mut redis)
            .unwrap();
        older.query::<()>(&mut redis).unwrap();

        let fourth = rotation(&hashes[3], T0 + 4_000);
        assert!(matches!(
            store.rotate(&session.sid, &fourth).await.unwrap(),
            RotateOutcome::Rotated { .. }
        ));
        let now = T0 + 4_500;
        let outcome = |presented: &TokenHash| {
            let store = store.clone();
            let sid = session.sid.clone();
            let step = rotation(presented, now);
            async move { store.rotate(&sid, &step).await.unwrap() }
        };
        assert!(matches!(
            outcome(&hashes[3]).await,
            RotateOutcome::Replayed { .. }
        ));
        // Inside the grace window a recognised earlier token is refused as a sibling's.
        assert_eq!(outcome(&hashes[2]).await, RotateOutcome::Superseded);
        assert_eq!(outcome(&hashes[0]).await, RotateOutcome::Superseded);
        // The slot the first rotation after the upgrade wrote held this one.
        assert_eq!(outcome(&hashes[1]).await, RotateOutcome::Unrecognised);
    }
}

/// The app's notes (`notes::server`), kept beside the sessions: in memory, and through
/// the connection `RedisStore` lends to an app's own data on a Redis, the Cluster and
/// over TLS.
mod notes {
    use super::*;

    async fn notes_are_kept_per_user_and_bounded(store: Arc<dyn NoteStore>) {
        let owner = random_hex();
        for i in 0..(MAX_NOTES + 5) {
            let note = Note {
                id: i.to_string(),
                text: format!("note {i}"),
                created_at: T0,
            };
            store.add(&owner, &note).await.unwrap();
        }
        let notes = store.list(&owner).await.unwrap();
        assert_eq!(notes.len(), MAX_NOTES);
        assert_eq!(notes[0].id, "5");
        assert_eq!(notes[MAX_NOTES - 1].text, format!("note {}", MAX_NOTES + 4));
        assert!(store.list(&random_hex()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn in_memory() {
        notes_are_kept_per_user_and_bounded(Arc::new(MemoryNotes::new())).await
    }

    #[redis_test]
    async fn on_redis() {
        notes_are_kept_per_user_and_bounded(Arc::new(RedisNotes::new(redis()))).await
    }

    #[tokio::test]
    async fn on_the_cluster() {
        if skipped("notes::on_the_cluster", "REDIS_CLUSTER_NODES") {
            return;
        }
        notes_are_kept_per_user_and_bounded(Arc::new(RedisNotes::new(cluster()))).await
    }

    #[redis_test]
    async fn over_tls() {
        let server = test_support::redis_server::RedisServer::start_tls();
        notes_are_kept_per_user_and_bounded(Arc::new(RedisNotes::new(tls(&server)))).await
    }
}
