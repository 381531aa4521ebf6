//! `GET /metrics` on its own listener: what the auth system did, counted.

use crate::helpers::*;
use std::time::{Duration, Instant};
use test_support::free_port::free_port;

/// The value of the sample `name` whose labels include every pair of `labels`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

/// `GET /metrics` from the metrics listener on `port`.
pub async fn scrape(app: &TestApp, port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let response = app.client.get(&url).send().await.unwrap();
    response.text().await.unwrap()
}

#[redis_test]
async fn the_metrics_listener_counts_refresh_outcomes_sign_ins_links_and_answers() {
    let metrics_port = free_port();
    let app = spawn_process_with(
        AppOptions::default()
            .with("METRICS_ADDR", &format!("127.0.0.1:{metrics_port}"))
            .with("REFRESH_REUSE_GRACE", "500ms")
            .with("RATE_LIMIT_EMAIL", "2/15m"),
    )
    .await;
    let first = app.sign_in(&email()).await;
    let second = app.rotate(&first.refresh).await;
    app.rotate(&first.refresh).await; // the previous token, within grace: replayed
    app.rotate(&second.refresh).await;
    // Two rotations old once the 500 ms grace window has passed: reused.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_session_ended(app.refresh(&first.refresh).await, "reused").await;
    assert_session_ended(app.refresh("not-a-token").await, "invalid").await;
    assert_eq!(app.me("not-a-token").await.status(), 401);
    let limited = email();
    for _ in 0..2 {
        assert_eq!(app.request_link(&limited).await.status(), 200);
    }
    assert_eq!(app.request_link(&limited).await.status(), 429);

    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = scrape(&app, metrics_port).await;
        // Mail goes out in the background: wait until all three were handed over.
        if sample(&text, "ssi_magic_links_total", &[("result", "sent")]) == Some(3.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let refreshes = |outcome| sample(&text, "ssi_refresh_total", &[("outcome", outcome)]);
    assert_eq!(refreshes("rotated"), Some(2.0), "{text}");
    assert_eq!(refreshes("replayed"), Some(1.0), "{text}");
    assert_eq!(refreshes("reused"), Some(1.0), "{text}");
    assert_eq!(refreshes("invalid"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "ssi_sign_ins_total", &[]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "ssi_rate_limited_total", &[("scope", "link-email")]),
        Some(1.0),
        "{text}"
    );
    let answers = |endpoint, status| {
        sample(
            &text,
            "ssi_api_requests_total",
            &[("endpoint", endpoint), ("status", status)],
        )
    };
    assert_eq!(answers("/api/v1/me", "401"), Some(1.0), "{text}");
    assert_eq!(answers("/api/v1/auth/refresh", "200"), Some(3.0), "{text}");
    assert!(
        sample(
            &text,
            "ssi_api_request_duration_seconds_bucket",
            &[("endpoint", "/api/v1/auth/refresh"), ("le", "+Inf")]
        ) == Some(5.0),
        "{text}"
    );

    // Not on the public side.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
}

#[redis_test]
async fn store_failures_are_counted() {
    let redis = test_support::redis_server::RedisServer::start();
    let metrics_port = free_port();
    let app = spawn_process_with(
        AppOptions::default()
            .with("REDIS_URL", &redis.url())
            .with("METRICS_ADDR", &format!("127.0.0.1:{metrics_port}")),
    )
    .await;
    let pair = app.sign_in(&email()).await;
    redis.stop();
    assert_eq!(app.me(&pair.access).await.status(), 503);
    let text = scrape(&app, metrics_port).await;
    let failures: f64 = ["unavailable", "timeout"]
        .iter()
        .filter_map(|kind| sample(&text, "ssi_store_errors_total", &[("kind", kind)]))
        .sum();
    assert!(failures >= 1.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "ssi_api_requests_total",
            &[("endpoint", "/api/v1/me"), ("status", "503")]
        ),
        Some(1.0),
        "{text}"
    );
}
