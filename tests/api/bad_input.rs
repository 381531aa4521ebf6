//! Bad input gets a clear 400 with a JSON error, never a 500.

use crate::helpers::*;
use serde_json::{json, Value};

async fn raw_post(app: &TestApp, endpoint: &str, body: &'static str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/{endpoint}")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[redis_test]
async fn malformed_bodies_are_bad_requests() {
    let app = spawn_app().await;
    for (endpoint, body) in [
        ("auth/magic-link", "{not json"),
        ("auth/magic-link", "{}"),
        ("auth/magic-link", r#"{"email": 42}"#),
        ("auth/refresh", r#"{"token": "x"}"#),
        ("auth/verify", "[]"),
        // Calls without arguments take an object too, never another JSON value.
        ("status", "[]"),
        ("status", "null"),
        ("status", "42"),
        // Whitespace alone is no JSON text, and a form feed is not JSON's whitespace.
        ("status", "\n"),
        ("status", " \r\n\t"),
        ("status", "\u{c}"),
        ("status", " \u{c}{}"),
    ] {
        let response = raw_post(&app, endpoint, body).await;
        assert_eq!(response.status(), 400, "{endpoint} {body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "bad_request", "{endpoint} {body}");
        assert!(error["message"].as_str().unwrap().len() > 5);
    }
}

#[redis_test]
async fn no_body_is_an_empty_object_and_whitespace_may_surround_one() {
    let app = spawn_app().await;
    for body in ["", " \r\n\t{}\n"] {
        let response = raw_post(&app, "status", body).await;
        assert_eq!(response.status(), 200, "{body:?}");
    }
}

#[redis_test]
async fn invalid_emails_are_explained() {
    let app = spawn_app().await;
    for email in ["", "nobody", "a@b", "x@@example.com"] {
        let response = app.request_link(email).await;
        assert_eq!(response.status(), 400, "{email}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "bad_request");
    }
}

#[redis_test]
async fn calls_without_arguments_need_no_body() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let response = app
        .client
        .post(app.url("/api/v1/me"))
        .bearer_auth(&pair.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[redis_test]
async fn notes_are_validated() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    // The documented limit (1 to 500 characters) is on the text as sent: spaces around
    // it count there, though the note is stored trimmed.
    let padded = format!("\u{b}{}  ", "x".repeat(499));
    for text in [String::new(), "   ".into(), "x".repeat(501), padded] {
        let response = app
            .post_authed("notes/add", &pair.access, json!({ "text": text }))
            .await;
        assert_eq!(
            response.status(),
            400,
            "{} characters",
            text.chars().count()
        );
    }
    let longest = format!(" {} ", "é".repeat(498));
    let response = app
        .post_authed("notes/add", &pair.access, json!({ "text": longest }))
        .await;
    assert_eq!(response.status(), 200);
}

#[redis_test]
async fn huge_bodies_are_refused() {
    let app = spawn_app().await;
    let response = app
        .post("auth/magic-link", json!({ "email": "a".repeat(20_000) }))
        .await;
    assert_eq!(response.status(), 400);
}
