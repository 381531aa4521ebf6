//! Sign in with a magic link, then stay signed in: the auth half of a Leptos 0.8 app.
//!
//! People ask for a link by email and open it; from then on the browser keeps a
//! short-lived access token fresh with a rotating refresh token, one refresh per browser
//! however many tabs are open, through lost replies, sleep, offline spells and server
//! restarts. Only a session that really ended (signed out, expired, revoked, or a
//! stolen token replayed) signs anyone out. Where the browser can keep a key, the
//! session is bound to it (DPoP, RFC 9449), so a copied token record is no session
//! elsewhere.
//!
//! Two builds, like the app that uses it: the `ssr` feature is the server half, the
//! `hydrate` feature the browser half. Sessions live in memory with `ssr` alone; the
//! `redis` feature adds `RedisStore` on one Redis (TLS too), `cluster` its
//! `RedisStore::cluster` on a Redis Cluster. What an app calls is at the root:
//!
//! - on the server, an [`AuthServer`] made from an [`AuthConfig`] serves the app's
//!   router with the server functions of [`api`] (under `/api/v1`) mounted;
//!   [`Authenticated`] is the axum extractor of a live session, and
//!   [`authenticated`] the same for the app's own server functions;
//! - in the pages, [`provide_auth`] once in the root component, then [`use_auth`] for
//!   the state, [`authed`] around every protected call, and the ready-made
//!   [`SignInForm`], [`FinishSignIn`] and [`SignOutButton`];
//! - every server function fails with a [`CallError`]: the server's [`AuthError`], or
//!   no answer at all.
//!
//! The server half, in an app's `main` (the `start-axum` template's, with two lines
//! more):
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # async fn serve(app: axum::Router, listener: tokio::net::TcpListener) {
//! use stay_signed_in_auth::{AuthConfig, AuthServer};
//!
//! // Development: sessions in memory, links listed at GET /dev/outbox. Production:
//! // AuthServer::new(config, a RedisStore, an SmtpMailer).
//! let auth = AuthServer::development(AuthConfig::with_random_secret("http://127.0.0.1:3000"));
//! let app = auth.serve(app);
//! let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! The browser half, in the app's components:
//!
//! ```
//! use leptos::prelude::*;
//! use stay_signed_in_auth::{api, authed, provide_auth, use_auth, AuthStatus};
//! use stay_signed_in_auth::{SignInForm, SignOutButton};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_auth();
//!     let auth = use_auth();
//!     move || match auth.status.get() {
//!         AuthStatus::SignedIn => view! { <Email/> <SignOutButton/> }.into_any(),
//!         AuthStatus::SignedOut { .. } => view! { <SignInForm/> }.into_any(),
//!         AuthStatus::Checking => ().into_any(),
//!     }
//! }
//!
//! /// `authed` sends the access token, refreshed first when it is due.
//! #[component]
//! fn Email() -> impl IntoView {
//!     let me = LocalResource::new(|| authed(api::me));
//!     move || me.get().and_then(Result::ok).map(|me| me.user.email)
//! }
//! ```
//!
//! The page the emailed link opens ([`AuthConfig`]'s `link_path`, `/auth/verify` by
//! default) shows [`FinishSignIn`]. `examples/minimal` in the repository is a whole app.

#![deny(missing_docs)]

pub mod api;
mod bearer;
pub(crate) mod client;
mod dpop_client;
#[cfg(feature = "ssr")]
pub mod server;

pub mod actions;
mod app_error;
mod call_error;
pub mod components;
mod error;
pub mod state;

pub use app_error::{AppError, CarriesCallError};
pub use call_error::CallError;
pub use error::{AuthError, EndReason};

// The surface an app uses, at the root. The browser half (both builds compile it, so
// pages can call it; only the hydrate build runs it):
pub use actions::{authed, sign_out, sign_out_everywhere};
/// JSON values in localStorage that never panic where storage is blocked: for an
/// app's own small browser-side records (this repository's app keeps the page to
/// return to after sign-in there).
#[cfg(feature = "hydrate")]
pub use client::local_storage;
pub use components::{provide_auth, provide_auth_named, FinishSignIn, SignInForm, SignOutButton};
#[cfg(feature = "ssr")]
pub use server::caller::authenticated;
pub use state::{use_auth, AuthState, AuthStatus};
// The server half:
#[cfg(feature = "redis")]
pub use server::store::RedisStore;
#[cfg(feature = "ssr")]
pub use server::{
    api_layer::{ApiContractLayer, AppContext},
    config::{AuthConfig, RateLimit},
    mailer::{DevOutbox, MailError, Mailer, SignInEmail, SmtpMailer},
    store::{MemoryStore, SessionStore, StoreError},
    AuthServer, AuthService, Authenticated, Clock, SystemClock,
};

use serde::{Deserialize, Serialize};

/// What sign-in and refresh hand to the client: a short-lived access JWT and the
/// rotating refresh token that replaces it before it runs out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// Signed JWT sent as `Authorization: Bearer` on protected calls.
    pub access_token: String,
    /// Opaque secret that buys the next pair exactly once (rotated on every refresh).
    pub refresh_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// Seconds until the access token expires, counted from when the server answered.
    pub expires_in: u64,
    /// Seconds until the session (and so the refresh token) expires if not refreshed.
    pub refresh_expires_in: u64,
    /// The server's current DPoP nonce (the `DPoP-Nonce` header's value), for the next
    /// proof's `nonce` claim: a client whose clock is off signs with it rather than
    /// being asked for it. In the body because the browser's server-fn client cannot
    /// read answer headers cheaply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_nonce: Option<String>,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish()
    }
}

