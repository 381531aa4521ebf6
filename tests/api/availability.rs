//! With Redis down every endpoint says 503 `unavailable` (never 401/session_ended, which
//! would sign people out) and the readiness probe says 503 while the liveness probe
//! says 200; when Redis is back everything works without a restart.

use crate::{helpers::*, redis_server::RedisServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn redis_outage_is_503_and_recovery_needs_no_restart() {
    let redis = RedisServer::start();
    // Several server threads, each with a Redis connection of its own; the test's
    // client keeps one HTTP connection, so every call below reaches the same thread.
    let app = spawn_app_with(
        AppOptions::default()
            .with("REDIS_URL", &redis.url())
            .with("SERVER_THREADS", "2"),
    )
    .await;
    let pair = app.sign_in(&email()).await;

    redis.stop();
    let started = Instant::now();
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // Alive all the same: an orchestrator must not restart instances for this.
    let live: Value = app.get_json("/livez").await;
    assert_eq!(live, json!({ "status": "ok" }));
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        started.elapsed()
    );
    let unavailable = json!({ "error": "unavailable" });
    assert_error(app.refresh(&pair.refresh).await, 503, unavailable.clone()).await;
    assert_error(app.me(&pair.access).await, 503, unavailable.clone()).await;
    assert_error(app.request_link(&email()).await, 503, unavailable.clone()).await;
    assert_error(
        app.verify("00.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await,
        503,
        unavailable.clone(),
    )
    .await;
    let logout = app
        .post("auth/logout", json!({ "refresh_token": pair.refresh }))
        .await;
    assert_eq!(logout.status(), 503);

    // Redis answers again: the very first call works (the thread's last attempt to
    // reconnect failed during the outage; that failure is not handed to this call).
    redis.launch();
    let next = app.refresh(&pair.refresh).await;
    assert_eq!(next.status(), 200);
    // The session survived (persistence) and refreshing works again.
    let next: Value = next.json().await.unwrap();
    assert!(next["refresh_token"].is_string(), "{next}");
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
