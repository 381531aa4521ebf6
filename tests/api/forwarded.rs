//! Client addresses behind a proxy: with `TRUSTED_PROXIES`, per-address limits count the
//! client named by `X-Forwarded-For` (the rightmost untrusted entry); without it the
//! header is ignored, so forging it changes nothing. IPv6 clients count per /64.

use crate::helpers::*;
use serde_json::json;

/// `POST /api/v1/<endpoint>` as relayed by a proxy that saw `forwarded_for`.
async fn send_via(
    app: &TestApp,
    endpoint: &str,
    forwarded_for: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/{endpoint}")))
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The same, only the status.
async fn post_via(
    app: &TestApp,
    endpoint: &str,
    forwarded_for: &str,
    body: serde_json::Value,
) -> u16 {
    send_via(app, endpoint, forwarded_for, body)
        .await
        .status()
        .as_u16()
}

async fn link_via(app: &TestApp, forwarded_for: &str, email: &str) -> u16 {
    post_via(
        app,
        "auth/magic-link",
        forwarded_for,
        json!({ "email": email }),
    )
    .await
}

/// A server behind a proxy on loopback, allowing two sign-in requests per address.
async fn behind_proxy() -> TestApp {
    spawn_app_with(
        AppOptions::default()
            .with("TRUSTED_PROXIES", "127.0.0.1")
            .with("RATE_LIMIT_IP", "2/15m"),
    )
    .await
}

#[redis_test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = behind_proxy().await;
    for _ in 0..2 {
        assert_eq!(link_via(&app, "203.0.113.1", &email()).await, 200);
    }
    assert_eq!(link_via(&app, "203.0.113.1", &email()).await, 429);
    // Someone else behind the same proxy is not affected.
    assert_eq!(link_via(&app, "203.0.113.2", &email()).await, 200);
}

#[redis_test]
async fn forged_entries_left_of_the_proxys_own_are_ignored() {
    let app = behind_proxy().await;
    for forged in ["1.1.1.1", "2.2.2.2"] {
        let chain = format!("{forged}, 203.0.113.7");
        assert_eq!(link_via(&app, &chain, &email()).await, 200);
    }
    assert_eq!(link_via(&app, "3.3.3.3, 203.0.113.7", &email()).await, 429);
}

#[redis_test]
async fn without_trusted_proxies_a_forged_header_changes_nothing() {
    let app = spawn_app_with(AppOptions::default().with("RATE_LIMIT_IP", "2/15m")).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(link_via(&app, client, &email()).await, 200);
    }
    assert_eq!(link_via(&app, "203.0.113.3", &email()).await, 429);
}

#[redis_test]
async fn ipv6_clients_count_per_64() {
    let app = behind_proxy().await;
    for client in ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"] {
        assert_eq!(link_via(&app, client, &email()).await, 200);
    }
    assert_eq!(link_via(&app, "2001:db8:1:2::abcd", &email()).await, 429);
    assert_eq!(link_via(&app, "2001:db8:1:3::1", &email()).await, 200);
}

#[redis_test]
async fn links_requested_from_elsewhere_do_not_lock_the_owner_out() {
    let app = spawn_app_with(
        AppOptions::default()
            .with("TRUSTED_PROXIES", "127.0.0.1")
            .with("RATE_LIMIT_EMAIL", "2/15m"),
    )
    .await;
    let victim = email();
    for _ in 0..2 {
        assert_eq!(link_via(&app, "198.51.100.66", &victim).await, 200);
    }
    assert_eq!(link_via(&app, "198.51.100.66", &victim).await, 429);
    // The owner, from their own address, still gets a link.
    assert_eq!(link_via(&app, "203.0.113.10", &victim).await, 200);
    assert_eq!(app.outbox(&victim).await.len(), 3);
}

