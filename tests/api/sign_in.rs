use crate::helpers::*;
use serde_json::{json, Value};

#[redis_test]
async fn magic_link_sign_in_returns_a_token_pair_and_opens_the_api() {
    let app = spawn_app().await;
    let email = email();
    let pair = app.sign_in(&email).await;
    assert_eq!(pair.raw["token_type"], "bearer");
    let expires_in = pair.raw["expires_in"].as_u64().unwrap();
    assert!((1790..=1800).contains(&expires_in), "{expires_in}");
    let refresh_in = pair.raw["refresh_expires_in"].as_u64().unwrap();
    assert!((604_790..=604_800).contains(&refresh_in), "{refresh_in}");

    let me: Value = app.me(&pair.access).await.json().await.unwrap();
    assert_eq!(me["user"]["email"], email.as_str());
    assert_eq!(me["session"]["current"], true);
    assert_eq!(me["session"]["device"], "Chrome on Linux");

    let note = app
        .post_authed("notes/add", &pair.access, json!({ "text": "hello" }))
        .await;
    assert_eq!(note.status(), 200);
    let notes: Value = app.authed_json("notes", &pair.access, json!({})).await;
    assert_eq!(notes[0]["text"], "hello");
}

#[redis_test]
async fn the_same_person_gets_the_same_user_on_every_sign_in() {
    let app = spawn_app().await;
    let email = email();
    let first = app.sign_in(&email).await;
    let second = app.sign_in(&email.to_uppercase()).await;
    let id = |pair: &Pair| {
        let app = &app;
        let access = pair.access.clone();
        async move {
            let me: Value = app.me(&access).await.json().await.unwrap();
            me["user"]["id"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(id(&first).await, id(&second).await);
    let sessions: Value = app.authed_json("sessions", &second.access, json!({})).await;
    assert_eq!(sessions.as_array().unwrap().len(), 2);
}

#[redis_test]
async fn a_link_works_once() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    let token = app.link_token(&email).await;
    assert_eq!(app.verify(&token).await.status(), 200);
    assert_error(
        app.verify(&token).await,
        400,
        json!({ "error": "link_invalid" }),
    )
    .await;
}

#[redis_test]
async fn two_concurrent_redemptions_make_exactly_one_session() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    let token = app.link_token(&email).await;
    let (a, b) = tokio::join!(app.verify(&token), app.verify(&token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

#[redis_test]
async fn a_newer_link_supersedes_older_ones() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    app.request_link(&email).await;
    let tokens = app.link_tokens(&email, 2).await;
    let (older, newer) = (tokens[0].clone(), tokens[1].clone());
    assert_ne!(older, newer);
    assert_error(
        app.verify(&older).await,
        400,
        json!({ "error": "link_invalid" }),
    )
    .await;
    assert_eq!(app.verify(&newer).await.status(), 200);
}

#[redis_test]
async fn opening_the_link_does_not_consume_it() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    let token = app.link_token(&email).await;
    // What a mail scanner does: GET the link.
    let page = app
        .client
        .get(app.url(&format!("/auth/verify?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sign in"));
    assert_eq!(app.verify(&token).await.status(), 200);
}

#[redis_test]
async fn the_outbox_link_points_at_the_public_url() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    app.link_token(&email).await;
    let outbox = app.outbox(&email).await;
    let link = outbox[0]["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/auth/verify?token=", app.address)),
        "{link}"
    );
}

#[redis_test]
async fn health_names_the_store() {
    let app = spawn_app().await;
    let health: Value = app.get_json("/healthz").await;
    assert_eq!(health, json!({ "status": "ok", "store": "redis" }));

    let memory = spawn_process_with(AppOptions::default().with("REDIS_URL", "")).await;
    let health: Value = memory.get_json("/healthz").await;
    assert_eq!(health, json!({ "status": "ok", "store": "memory" }));
    assert!(memory.log().contains("will not survive a restart"));
}

#[redis_test]
async fn the_memory_store_serves_the_same_flow() {
    let app = spawn_app_with(AppOptions::default().with("REDIS_URL", "")).await;
    let pair = app.sign_in(&email()).await;
    assert_eq!(app.me(&pair.access).await.status(), 200);
    let next: Value = app.refresh(&pair.refresh).await.json().await.unwrap();
    assert_ne!(next["refresh_token"], pair.refresh.as_str());
}

#[redis_test]
async fn pages_render_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    let home = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let missing = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[redis_test]
async fn a_link_names_its_account_without_being_used() {
    let app = spawn_app().await;
    let email = email();
    app.request_link(&email).await;
    let token = app.link_token(&email).await;
    let ask = || app.post("auth/link", json!({ "token": token }));
    for _ in 0..2 {
        let answer = ask().await;
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({ "email": email })
        );
    }
    // Reading it used nothing: the link still signs in, once.
    assert_eq!(app.verify(&token).await.status(), 200);
    assert_error(ask().await, 400, json!({ "error": "link_invalid" })).await;
    let unknown = app.post("auth/link", json!({ "token": "abc.def" })).await;
    assert_error(unknown, 400, json!({ "error": "link_invalid" })).await;
}
