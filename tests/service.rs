//! The service's flows in-process on the memory store, with a clock the test moves:
//! sealing and replaying the successor, reuse after the grace window, expiry arithmetic,
//! the absolute cap, logout's ownership check and rate windows, without waiting.
#![cfg(feature = "ssr")]

use stay_signed_in::{
    auth::{
        server::{
            failure::ServiceError, mailer::DevOutbox, store::MemoryStore, AuthContext, AuthService,
            Authenticated, ClientInfo, ManualClock,
        },
        AuthError, EndReason, SessionsPage, TokenPair,
    },
    config::Config,
};
use std::{collections::HashMap, sync::Arc, time::Duration};

/// A service result as the client would get it (what the server functions answer).
trait Answered<T> {
    fn answered(self) -> Result<T, AuthError>;
}

impl<T> Answered<T> for Result<T, ServiceError> {
    fn answered(self) -> Result<T, AuthError> {
        self.map_err(ServiceError::into_answer)
    }
}

const T0: u64 = 1_800_000_000_000;
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// A service on a fresh memory store, its outbox and the clock it reads.
struct Harness {
    service: Arc<AuthService>,
    outbox: Arc<DevOutbox>,
    clock: ManualClock,
    client: ClientInfo,
}

impl Harness {
    /// The defaults of the design (30 min access, 7 d idle, 30 d cap, 30 s grace).
    fn new() -> Self {
        Self::with(&[])
    }

