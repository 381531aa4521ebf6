//! Two app servers on one Redis, or on one Redis Cluster, behave as one service.

use crate::helpers::*;
use serde_json::{json, Value};

#[redis_test]
async fn sign_in_on_one_refresh_on_the_other_logout_anywhere() {
    two_servers_behave_as_one(AppOptions::default()).await;
}

#[redis_test]
async fn two_servers_on_a_redis_cluster_behave_as_one() {
    let nodes = std::env::var("REDIS_CLUSTER_NODES")
        .expect("REDIS_CLUSTER_NODES must name a Redis Cluster (./scripts/test starts one)");
    two_servers_behave_as_one(
        AppOptions::default()
            .with("REDIS_URL", "")
            .with("REDIS_CLUSTER_NODES", &nodes),
    )
    .await;
}

/// Sign in on one, refresh on the other, list and end sessions from either: one service.
async fn two_servers_behave_as_one(store: AppOptions) {
    let shared = store.with("REDIS_KEY_PREFIX", &unique_prefix());
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

    // Two sessions of one person: listed on one server, all ended from the other.
    let person = email();
    let laptop = first.sign_in(&person).await;
    let phone = second.sign_in(&person).await;
    let listed: Value = second
        .authed_json("sessions", &laptop.access, json!({}))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let all = first
        .post_authed("auth/logout-all", &phone.access, json!({}))
        .await;
    assert_eq!(all.status(), 200);
    assert_eq!(second.me(&laptop.access).await.status(), 401);
    assert_session_ended(first.refresh(&phone.refresh).await, "revoked").await;
}

#[redis_test]
async fn a_restarted_server_keeps_everyone_signed_in() {
    // Development-style: no JWT_SECRET, so the new process signs with a new key.
    let options = AppOptions::default()
        .with("REDIS_KEY_PREFIX", &unique_prefix())
        .with("JWT_SECRET", "");
    let before = spawn_process_with(options.clone()).await;
    let pair = before.sign_in(&email()).await;
    drop(before);

    let after = spawn_process_with(options).await;
    // The old access token is refused (new key) ...
    assert_error(
        after.me(&pair.access).await,
        401,
        json!({ "error": "unauthorized" }),
    )
    .await;
    // ... but the session lives in Redis: one refresh and the person carries on.
    let next = after.rotate(&pair.refresh).await;
    assert_eq!(after.me(&next.access).await.status(), 200);
}

/// The old and the new `JWT_SECRET` of the rotation test.
const OLD_SECRET: &str = "h4Rt9Vq2Lx7Mb1Nc8Zp3Kw6Js0Fd5Gy2eT8Ux3Wv6Ya1Zb4";
const NEW_SECRET: &str = "Qe8Wn3Ty6Ui1Op4As7Df0Gh2Jk5Lz9Xc4vB7Nm2Mq5Rs8Tu1";

#[redis_test]
async fn rotating_the_jwt_secret_across_two_servers_answers_no_401() {
    let prefix = unique_prefix();
    let server = |secret: &str, also: &str| {
        spawn_app_with(
            AppOptions::default()
                .with("REDIS_KEY_PREFIX", &prefix)
                .with("JWT_SECRET", secret)
                .with("JWT_PREVIOUS_SECRETS", also),
        )
    };
    /// A client that goes to each server in turn, as behind a load balancer: a
    /// protected call and a refresh on each, then the new token on each again; every
    /// answer must be a success.
    async fn use_both(servers: &[&TestApp], pair: &mut Pair) {
        for round in 0..2 {
            for server in servers {
                let me = server.me(&pair.access).await.status();
                assert_eq!(me, 200, "{}", server.address);
                if round == 0 {
                    *pair = server.rotate(&pair.refresh).await;
                }
            }
        }
    }

    let mut servers = [server(OLD_SECRET, "").await, server(OLD_SECRET, "").await];
    let mut pair = servers[0].sign_in(&email()).await;
    // One server at a time, as a rolling deploy does: (which, signs with, also accepts).
    let steps = [
        // 1. accept the new secret before anyone signs with it;
        (1, OLD_SECRET, NEW_SECRET),
        (0, OLD_SECRET, NEW_SECRET),
        // 2. sign with the new one, still accept the old one.
        (0, NEW_SECRET, OLD_SECRET),
        (1, NEW_SECRET, OLD_SECRET),
    ];
    for (which, secret, also) in steps {
        servers[which] = server(secret, also).await;
        use_both(&[&servers[0], &servers[1]], &mut pair).await;
    }
    // 3. once the old tokens have expired, drop the old secret.
    let c = server(NEW_SECRET, "").await;
    use_both(&[&servers[0], &servers[1], &c], &mut pair).await;
    // A token signed with the old secret is refused where that secret is gone.
    let old = server(OLD_SECRET, "").await;
    let old_pair = old.sign_in(&email()).await;
    assert_eq!(c.me(&old_pair.access).await.status(), 401);
}