/// The signed-in person as the API shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Stable random id (the JWT `sub`).
    pub id: String,
    /// The address the magic link was sent to.
    pub email: String,
    /// When the account was created (first sign-in), Unix milliseconds.
    pub created_at: u64,
}

/// One session (one signed-in device) as the API shows it. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Public id of the session (the JWT `sid`); used to revoke it.
    pub id: String,
    /// Short device description taken from the User-Agent of the latest sign-in,
    /// refresh or replay.
    pub device: String,
    /// The network that last used the session: an IPv4 address, or an IPv6 /64. With
    /// `device` and `last_activity` it is written by every refresh, a replay of the
    /// previous token included, so someone else using the session shows here.
    pub last_address: String,
    /// When the person signed in on this device.
    pub created_at: u64,
    /// Last sign-in, refresh or replay.
    pub last_activity: u64,
    /// When the session ends unless refreshed before then.
    pub expires_at: u64,
    /// Hard end of the session, whatever happens (`SESSION_MAX_AGE`).
    pub absolute_expires_at: u64,
    /// True for the session that made the request.
    pub current: bool,
    /// Signed in with a DPoP proof: only the holder of that device's key (a key the
    /// browser cannot export) can refresh this session or sign it out.
    pub bound: bool,
}

impl SessionInfo {
    /// Where the page after this session starts (pass it as `after`).
    pub fn cursor(&self) -> SessionCursor {
        SessionCursor {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }
}

/// The endpoints that take a DPoP proof, as its `htu` names them (after `PUBLIC_URL`).
/// A test in `api.rs` keeps them equal to the server functions' paths.
pub mod dpop_paths {
    /// `verify`: a proof here binds the new session to the proof's key.
    pub const VERIFY: &str = "/api/v1/auth/verify";
    /// `refresh`: a bound session needs a proof by its key.
    pub const REFRESH: &str = "/api/v1/auth/refresh";
    /// `logout`: a bound session needs a proof by its key.
    pub const LOGOUT: &str = "/api/v1/auth/logout";
}

/// Most sessions in one page of `/api/v1/sessions` (also its default page size).
pub const MAX_SESSIONS_PAGE: u64 = 100;

/// Which page of `/api/v1/sessions` to answer: `{}` (or no body) is the first, with
/// [`MAX_SESSIONS_PAGE`] sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsPage {
    /// Most sessions in the page, 1 to [`MAX_SESSIONS_PAGE`] (default the most).
    #[serde(default, deserialize_with = "whole_number::optional")]
    pub limit: Option<u64>,
    /// The last session of the previous page; `None` for the first page.
    #[serde(default)]
    pub after: Option<SessionCursor>,
}

/// Where a page of `/api/v1/sessions` starts: after the session with this `created_at`
/// and `id` in the list's order (oldest first, then by id). A position, not a
/// reference: the page is right even if that session ended meanwhile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCursor {
    /// The `created_at` of the last session of the previous page.
    #[serde(deserialize_with = "whole_number::required")]
    pub created_at: u64,
    /// The `id` of that session.
    pub id: String,
}

/// Integers in request bodies as JSON Schema means them: `76.0` is the integer 76
/// (the OpenAPI document says `integer`, and clients that only have floating-point
/// numbers send that), while `76.5` and negatives are refused.
mod whole_number {
    use serde::{de, Deserialize, Deserializer};

    struct Whole(u64);

    impl<'de> Deserialize<'de> for Whole {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl de::Visitor<'_> for Visitor {
                type Value = Whole;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a whole number, 0 or more")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                    Ok(Whole(v))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                    u64::try_from(v)
                        .map(Whole)
                        .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                    // Below 2^64 and whole: exactly representable as u64.
                    if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                        Ok(Whole(v as u64))
                    } else {
                        Err(E::invalid_value(de::Unexpected::Float(v), &self))
                    }
                }
            }
            deserializer.deserialize_any(Visitor)
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        Whole::deserialize(deserializer).map(|whole| whole.0)
    }

    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        Option::<Whole>::deserialize(deserializer).map(|whole| whole.map(|w| w.0))
    }
}

/// Answer of `/api/v1/me`: who you are and which session you are using.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The signed-in person.
    pub user: UserInfo,
    /// The session of the access token used for the call.
    pub session: SessionInfo,
}

/// Answer of the public status function the landing page calls after hydration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// `"redis"` or `"memory"`.
    pub store: String,
    /// Whether the store answered just now.
    pub store_ok: bool,
    /// Server time, Unix milliseconds.
    pub server_time: u64,
    /// Whether `GET /dev/outbox` exists (development without SMTP).
    pub dev_outbox: bool,
}

/// Whose sign-in a link is: the verify page names the account before signing in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOwner {
    /// The address the link signs in to.
    pub email: String,
}

/// Answer of calls that only confirm: always `{"ok":true}` (the logout family is
/// idempotent; the magic-link answer is the same whether or not the email is known).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// Always `true`.
    pub ok: bool,
}
