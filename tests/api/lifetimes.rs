//! Lifetimes from configuration, with short values instead of waiting for defaults.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[redis_test]
async fn expired_links_do_not_sign_in() {
    let app = spawn_app_with(AppOptions::default().with("MAGIC_LINK_TTL", "1ms")).await;
    let email = email();
    app.request_link(&email).await;
    let token = app.link_token(&email).await;
    assert_error(
        app.verify(&token).await,
        400,
        json!({ "error": "link_invalid" }),
    )
    .await;
}

#[redis_test]
async fn configured_access_lifetime_is_reported() {
    let app = spawn_app_with(AppOptions::default().with("ACCESS_TOKEN_TTL", "90s")).await;
    let pair = app.sign_in(&email()).await;
    let expires_in = pair.raw["expires_in"].as_u64().unwrap();
    assert!((85..=90).contains(&expires_in), "{expires_in}");
}

#[redis_test]
async fn an_idle_session_expires() {
    let app = spawn_app_with(
        AppOptions::default()
            .with("ACCESS_TOKEN_TTL", "100ms")
            .with("REFRESH_TOKEN_TTL", "300ms"),
    )
    .await;
    let pair = app.sign_in(&email()).await;
    // Wait for the condition (the session's idle expiry), not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.me(&pair.access).await;
        if response.status() == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "session never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_session_ended(app.refresh(&pair.refresh).await, "expired").await;
}

#[redis_test]
async fn the_absolute_cap_bounds_the_session() {
    let app = spawn_app_with(
        AppOptions::default()
            .with("ACCESS_TOKEN_TTL", "1m")
            .with("REFRESH_TOKEN_TTL", "10m")
            .with("SESSION_MAX_AGE", "10m"),
    )
    .await;
    let pair = app.sign_in(&email()).await;
    let me: Value = app.me(&pair.access).await.json().await.unwrap();
    let session = &me["session"];
    assert_eq!(session["expires_at"], session["absolute_expires_at"]);
    let next: Value = app.refresh(&pair.refresh).await.json().await.unwrap();
    // A refresh cannot push the session past its absolute end.
    assert!(next["refresh_expires_in"].as_u64().unwrap() <= 600);
}
