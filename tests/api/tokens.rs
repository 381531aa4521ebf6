//! Forged, malformed and misused tokens: each one a 401 `unauthorized`, never a 500.

use crate::helpers::*;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stay_signed_in::auth::AuthConfig;

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// The key id the server derives from its secret: the first 16 hex digits of its SHA-256.
fn kid() -> String {
    let digest = Sha256::digest(SHARED_SECRET.as_bytes());
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn claims(sub: &str, sid: &str) -> Value {
    // The default issuer and audience, which the test servers keep.
    let names = AuthConfig::new("http://127.0.0.1", Vec::new());
    json!({
        "iss": names.issuer, "aud": names.audience, "sub": sub, "sid": sid,
        "iat": now(), "exp": now() + 600, "jti": "x",
    })
}

fn sign(header: Header, claims: &Value, secret: &[u8]) -> String {
    encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn header(typ: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.into());
    header.kid = Some(kid());
    header
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[redis_test]
async fn forged_and_malformed_access_tokens_are_unauthorized() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let me: Value = app.me(&pair.access).await.json().await.unwrap();
    let sub = me["user"]["id"].as_str().unwrap().to_string();
    let sid = me["session"]["id"].as_str().unwrap().to_string();
    let good = claims(&sub, &sid);
    let secret = SHARED_SECRET.as_bytes();
    // Sanity: our forger makes tokens the server accepts when nothing is wrong.
    assert_eq!(
        app.me(&sign(header("at+jwt"), &good, secret))
            .await
            .status(),
        200
    );

    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(field);
        claims
    };
    let parts: Vec<&str> = pair.access.split('.').collect();
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg":"none","typ":"at+jwt","kid":kid()})),
                b64(&good)
            ),
        ),
        (
            "alg none, no kid",
            format!("{}.{}.", b64(&json!({"alg":"none"})), b64(&good)),
        ),
        ("HS384 swap", {
            let mut h = header("at+jwt");
            h.alg = Algorithm::HS384;
            sign(h, &good, secret)
        }),
        (
            "RS256 header on HMAC signature",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg":"RS256","typ":"at+jwt","kid":kid()})),
                parts[1],
                parts[2]
            ),
        ),
        ("stripped signature", format!("{}.{}.", parts[0], parts[1])),
        (
            "altered signature",
            format!(
                "{}.{}.{}x",
                parts[0],
                parts[1],
                &parts[2][..parts[2].len() - 1]
            ),
        ),
        (
            "altered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with("sub", json!("someone-else"))),
                parts[2]
            ),
        ),
        (
            "other secret",
            sign(
                header("at+jwt"),
                &good,
                b"another-secret-another-secret-another-secret",
            ),
        ),
        ("wrong typ", sign(header("JWT"), &good, secret)),
        ("no typ", {
            let mut h = header("at+jwt");
            h.typ = None;
            sign(h, &good, secret)
        }),
        ("wrong kid", {
            let mut h = header("at+jwt");
            h.kid = Some("nope".into());
            sign(h, &good, secret)
        }),
        (
            "wrong aud",
            sign(
                header("at+jwt"),
                &with("aud", json!("someone-else")),
                secret,
            ),
        ),
        (
            "wrong iss",
            sign(header("at+jwt"), &with("iss", json!("evil")), secret),
        ),
        (
            "expired",
            sign(header("at+jwt"), &with("exp", json!(now() - 60)), secret),
        ),
        (
            "future iat",
            sign(header("at+jwt"), &with("iat", json!(now() + 3600)), secret),
        ),
        (
            "future nbf",
            sign(header("at+jwt"), &with("nbf", json!(now() + 3600)), secret),
        ),
        (
            "missing exp",
            sign(header("at+jwt"), &without("exp"), secret),
        ),
        (
            "missing sid",
            sign(header("at+jwt"), &without("sid"), secret),
        ),
        (
            "missing jti",
            sign(header("at+jwt"), &without("jti"), secret),
        ),
        (
            "unknown session",
            sign(
                header("at+jwt"),
                &with("sid", json!(format!("{sub}-00"))),
                secret,
            ),
        ),
        (
            "sub of another user",
            sign(header("at+jwt"), &with("sub", json!("0000")), secret),
        ),
        ("garbage base64", "!!!.@@@.###".to_string()),
        ("not a jwt", "hello".to_string()),
        ("empty", String::new()),
        ("refresh token as access token", pair.refresh.clone()),
        (
            "oversized",
            format!("{}.{}.{}", parts[0], "A".repeat(9000), parts[2]),
        ),
    ];

    for (name, token) in cases {
        let response = app.me(&token).await;
        assert_eq!(response.status().as_u16(), 401, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "error": "unauthorized" }), "{name}");
    }
}

#[redis_test]
async fn missing_or_odd_authorization_headers_are_unauthorized() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let me = |header: Option<String>| {
        let mut request = app.client.post(app.url("/api/v1/me")).json(&json!({}));
        if let Some(header) = header {
            request = request.header("Authorization", header);
        }
        request.send()
    };
    for header in [
        None,
        Some(format!("Basic {}", pair.access)),
        Some(pair.access.clone()),
        Some(format!("Bearer {}", "x".repeat(10 * 1024))),
    ] {
        let response = me(header.clone()).await.unwrap();
        assert_eq!(response.status(), 401, "{header:?}");
    }
    assert_eq!(
        me(Some(format!("bearer {}", pair.access)))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[redis_test]
async fn an_access_token_is_not_a_refresh_token() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    assert_session_ended(app.refresh(&pair.access).await, "invalid").await;
    // The session is untouched by the attempt.
    assert_eq!(app.refresh(&pair.refresh).await.status(), 200);
}

#[redis_test]
async fn a_guessed_refresh_token_cannot_end_someone_elses_session() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let sid = pair.refresh.split('.').next().unwrap();
    let guess = format!("{sid}.{}", URL_SAFE_NO_PAD.encode([7u8; 32]));
    assert_session_ended(app.refresh(&guess).await, "invalid").await;
    assert_eq!(app.refresh(&pair.refresh).await.status(), 200);
}
