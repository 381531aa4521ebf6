//! Two app processes on one Redis behave as one service.

use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn sign_in_on_one_refresh_on_the_other_logout_anywhere() {
    let shared = AppOptions::default().with("REDIS_KEY_PREFIX", &unique_prefix());
    let first = spawn_app_with(shared.clone()).await;
    let second = spawn_app_with(shared).await;

    let pair = first.sign_in(&email()).await;
    assert_eq!(second.me(&pair.access).await.status(), 200);
    let next = Pair::from(
        second
            .refresh(&pair.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(first.me(&next.access).await.status(), 200);
    let note = second
        .post_authed(
            "notes/add",
            &next.access,
            json!({ "text": "from the second server" }),
        )
        .await;
    assert_eq!(note.status(), 200);

    let logout = first
        .post("auth/logout", json!({ "refresh_token": next.refresh }))
        .await;
    assert_eq!(logout.status(), 200);
    assert_eq!(second.me(&next.access).await.status(), 401);
    assert_session_ended(second.refresh(&next.refresh).await, "revoked").await;
}