#[redis_test]
async fn refresh_is_limited_per_client_without_ending_the_session() {
    let app = spawn_app_with(
        AppOptions::default()
            .with("TRUSTED_PROXIES", "127.0.0.1")
            .with("RATE_LIMIT_REFRESH_IP", "2/15m"),
    )
    .await;
    let mut pair = app.sign_in(&email()).await;
    for _ in 0..2 {
        let body = json!({ "refresh_token": pair.refresh });
        let response = send_via(&app, "auth/refresh", "203.0.113.20", body).await;
        assert_eq!(response.status(), 200);
        pair = Pair::from(response.json::<serde_json::Value>().await.unwrap());
    }
    let body = json!({ "refresh_token": pair.refresh });
    assert_eq!(
        post_via(&app, "auth/refresh", "203.0.113.20", body.clone()).await,
        429
    );
    assert_eq!(
        post_via(&app, "auth/logout", "203.0.113.20", body.clone()).await,
        429
    );
    // Nothing ended: the same token still works from another address.
    assert_eq!(
        post_via(&app, "auth/refresh", "203.0.113.21", body).await,
        200
    );
}

/// `GET /dev/outbox` with a forwarding header, as a proxy in front would send it.
async fn outbox_status(app: &TestApp, header: &str, value: &str) -> u16 {
    app.client
        .get(app.url("/dev/outbox"))
        .header(header, value)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[redis_test]
async fn the_dev_outbox_answers_this_machine_only_never_a_forwarded_client() {
    let email = email();
    for trusted in ["", "127.0.0.1/8"] {
        let app = spawn_app_with(AppOptions::default().with("TRUSTED_PROXIES", trusted)).await;
        app.request_link(&email).await;
        // A client on this machine reads it (the e2e suites do).
        assert_eq!(app.link_tokens(&email, 1).await.len(), 1);
        // A remote client relayed by a proxy on this machine, trusted or not, does not.
        assert_eq!(
            outbox_status(&app, "x-forwarded-for", "203.0.113.9").await,
            404
        );
        assert_eq!(outbox_status(&app, "x-real-ip", "203.0.113.9").await, 404);
        assert_eq!(
            outbox_status(&app, "forwarded", "for=203.0.113.9").await,
            404
        );
        // Nor one that only claims to be local behind a remote hop.
        assert_eq!(
            outbox_status(&app, "x-forwarded-for", "127.0.0.1, 203.0.113.9").await,
            404
        );
        assert_eq!(
            outbox_status(&app, "x-forwarded-for", "127.0.0.1").await,
            200
        );
    }
}

#[redis_test]
async fn a_flood_from_four_networks_leaves_the_owner_a_link_that_works() {
    let app = spawn_app_with(
        AppOptions::default()
            .with("TRUSTED_PROXIES", "127.0.0.1")
            .with("RATE_LIMIT_EMAIL", "3/15m"),
    )
    .await;
    let victim = email();
    // Four networks ask as often as they like, before and after the owner does.
    let flood = |round: usize| {
        let (app, victim) = (&app, &victim);
        async move {
            for n in 0..4 {
                for _ in 0..round {
                    link_via(app, &format!("198.51.100.{n}"), victim).await;
                }
            }
        }
    };
    flood(5).await;
    assert_eq!(link_via(&app, "203.0.113.10", &victim).await, 200);
    let owners = app.link_tokens(&victim, 13).await.pop().unwrap();
    flood(5).await;
    // A fifth network joins in: its first link goes out, and replaces nobody else's.
    assert_eq!(link_via(&app, "198.51.100.99", &victim).await, 200);
    assert_eq!(link_via(&app, "198.51.100.99", &victim).await, 429);
    // The owner's link was not replaced by the flood's, and it signs in.
    let answer = app.verify(&owners).await;
    assert_eq!(answer.status(), 200);
    // The flood's mail stayed bounded: three a network, one for the late network, the
    // owner's one.
    assert_eq!(app.outbox(&victim).await.len(), 4 * 3 + 1 + 1);
}
