use crate::helpers::*;
use serde_json::{json, Value};

#[redis_test]
async fn link_requests_are_limited_per_email() {
    let app = spawn_app_with(AppOptions::default().with("RATE_LIMIT_EMAIL", "2/15m")).await;
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    assert_eq!(app.request_link(&email).await.status(), 200);
    let limited = app.request_link(&email).await;
    assert_eq!(limited.status(), 429);
    let retry_header: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    let retry_after = body["retry_after"].as_u64().unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_eq!(retry_header, retry_after);
    // Another address is not affected.
    assert_eq!(
        app.request_link(&crate::helpers::email()).await.status(),
        200
    );
}

#[redis_test]
async fn link_and_verify_requests_are_limited_per_client_ip() {
    let app = spawn_app_with(AppOptions::default().with("RATE_LIMIT_IP", "3/15m")).await;
    for _ in 0..3 {
        assert_eq!(app.request_link(&email()).await.status(), 200);
    }
    assert_eq!(app.request_link(&email()).await.status(), 429);
    for _ in 0..3 {
        assert_eq!(app.verify("bogus").await.status(), 400);
    }
    assert_eq!(app.verify("bogus").await.status(), 429);
}

#[redis_test]
async fn known_and_unknown_addresses_get_the_same_answer() {
    let app = spawn_app().await;
    let known = email();
    app.sign_in(&known).await;
    let a = app.request_link(&known).await;
    let b = app.request_link(&email()).await;
    assert_eq!(a.status(), b.status());
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a, b);
    assert_eq!(a, json!({ "ok": true }));
}

#[redis_test]
async fn protected_calls_are_limited_per_session_and_the_429_ends_nothing() {
    let app = spawn_app_with(AppOptions::default().with("RATE_LIMIT_SESSION", "3/15m")).await;
    let email = email();
    let laptop = app.sign_in(&email).await;
    let phone = app.sign_in(&email).await;
    for _ in 0..3 {
        assert_eq!(app.me(&laptop.access).await.status(), 200);
    }
    let limited = app.post_authed("sessions", &laptop.access, json!({})).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // The person's other session is counted apart, and the limited one is not ended:
    // it refreshes, and its new access token is limited with it (same session).
    assert_eq!(app.me(&phone.access).await.status(), 200);
    let renewed = app.rotate(&laptop.refresh).await;
    assert_eq!(app.me(&renewed.access).await.status(), 429);
    let listed = app.authed_json("sessions", &phone.access, json!({})).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
}
