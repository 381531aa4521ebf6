//! With Redis down every endpoint says 503 `unavailable` (never 401/session_ended, which
//! would sign people out) and the readiness probe says 503 while the liveness probe
//! says 200; when Redis is back everything works without a restart.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use test_support::redis_server::RedisServer;

#[redis_test]
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

#[redis_test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_answers_a_burst_at_once_and_recovers_by_itself() {
    let redis = RedisServer::start();
    // The real binary, so the burst's sockets are split between two processes.
    let app = spawn_process_with(AppOptions::default().with("REDIS_URL", &redis.url())).await;
    let pair = app.sign_in(&email()).await;
    let unavailable = json!({ "error": "unavailable" });

    redis.freeze(); // SIGSTOP: connections stay open, nothing answers.
    let started = Instant::now();
    let burst = (0..500).map(|_| async { app.me(&pair.access).await.status().as_u16() });
    let statuses = futures::future::join_all(burst).await;
    let took = started.elapsed();
    assert!(statuses.iter().all(|status| *status == 503), "{statuses:?}");
    // About the store timeout (1 s), not 500 of them queued one after another.
    assert!(took < Duration::from_secs(4), "the burst took {took:?}");
    // The breaker is open: the next call does not wait for Redis at all.
    let quick = Instant::now();
    assert_error(app.me(&pair.access).await, 503, unavailable).await;
    assert!(
        quick.elapsed() < Duration::from_millis(500),
        "{:?}",
        quick.elapsed()
    );

    redis.thaw(); // SIGCONT
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.me(&pair.access).await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "service did not come back after SIGCONT"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[redis_test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_concurrent_requests_the_answer_is_an_immediate_503_not_a_queue() {
    let redis = RedisServer::start();
    let app = spawn_app_with(
        AppOptions::default()
            .with("REDIS_URL", &redis.url())
            .with("MAX_CONCURRENT_REQUESTS", "10"),
    )
    .await;
    let pair = app.sign_in(&email()).await;
    redis.freeze(); // every request that reaches the store now waits for its timeout
    let started = Instant::now();
    let calls = (0..50).map(|_| async {
        let response = app.me(&pair.access).await;
        let retry_after = response.headers().get("retry-after").cloned();
        (response.status().as_u16(), retry_after, started.elapsed())
    });
    let answers = futures::future::join_all(calls).await;
    redis.thaw();
    assert!(
        answers.iter().all(|(status, _, _)| *status == 503),
        "{answers:?}"
    );
    let shed: Vec<_> = answers
        .iter()
        .filter(|(_, retry, _)| retry.is_some())
        .collect();
    // Ten were worked on (and waited for the store); the others were turned away at once.
    assert!(shed.len() >= 35, "{} shed of 50: {answers:?}", shed.len());
    for (_, retry_after, took) in &shed {
        assert_eq!(retry_after.as_ref().unwrap(), "1");
        assert!(
            *took < Duration::from_millis(700),
            "a shed request took {took:?}"
        );
    }
}
