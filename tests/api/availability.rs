//! With Redis down every endpoint says 503 `unavailable` (never 401/session_ended, which
//! would sign people out) and the readiness probe says 503 while the liveness probe
//! says 200; when Redis is back everything works without a restart.

use crate::{helpers::*, redis_server::RedisServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn redis_outage_is_503_and_recovery_needs_no_restart() {
    let redis = RedisServer::start();
    // Two server threads, each with a Redis connection of its own.
    let app = spawn_app_with(
        AppOptions::default()
            .with("REDIS_URL", &redis.url())
            .with("SERVER_THREADS", "2"),
    )
    .await;
    let pair = app.sign_in(&email()).await;
    // Calls on connections of their own: the kernel hands each to one of the threads,
    // so both threads open their Redis connection before the outage and see it fail.
    let me_on_new_connections = |expected: u16| {
        let (app, access) = (&app, pair.access.clone());
        async move {
            for _ in 0..16 {
                let me = reqwest::Client::new()
                    .post(app.url("/api/v1/me"))
                    .bearer_auth(&access)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(me.status(), expected);
            }
        }
    };
    me_on_new_connections(200).await;

    redis.stop();
    me_on_new_connections(503).await;
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

    redis.launch();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        if health.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
    }
    // Once ready, every thread works the first time, not only the one that answered.
    me_on_new_connections(200).await;
    // The session survived (persistence) and refreshing works again.
    let next: Value = app.refresh(&pair.refresh).await.json().await.unwrap();
    assert!(next["refresh_token"].is_string(), "{next}");
}