    fn with(settings: &[(&str, &str)]) -> Self {
        let mut vars: HashMap<String, String> = [
            (
                "JWT_SECRET",
                "k7Qm2Xv9Pz4Lr8Wt1Ny6Hb3Jc5Fd0GsA2xR5Tw8Yb1Nc4Vm7",
            ),
            ("RATE_LIMIT_IP", "1000/1m"),
            ("RATE_LIMIT_EMAIL", "1000/1m"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_vars(&vars)
            .expect("a valid test configuration")
            .auth;
        let outbox = DevOutbox::new();
        let clock = ManualClock::at(T0);
        let service = Arc::new(AuthService::new(
            Arc::new(MemoryStore::new()),
            config,
            outbox.clone(),
            Arc::new(clock.clone()),
        ));
        Self {
            service,
            outbox,
            clock,
            client: ClientInfo {
                ip: "192.0.2.1".into(),
                user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0".into(),
            },
        }
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The newest link token sent to `email` (delivery runs in a background task, so
    /// this waits until the outbox holds `count` messages).
    async fn link_token(&self, email: &str, count: usize) -> String {
        for _ in 0..10_000 {
            let messages = self.outbox.messages(Some(email));
            if messages.len() >= count {
                return messages.last().unwrap().token.clone();
            }
            tokio::task::yield_now().await;
        }
        panic!("no sign-in email for {email}");
    }

    async fn sign_in(&self, email: &str) -> TokenPair {
        let sent = self.outbox.messages(Some(email)).len();
        self.service
            .request_link(email, &self.client)
            .await
            .unwrap();
        let token = self.link_token(email, sent + 1).await;
        self.service
            .verify(&token, &self.client, None)
            .await
            .unwrap()
    }

    async fn refresh(&self, pair: &TokenPair) -> Result<TokenPair, AuthError> {
        self.service
            .refresh(&pair.refresh_token, &self.client, None)
            .await
            .answered()
    }

    async fn is_authorized(&self, pair: &TokenPair) -> bool {
        match self
            .service
            .authenticate(&pair.access_token)
            .await
            .answered()
        {
            Ok(_) => true,
            Err(AuthError::Unauthorized) => false,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
}

fn ended(reason: EndReason) -> Result<TokenPair, AuthError> {
    Err(AuthError::SessionEnded { reason })
}

#[tokio::test]
async fn sign_in_answers_the_configured_lifetimes() {
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    assert_eq!(pair.token_type, "bearer");
    assert_eq!(pair.expires_in, 30 * 60);
    assert_eq!(pair.refresh_expires_in, 7 * 24 * 3600);
    assert!(app.is_authorized(&pair).await);
}

#[tokio::test]
async fn expires_in_is_the_whole_lifetime_whatever_the_millisecond() {
    let app = Harness::new();
    app.advance(Duration::from_millis(1));
    let pair = app.sign_in("ada@example.com").await;
    assert_eq!(pair.expires_in, 30 * 60);
    app.advance(Duration::from_millis(998));
    assert_eq!(app.refresh(&pair).await.unwrap().expires_in, 30 * 60);
}

#[tokio::test]
async fn a_sign_in_link_dies_after_its_lifetime_and_after_one_use() {
    let app = Harness::new();
    app.service
        .request_link("ada@example.com", &app.client)
        .await
        .unwrap();
    let late = app.link_token("ada@example.com", 1).await;
    app.advance(15 * MINUTE);
    assert_eq!(
        app.service
            .verify(&late, &app.client, None)
            .await
            .answered(),
        Err(AuthError::LinkInvalid)
    );

    app.service
        .request_link("ada@example.com", &app.client)
        .await
        .unwrap();
    let fresh = app.link_token("ada@example.com", 2).await;
    app.advance(15 * MINUTE - SECOND);
    assert!(app.service.verify(&fresh, &app.client, None).await.is_ok());
    assert_eq!(
        app.service
            .verify(&fresh, &app.client, None)
            .await
            .answered(),
        Err(AuthError::LinkInvalid)
    );
}

#[tokio::test]
async fn the_access_token_expires_on_the_server_clock_and_a_refresh_renews_it() {
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    app.advance(30 * MINUTE - SECOND);
    assert!(app.is_authorized(&pair).await);
    // Past expiry plus the 5 s leeway for clock differences between servers.
    app.advance(6 * SECOND);
    assert!(!app.is_authorized(&pair).await);

    let renewed = app.refresh(&pair).await.unwrap();
    assert!(app.is_authorized(&renewed).await);
    assert_eq!(renewed.expires_in, 30 * 60);
}

#[tokio::test]
async fn a_replay_opens_the_same_sealed_successor_with_a_fresh_access_token() {
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    app.advance(DAY);
    let next = app.refresh(&pair).await.unwrap();
    assert_ne!(next.refresh_token, pair.refresh_token);

    app.advance(10 * SECOND);
    let replayed = app.refresh(&pair).await.unwrap();
    assert_eq!(replayed.refresh_token, next.refresh_token);
    // A new access token with a whole lifetime; the session end counts from the rotation.
    assert_ne!(replayed.access_token, next.access_token);
    assert_eq!(replayed.expires_in, 30 * 60);
    assert_eq!(replayed.refresh_expires_in, next.refresh_expires_in - 10);
    assert!(app.is_authorized(&replayed).await);
    // The replay rotated nothing: the successor still rotates once.
    assert!(app.refresh(&next).await.is_ok());
}

#[tokio::test]
async fn an_unbound_sessions_reply_lost_past_the_grace_window_ends_it() {
    // Signed in without a DPoP proof, the previous token cannot tell its owner from a
    // copy: after `REFRESH_REUSE_GRACE` it is a copy. (A bound session's lost reply is
    // honoured however late: tests/api/dpop.rs and the store contract.)
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    let lost = app.refresh(&pair).await.unwrap();
    app.advance(60 * MINUTE);
    assert_eq!(app.refresh(&pair).await, ended(EndReason::Reused));
    assert_eq!(app.refresh(&lost).await, ended(EndReason::Reused));
}

#[tokio::test]
async fn the_previous_token_after_its_successor_was_used_is_reuse_and_ends_the_session() {
    let app = Harness::new();
    let first = app.sign_in("ada@example.com").await;
    let second = app.refresh(&first).await.unwrap();
    let third = app.refresh(&second).await.unwrap();
    app.advance(30 * SECOND);

    assert_eq!(app.refresh(&first).await, ended(EndReason::Reused));
    // The whole session is over: the live pair dies with it.
    assert_eq!(app.refresh(&third).await, ended(EndReason::Reused));
    assert!(!app.is_authorized(&third).await);
}

#[tokio::test]
async fn a_token_two_rotations_old_inside_the_grace_window_is_refused_without_harm() {
    let app = Harness::new();
    let first = app.sign_in("ada@example.com").await;
    let second = app.refresh(&first).await.unwrap();
    let third = app.refresh(&second).await.unwrap();
    app.advance(29 * SECOND);
    assert_eq!(app.refresh(&first).await, Err(AuthError::RefreshSuperseded));
    assert!(app.is_authorized(&third).await);
    assert!(app.refresh(&third).await.is_ok());
}

#[tokio::test]
async fn an_idle_session_expires_and_each_refresh_pushes_the_idle_end_forward() {
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    app.advance(7 * DAY - SECOND);
    let kept = app.refresh(&pair).await.unwrap();
    assert_eq!(kept.refresh_expires_in, 7 * 24 * 3600);

    app.advance(7 * DAY);
    assert_eq!(app.refresh(&kept).await, ended(EndReason::Expired));
}

#[tokio::test]
async fn an_active_session_still_ends_at_the_absolute_cap() {
    let app = Harness::new();
    let mut pair = app.sign_in("ada@example.com").await;
    for _ in 0..4 {
        app.advance(6 * DAY);
        pair = app.refresh(&pair).await.unwrap();
    }
    // 24 days in: the idle end (7 days on) is capped at 30 days from sign-in.
    assert_eq!(pair.refresh_expires_in, 6 * 24 * 3600);
    app.advance(6 * DAY);
    assert_eq!(app.refresh(&pair).await, ended(EndReason::Expired));
}

#[tokio::test]
async fn logout_ends_the_session_for_the_current_or_previous_token_only() {
    let app = Harness::new();
    let first = app.sign_in("ada@example.com").await;
    let second = app.refresh(&first).await.unwrap();
    let third = app.refresh(&second).await.unwrap();

    // A token two rotations old, or a made-up one for the same session: ignored.
    app.service
        .logout(&first.refresh_token, &app.client, None)
        .await
        .unwrap();
    let sid = third.refresh_token.split_once('.').unwrap().0;
    let guessed = format!("{sid}.{}", "A".repeat(43));
    app.service
        .logout(&guessed, &app.client, None)
        .await
        .unwrap();
    assert!(app.is_authorized(&third).await);

    // The previous token (a tab that missed the last rotation) signs out.
    app.service
        .logout(&second.refresh_token, &app.client, None)
        .await
        .unwrap();
    assert!(!app.is_authorized(&third).await);
    assert_eq!(app.refresh(&third).await, ended(EndReason::Revoked));
}

#[tokio::test]
async fn rate_limits_reset_when_their_window_ends() {
    let app = Harness::with(&[("RATE_LIMIT_EMAIL", "2/1m")]);
    // Start at a window boundary so the arithmetic below is exact.
    app.advance(Duration::from_millis(60_000 - T0 % 60_000));
    for _ in 0..2 {
        app.service
            .request_link("ada@example.com", &app.client)
            .await
            .unwrap();
    }
    app.advance(20 * SECOND);
    assert_eq!(
        app.service
            .request_link("ada@example.com", &app.client)
            .await
            .answered(),
        Err(AuthError::RateLimited { retry_after: 40 })
    );
    app.advance(40 * SECOND);
    assert!(app
        .service
        .request_link("ada@example.com", &app.client)
        .await
        .is_ok());
}

#[tokio::test]
async fn sessions_list_and_revoke_only_the_callers_own() {
    let app = Harness::new();
    let laptop = app.sign_in("ada@example.com").await;
    let phone = app.sign_in("ada@example.com").await;
    let stranger = app.sign_in("eve@example.com").await;
    let me = app
        .service
        .authenticate(&laptop.access_token)
        .await
        .unwrap();

    let listed = app
        .service
        .sessions(&me, &SessionsPage::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);

    let strangers_sid = stranger.refresh_token.split_once('.').unwrap().0;
    assert!(matches!(
        app.service.revoke(&me, strangers_sid).await.answered(),
        Err(AuthError::BadRequest { .. })
    ));
    assert!(app.is_authorized(&stranger).await);

    let phone_sid = phone.refresh_token.split_once('.').unwrap().0;
    app.service.revoke(&me, phone_sid).await.unwrap();
    assert!(!app.is_authorized(&phone).await);
    assert_eq!(app.refresh(&phone).await, ended(EndReason::Revoked));
}

#[tokio::test]
async fn a_flooded_inbox_still_gives_each_network_its_first_link() {
    let app = Harness::with(&[("RATE_LIMIT_EMAIL", "2/1m")]);
    app.advance(Duration::from_millis(60_000 - T0 % 60_000));
    let from = |ip: &str| ClientInfo {
        ip: ip.to_string(),
        ..app.client.clone()
    };
    // Four networks use their two each: the inbox's four allowances are gone.
    for n in 0..4 {
        for _ in 0..2 {
            let client = from(&format!("198.51.100.{n}"));
            let sent = app.service.request_link("ada@example.com", &client).await;
            assert!(sent.is_ok(), "{n}: {sent:?}");
        }
    }
    // A network that has not asked yet still gets its first link, and only that.
    let owner = from("203.0.113.10");
    assert!(app
        .service
        .request_link("ada@example.com", &owner)
        .await
        .is_ok());
    let again = app
        .service
        .request_link("ada@example.com", &owner)
        .await
        .answered();
    assert_eq!(again, Err(AuthError::RateLimited { retry_after: 60 }));
    app.advance(60 * SECOND);
    assert!(app
        .service
        .request_link("ada@example.com", &owner)
        .await
        .is_ok());
}

#[tokio::test]
async fn an_ipv6_block_is_counted_per_64_56_and_48() {
    let app = Harness::with(&[("RATE_LIMIT_EMAIL", "2/1m")]);
    app.advance(Duration::from_millis(60_000 - T0 % 60_000));
    // Fresh /64s, six from each of three /56s of one /48: a /56 gets two allowances
    // (4 links), the /48 four (8 links), whatever the number of /64s.
    let mut allowed = Vec::new();
    for block in 0..3u32 {
        let mut sent = 0;
        for n in 0..6u32 {
            let address = format!("2001:db8:1:{:x}::1", block * 0x100 + n);
            let client = ClientInfo::new(Some(address.parse().unwrap()), Some("test"));
            if app
                .service
                .request_link("ada@example.com", &client)
                .await
                .is_ok()
            {
                sent += 1;
            }
        }
        allowed.push(sent);
    }
    assert_eq!(allowed, [4, 4, 0]);
}

#[tokio::test]
async fn protected_calls_past_the_session_limit_are_refused_and_end_nothing() {
    let app = Harness::with(&[("RATE_LIMIT_SESSION", "3/1m")]);
    app.advance(Duration::from_millis(60_000 - T0 % 60_000));
    let laptop = app.sign_in("ada@example.com").await;
    let phone = app.sign_in("ada@example.com").await;
    for _ in 0..3 {
        assert!(app.is_authorized(&laptop).await);
    }
    app.advance(15 * SECOND);
    assert!(matches!(
        app.service
            .authenticate(&laptop.access_token)
            .await
            .answered(),
        Err(AuthError::RateLimited { retry_after: 45 })
    ));
    // Another session of the same person is counted apart.
    assert!(app.is_authorized(&phone).await);
    // Nothing ended: the session refreshes, and calls again in the next window.
    let renewed = app.refresh(&laptop).await.unwrap();
    app.advance(45 * SECOND);
    assert!(app.is_authorized(&renewed).await);
}

#[tokio::test]
async fn the_mail_budget_bounds_what_every_network_together_sends() {
    let app = Harness::with(&[("MAIL_BUDGET", "3/1h")]);
    app.advance(Duration::from_millis(3_600_000 - T0 % 3_600_000));
    for n in 0..3 {
        let client = ClientInfo {
            ip: format!("198.51.100.{n}"),
            ..app.client.clone()
        };
        let to = format!("person{n}@example.com");
        assert!(app.service.request_link(&to, &client).await.is_ok());
    }
    let late = ClientInfo {
        ip: "203.0.113.9".into(),
        ..app.client.clone()
    };
    assert_eq!(
        app.service
            .request_link("ada@example.com", &late)
            .await
            .answered(),
        Err(AuthError::RateLimited { retry_after: 3600 })
    );
    app.advance(Duration::from_secs(3600));
    assert!(app
        .service
        .request_link("ada@example.com", &late)
        .await
        .is_ok());
}

#[tokio::test]
async fn link_requests_from_an_ipv6_block_share_the_blocks_address_limit() {
    let app = Harness::with(&[("RATE_LIMIT_IP", "2/1m")]);
    app.advance(Duration::from_millis(60_000 - T0 % 60_000));
    // Every request from a fresh /64 of one /48, each to a fresh address: the /48 gets
    // four times the per-address limit, however many /64s it holds.
    let mut sent = 0;
    for n in 0..20u32 {
        let address = format!("2001:db8:1:{:x}::1", n * 0x100);
        let client = ClientInfo::new(Some(address.parse().unwrap()), Some("test"));
        let to = format!("person{n}@example.com");
        if app.service.request_link(&to, &client).await.is_ok() {
            sent += 1;
        }
    }
    assert_eq!(sent, 8);
}

#[tokio::test]
async fn sessions_come_a_page_at_a_time_oldest_first() {
    let app = Harness::new();
    let mut pairs = Vec::new();
    for _ in 0..5 {
        pairs.push(app.sign_in("ada@example.com").await);
        app.advance(SECOND);
    }
    let me = app
        .service
        .authenticate(&pairs[0].access_token)
        .await
        .unwrap();
    let all = app
        .service
        .sessions(&me, &SessionsPage::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].created_at < w[1].created_at));

    let page = |limit, after| SessionsPage {
        limit: Some(limit),
        after,
    };
    let first = app.service.sessions(&me, &page(2, None)).await.unwrap();
    assert_eq!(first, all[..2]);
    let cursor = first.last().unwrap().cursor();
    // The page is a position: it holds even when the session it starts after has ended.
    app.service.revoke(&me, &cursor.id).await.unwrap();
    let second = app
        .service
        .sessions(&me, &page(2, Some(cursor)))
        .await
        .unwrap();
    assert_eq!(second, all[2..4]);
    let last = app
        .service
        .sessions(&me, &page(2, Some(second[1].cursor())))
        .await
        .unwrap();
    assert_eq!(last, all[4..]);

    for limit in [0, 101] {
        assert!(matches!(
            app.service
                .sessions(&me, &page(limit, None))
                .await
                .answered(),
            Err(AuthError::BadRequest { .. })
        ));
    }
}

/// What an axum handler taking [`Authenticated`] sees for a request with `authorization`.
async fn extract_session(app: &Harness, authorization: Option<&str>) -> Result<String, AuthError> {
    use axum::extract::FromRequestParts;
    let mut request = http::Request::builder();
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let mut parts = request.body(()).unwrap().into_parts().0;
    let context = AuthContext {
        service: app.service.clone(),
        dev_outbox: false,
    };
    Authenticated::from_request_parts(&mut parts, &context)
        .await
        .map(|auth| auth.session.user.email)
}

#[tokio::test]
async fn the_session_extractor_takes_a_live_bearer_token_and_nothing_else() {
    let app = Harness::new();
    let pair = app.sign_in("ada@example.com").await;
    let bearer = format!("Bearer {}", pair.access_token);
    assert_eq!(
        extract_session(&app, Some(&bearer)).await,
        Ok("ada@example.com".to_string())
    );
    assert_eq!(
        extract_session(&app, None).await,
        Err(AuthError::Unauthorized)
    );
    let basic = format!("Basic {}", pair.access_token);
    assert_eq!(
        extract_session(&app, Some(&basic)).await,
        Err(AuthError::Unauthorized)
    );
    app.service
        .logout(&pair.refresh_token, &app.client, None)
        .await
        .unwrap();
    assert_eq!(
        extract_session(&app, Some(&bearer)).await,
        Err(AuthError::Unauthorized),
        "a signed-out session's access token no longer passes"
    );
}
