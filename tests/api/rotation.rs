use crate::helpers::*;
use serde_json::{json, Value};

#[redis_test]
async fn every_refresh_rotates_and_the_new_pair_works() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let response = app.refresh(&first.refresh).await;
    assert_eq!(response.status(), 200);
    let second = Pair::from(response.json::<Value>().await.unwrap());
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    assert_eq!(second.raw["token_type"], "bearer");
    assert!(second.raw["expires_in"].as_u64().unwrap() > 1700);
    assert_eq!(app.me(&second.access).await.status(), 200);
    let third = app.rotate(&second.refresh).await;
    assert_ne!(third.refresh, second.refresh);
}

#[redis_test]
async fn refresh_updates_last_activity() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let before: Value = app.me(&pair.access).await.json().await.unwrap();
    let next = app.rotate(&pair.refresh).await;
    let after: Value = app.me(&next.access).await.json().await.unwrap();
    assert!(
        after["session"]["last_activity"].as_u64() >= before["session"]["last_activity"].as_u64()
    );
    assert!(after["session"]["expires_at"].as_u64() >= before["session"]["expires_at"].as_u64());
}

#[redis_test]
async fn the_previous_token_returns_the_same_successor_with_a_working_access_token() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let a = app.rotate(&first.refresh).await;
    let b = app.rotate(&first.refresh).await;
    assert_eq!(a.refresh, b.refresh);
    // The replay's access token is signed afresh (the rotation's may have expired).
    assert_ne!(a.access, b.access);
    assert_eq!(app.me(&a.access).await.status(), 200);
    assert_eq!(app.me(&b.access).await.status(), 200);
}

#[redis_test]
async fn twenty_concurrent_refreshes_share_one_rotation() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let calls = (0..20).map(|_| app.refresh(&first.refresh));
    let responses = futures::future::join_all(calls).await;
    let mut successors = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        successors.push(body["refresh_token"].as_str().unwrap().to_string());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "exactly one rotation happened");
    // The session survived and the successor is the current token.
    let next = app.refresh(&successors[0]).await;
    assert_eq!(next.status(), 200);
}

#[redis_test]
async fn an_unbound_lost_reply_retried_within_the_grace_window_gets_the_successor() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    // The server rotates, but the reply never reaches the client ...
    let lost = app.rotate(&first.refresh).await;
    // ... which retries with the token it still holds, within the 30 s grace window:
    // the same successor, and an access token that works.
    let retried = app.rotate(&first.refresh).await;
    assert_eq!(retried.refresh, lost.refresh);
    assert_eq!(app.me(&retried.access).await.status(), 200);
    let next = app.rotate(&retried.refresh).await;
    assert_eq!(app.me(&next.access).await.status(), 200);
}

#[redis_test]
async fn an_unbound_sessions_previous_token_after_the_grace_window_ends_it() {
    // A session signed in without a proof has no key to tell its owner from a copy: the
    // previous token is a lost reply only within the grace window (1 ms here).
    let app = spawn_app_with(AppOptions::default().with("REFRESH_REUSE_GRACE", "1ms")).await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    assert_session_ended(app.refresh(&first.refresh).await, "reused").await;
    assert_session_ended(app.refresh(&second.refresh).await, "reused").await;
    assert_eq!(app.me(&second.access).await.status(), 401);
}

#[redis_test]
async fn a_replay_of_the_previous_token_shows_who_used_the_session() {
    let app = spawn_app_with(AppOptions::default().with("TRUSTED_PROXIES", "127.0.0.1")).await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    // A copy of the first token, replayed from another device and network.
    let replay = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Firefox/128.0",
        )
        .header("x-forwarded-for", "198.51.100.23")
        .json(&json!({ "refresh_token": first.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 200);
    let sessions = app.authed_json("sessions", &second.access, json!({})).await;
    let session = &sessions[0];
    assert_eq!(session["device"], "Firefox on Windows", "{session}");
    assert_eq!(session["last_address"], "198.51.100.23", "{session}");
}

#[redis_test]
async fn the_previous_token_after_its_successor_was_used_ends_the_session() {
    let app = spawn_app_with(AppOptions::default().with("REFRESH_REUSE_GRACE", "1ms")).await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    let third = app.rotate(&second.refresh).await;
    // `first` is two rotations old and outside a 1 ms grace window: theft.
    let replay = app.refresh(&first.refresh).await;
    assert_session_ended(replay, "reused").await;
    // The owner's current token is dead too.
    assert_session_ended(app.refresh(&third.refresh).await, "reused").await;
    assert_error(
        app.me(&third.access).await,
        401,
        json!({ "error": "unauthorized" }),
    )
    .await;
}

#[redis_test]
async fn a_token_two_rotations_old_right_after_a_rotation_is_refused_without_harm() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    let third = app.rotate(&second.refresh).await;
    // Inside the 30 s grace window: a sibling tab's late request, not theft.
    assert_error(
        app.refresh(&first.refresh).await,
        409,
        json!({ "error": "refresh_superseded" }),
    )
    .await;
    assert_eq!(app.me(&third.access).await.status(), 200);
    app.rotate(&third.refresh).await;
}
