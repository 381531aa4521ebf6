use crate::helpers::*;
use serde_json::{json, Value};

#[redis_test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let response = app
        .post("auth/logout", json!({ "refresh_token": pair.refresh }))
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "ok": true })
    );
    assert_error(
        app.me(&pair.access).await,
        401,
        json!({ "error": "unauthorized" }),
    )
    .await;
    assert_session_ended(app.refresh(&pair.refresh).await, "revoked").await;
    // Idempotent.
    let again = app
        .post("auth/logout", json!({ "refresh_token": pair.refresh }))
        .await;
    assert_eq!(again.status(), 200);
    let garbage = app
        .post("auth/logout", json!({ "refresh_token": "nonsense" }))
        .await;
    assert_eq!(garbage.status(), 200);
}

#[redis_test]
async fn logout_all_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let email = email();
    let laptop = app.sign_in(&email).await;
    let phone = app.sign_in(&email).await;
    let stranger = app.sign_in(&crate::helpers::email()).await;
    let response = app
        .post_authed("auth/logout-all", &laptop.access, json!({}))
        .await;
    assert_eq!(response.status(), 200);
    for pair in [&laptop, &phone] {
        assert_eq!(app.me(&pair.access).await.status(), 401);
        assert_session_ended(app.refresh(&pair.refresh).await, "revoked").await;
    }
    assert_eq!(app.me(&stranger.access).await.status(), 200);
}

#[redis_test]
async fn revoke_ends_one_own_session_only() {
    let app = spawn_app().await;
    let email = email();
    let laptop = app.sign_in(&email).await;
    let phone = app.sign_in(&email).await;
    let stranger = app.sign_in(&crate::helpers::email()).await;
    let sessions: Value = app.authed_json("sessions", &laptop.access, json!({})).await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

    // Someone else's session cannot be revoked.
    let stranger_me: Value = app.me(&stranger.access).await.json().await.unwrap();
    let stranger_sid = stranger_me["session"]["id"].clone();
    let refused = app
        .post_authed(
            "sessions/revoke",
            &laptop.access,
            json!({ "session_id": stranger_sid }),
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(app.me(&stranger.access).await.status(), 200);

    let revoked = app
        .post_authed(
            "sessions/revoke",
            &laptop.access,
            json!({ "session_id": phone_id }),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(app.me(&phone.access).await.status(), 401);
    assert_session_ended(app.refresh(&phone.refresh).await, "revoked").await;
    assert_eq!(app.me(&laptop.access).await.status(), 200);
}

#[redis_test]
async fn a_rejected_call_changes_nothing() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let rejected = app
        .post_authed(
            "notes/add",
            "not-a-token",
            json!({ "text": "should not exist" }),
        )
        .await;
    assert_eq!(rejected.status(), 401);
    let notes: Value = app.authed_json("notes", &pair.access, json!({})).await;
    assert_eq!(notes, json!([]));
}

#[redis_test]
async fn a_sign_in_beyond_the_cap_ends_the_least_recently_active_session() {
    let app = spawn_app_with(AppOptions::default().with("MAX_SESSIONS_PER_USER", "2")).await;
    let email = email();
    let oldest = app.sign_in(&email).await;
    let middle = app.sign_in(&email).await;
    // The oldest sign-in is used again, so the middle one is now the least active.
    let oldest = app.rotate(&oldest.refresh).await;
    let newest = app.sign_in(&email).await;
    assert_session_ended(app.refresh(&middle.refresh).await, "revoked").await;
    assert_eq!(app.me(&middle.access).await.status(), 401);
    for kept in [&oldest, &newest] {
        assert_eq!(app.me(&kept.access).await.status(), 200);
    }
    let sessions = app.authed_json("sessions", &newest.access, json!({})).await;
    assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
}

#[redis_test]
async fn sessions_are_listed_a_page_at_a_time() {
    let app = spawn_app().await;
    let email = email();
    let mut pairs = Vec::new();
    for _ in 0..5 {
        pairs.push(app.sign_in(&email).await);
    }
    let access = &pairs[0].access;
    let all = app.authed_json("sessions", access, json!({})).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 5);

    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .authed_json("sessions", access, json!({ "limit": 2, "after": after }))
            .await;
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= 2);
        let last = page.last().cloned();
        let full = page.len() == 2;
        paged.extend(page);
        match last {
            Some(last) if full => {
                after = json!({ "created_at": last["created_at"], "id": last["id"] })
            }
            _ => break,
        }
    }
    assert_eq!(&paged, all);

    // JSON Schema's integers include 2.0; 2.5 is no integer.
    let two = app
        .authed_json("sessions", access, json!({ "limit": 2.0 }))
        .await;
    assert_eq!(two.as_array().unwrap(), &all[..2]);
    for limit in [json!(0), json!(101), json!(-1), json!(2.5), json!("ten")] {
        let refused = app
            .post_authed("sessions", access, json!({ "limit": limit }))
            .await;
        assert_eq!(refused.status(), 400, "{limit}");
    }
}
