//! Bound sessions over HTTP: a session signed in with a DPoP proof is refreshed and
//! signed out only by the holder of that key (RFC 9449). Proofs are signed here with
//! `p256`, as the browser's WebCrypto signs them.

use crate::helpers::*;
use reqwest::Response;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use test_support::device_key::DeviceKey;

/// A fresh proof by `key` for `POST <app>/api/v1/<endpoint>`, with `extra` claims laid
/// over the usual ones.
fn proof_for(key: &DeviceKey, app: &TestApp, endpoint: &str, extra: Value) -> String {
    key.proof_with(&app.url(&format!("/api/v1/{endpoint}")), extra)
}

async fn post_with_proof(
    app: &TestApp,
    endpoint: &str,
    proof: Option<&str>,
    body: Value,
) -> Response {
    let mut request = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/{endpoint}")))
        .json(&body);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

/// Signs in with a proof by `key`: the pair of a bound session.
async fn bound_sign_in(app: &TestApp, key: &DeviceKey) -> Pair {
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    let token = app.link_token(&email).await;
    let proof = proof_for(key, app, "auth/verify", json!({}));
    let response =
        post_with_proof(app, "auth/verify", Some(&proof), json!({ "token": token })).await;
    assert_eq!(response.status(), 200);
    Pair::from(response.json::<Value>().await.unwrap())
}

async fn refresh_with(app: &TestApp, key: Option<&DeviceKey>, refresh_token: &str) -> Response {
    let proof = key.map(|key| proof_for(key, app, "auth/refresh", json!({})));
    post_with_proof(
        app,
        "auth/refresh",
        proof.as_deref(),
        json!({ "refresh_token": refresh_token }),
    )
    .await
}

async fn assert_proof_refused(response: Response) {
    assert_error(response, 400, json!({ "error": "invalid_dpop_proof" })).await;
}

#[redis_test]
async fn a_copied_refresh_token_without_the_key_cannot_refresh_and_ends_nothing() {
    let app = spawn_app().await;
    let owner = DeviceKey::new();
    let pair = bound_sign_in(&app, &owner).await;
    let thief = DeviceKey::new();
    // No proof, another key's proof: refused, whatever token is presented.
    assert_proof_refused(refresh_with(&app, None, &pair.refresh).await).await;
    assert_proof_refused(refresh_with(&app, Some(&thief), &pair.refresh).await).await;
    // The owner goes on as if nothing happened.
    let next = refresh_with(&app, Some(&owner), &pair.refresh).await;
    assert_eq!(next.status(), 200);
    let next = Pair::from(next.json::<Value>().await.unwrap());
    // The copy replays the previous token (the lost-reply rule hands the successor to
    // the key's holder only) or the current one: refused, the session goes on.
    for token in [&pair.refresh, &next.refresh] {
        assert_proof_refused(refresh_with(&app, None, token).await).await;
        assert_proof_refused(refresh_with(&app, Some(&thief), token).await).await;
    }
    assert_eq!(app.me(&next.access).await.status(), 200);
    let lost_reply = refresh_with(&app, Some(&owner), &pair.refresh).await;
    assert_eq!(
        lost_reply.status(),
        200,
        "the owner's late replay still works"
    );
    let sessions = app.authed_json("sessions", &next.access, json!({})).await;
    assert_eq!(sessions[0]["bound"], true);
}

#[redis_test]
async fn a_bound_sessions_lost_reply_is_honoured_after_the_grace_window() {
    // Only the key's holder can present the previous token with a proof: however late,
    // it is a lost reply, never a copy (the grace window is 1 ms here).
    let app = spawn_app_with(AppOptions::default().with("REFRESH_REUSE_GRACE", "1ms")).await;
    let owner = DeviceKey::new();
    let pair = bound_sign_in(&app, &owner).await;
    let lost = refresh_with(&app, Some(&owner), &pair.refresh).await;
    let lost = Pair::from(lost.json::<Value>().await.unwrap());
    let retried = refresh_with(&app, Some(&owner), &pair.refresh).await;
    assert_eq!(retried.status(), 200);
    let retried = Pair::from(retried.json::<Value>().await.unwrap());
    assert_eq!(retried.refresh, lost.refresh);
    assert_eq!(app.me(&retried.access).await.status(), 200);
}

#[redis_test]
async fn a_proof_is_used_once() {
    let app = spawn_app().await;
    let owner = DeviceKey::new();
    let pair = bound_sign_in(&app, &owner).await;
    let proof = proof_for(&owner, &app, "auth/refresh", json!({}));
    let body = json!({ "refresh_token": pair.refresh });
    let first = post_with_proof(&app, "auth/refresh", Some(&proof), body.clone()).await;
    assert_eq!(first.status(), 200);
    // A captured proof replayed with the now-previous token: refused.
    assert_proof_refused(post_with_proof(&app, "auth/refresh", Some(&proof), body).await).await;
}

#[redis_test]
async fn a_proof_is_for_one_endpoint_of_this_public_url() {
    let app = spawn_app().await;
    let owner = DeviceKey::new();
    let pair = bound_sign_in(&app, &owner).await;
    let body = json!({ "refresh_token": pair.refresh });
    for htu in [
        app.url("/api/v1/auth/logout"),
        "https://evil.example/api/v1/auth/refresh".to_string(),
    ] {
        let proof = proof_for(&owner, &app, "auth/refresh", json!({ "htu": htu }));
        assert_proof_refused(
            post_with_proof(&app, "auth/refresh", Some(&proof), body.clone()).await,
        )
        .await;
    }
    // The Host header is the client's to choose; the URL comes from PUBLIC_URL.
    let proof = proof_for(
        &owner,
        &app,
        "auth/refresh",
        json!({ "htu": "http://evil.example/api/v1/auth/refresh" }),
    );
    let spoofed = reqwest::Client::new()
        .post(app.url("/api/v1/auth/refresh"))
        .header("Host", "evil.example")
        .header("DPoP", proof)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_proof_refused(spoofed).await;
    assert_eq!(
        refresh_with(&app, Some(&owner), &pair.refresh)
            .await
            .status(),
        200
    );
}

#[redis_test]
async fn a_device_clock_ten_minutes_off_signs_in_after_one_nonce_round() {
    let app = spawn_app().await;
    let key = DeviceKey::new();
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    let token = app.link_token(&email).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for skew in [-600i64, 600] {
        let iat = (now as i64 + skew) as u64;
        let stale = proof_for(&key, &app, "auth/verify", json!({ "iat": iat }));
        let refused =
            post_with_proof(&app, "auth/verify", Some(&stale), json!({ "token": token })).await;
        let nonce = refused.headers()["dpop-nonce"]
            .to_str()
            .unwrap()
            .to_string();
        // The nonce comes in the header (RFC 9449 §8) and in the body, for clients that
        // cannot read the header (the browser's server-fn client).
        assert_error(
            refused,
            400,
            json!({ "error": "use_dpop_nonce", "nonce": nonce }),
        )
        .await;
        // The link was not used: the retry with the server's nonce signs in.
        let retry = proof_for(
            &key,
            &app,
            "auth/verify",
            json!({ "iat": iat, "nonce": nonce }),
        );
        let signed_in =
            post_with_proof(&app, "auth/verify", Some(&retry), json!({ "token": token })).await;
        if skew < 0 {
            assert_eq!(signed_in.status(), 200);
        } else {
            // The link is single use: the first skew's retry used it.
            assert_error(signed_in, 400, json!({ "error": "link_invalid" })).await;
        }
    }
}

#[redis_test]
async fn every_answer_of_the_proof_endpoints_carries_a_nonce() {
    let app = spawn_app().await;
    for endpoint in ["auth/verify", "auth/refresh", "auth/logout"] {
        let response = app.post(endpoint, json!({})).await;
        let nonce = response
            .headers()
            .get("dpop-nonce")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(nonce.is_some_and(|n| n.len() >= 20), "{endpoint}");
    }
    let me = app.post("me", json!({})).await;
    assert!(me.headers().get("dpop-nonce").is_none());
}

#[redis_test]
async fn sign_in_and_refresh_hand_out_the_nonce_in_the_body_too() {
    // The browser's server-fn client reads the body, not the headers: a device whose
    // clock is off signs its next proof with this nonce instead of being asked.
    let app = spawn_app().await;
    let key = DeviceKey::new();
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    let token = app.link_token(&email).await;
    let proof = proof_for(&key, &app, "auth/verify", json!({}));
    let verified =
        post_with_proof(&app, "auth/verify", Some(&proof), json!({ "token": token })).await;
    let header = verified.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_string();
    let pair: Value = verified.json().await.unwrap();
    assert_eq!(pair["dpop_nonce"], header.as_str());
    let refreshed = refresh_with(&app, Some(&key), pair["refresh_token"].as_str().unwrap()).await;
    let header = refreshed.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_string();
    let pair: Value = refreshed.json().await.unwrap();
    assert_eq!(pair["dpop_nonce"], header.as_str());
}

#[redis_test]
async fn a_bound_session_is_signed_out_only_by_its_key() {
    let app = spawn_app().await;
    let owner = DeviceKey::new();
    let pair = bound_sign_in(&app, &owner).await;
    let logout = |key: Option<&DeviceKey>| {
        let proof = key.map(|key| proof_for(key, &app, "auth/logout", json!({})));
        let body = json!({ "refresh_token": pair.refresh });
        let app = &app;
        async move { post_with_proof(app, "auth/logout", proof.as_deref(), body).await }
    };
    assert_proof_refused(logout(None).await).await;
    assert_proof_refused(logout(Some(&DeviceKey::new())).await).await;
    assert_eq!(app.me(&pair.access).await.status(), 200);
    assert_eq!(logout(Some(&owner)).await.status(), 200);
    assert_session_ended(
        refresh_with(&app, Some(&owner), &pair.refresh).await,
        "revoked",
    )
    .await;
}

#[redis_test]
async fn a_session_signed_in_without_a_proof_stays_unbound() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    // A proof at refresh does not bind it (a copy must not be able to bind it first).
    let key = DeviceKey::new();
    let next = refresh_with(&app, Some(&key), &pair.refresh).await;
    assert_eq!(next.status(), 200);
    let next = Pair::from(next.json::<Value>().await.unwrap());
    assert_eq!(refresh_with(&app, None, &next.refresh).await.status(), 200);
    let sessions = app.authed_json("sessions", &pair.access, json!({})).await;
    assert_eq!(sessions[0]["bound"], false);
}
