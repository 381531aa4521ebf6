//! `rediss://`: the server talks TLS to a Redis that speaks nothing else, trusting a
//! private CA given as `REDIS_CA_FILE` or, like any system CA, through `SSL_CERT_FILE`.

use crate::helpers::*;
use test_support::redis_server::RedisServer;

#[redis_test]
async fn sessions_live_in_a_redis_reached_over_tls() {
    let redis = RedisServer::start_tls();
    let ca = redis.ca_file();
    let ca = ca.to_str().unwrap();
    for trust in ["REDIS_CA_FILE", "SSL_CERT_FILE"] {
        let app = spawn_process_with(
            AppOptions::default()
                .with("REDIS_URL", &redis.url())
                .with(trust, ca),
        )
        .await;
        let health = app.get_json("/readyz").await;
        assert_eq!(health["status"], "ok", "{trust}: {health}\n{}", app.log());
        let pair = app.sign_in(&email()).await;
        let next = app.rotate(&pair.refresh).await;
        assert_eq!(app.me(&next.access).await.status(), 200, "{trust}");
    }
}

#[redis_test]
async fn an_untrusted_redis_certificate_is_refused() {
    let redis = RedisServer::start_tls();
    let app = spawn_process_with(AppOptions::default().with("REDIS_URL", &redis.url())).await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        response.status(),
        503,
        "connected to a server it cannot verify"
    );
}
