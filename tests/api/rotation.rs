use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn the_previous_token_within_grace_returns_the_same_successor() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let a: Value = app.refresh(&first.refresh).await.json().await.unwrap();
    let b: Value = app.refresh(&first.refresh).await.json().await.unwrap();
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    assert_eq!(a["access_token"], b["access_token"]);
}

#[tokio::test]
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

#[tokio::test]
async fn the_previous_token_after_grace_ends_the_session() {
    let app = spawn_app_with(AppOptions::default().with("REFRESH_REUSE_GRACE", "1ms")).await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    // Any later replay is outside a 1 ms grace window.
    let replay = app.refresh(&first.refresh).await;
    assert_session_ended(replay, "reused").await;
    // The thief's success would have been the owner's current token: it is dead too.
    assert_session_ended(app.refresh(&second.refresh).await, "reused").await;
    assert_error(
        app.me(&second.access).await,
        401,
        json!({ "error": "unauthorized" }),
    )
    .await;
}

#[tokio::test]
async fn a_token_two_rotations_old_ends_the_session_at_once() {
    let app = spawn_app().await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    let third = app.rotate(&second.refresh).await;
    assert_session_ended(app.refresh(&first.refresh).await, "reused").await;
    assert_eq!(app.refresh(&third.refresh).await.status(), 401);
}
