//! The reactive sign-in state the pages read. It exists in both builds so the server
//! renders the same neutral "checking" state the browser starts from; only the browser
//! (`auth/client`) ever changes it.

use super::EndReason;
use leptos::prelude::*;

/// Where the person stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthStatus {
    /// Not known yet: server rendering and hydration (tokens live in the browser only).
    Checking,
    /// Tokens are present; the session is believed valid.
    SignedIn,
    /// No tokens. `reason` says why a session ended, when one did.
    SignedOut {
        /// Why the previous session ended, if it did.
        reason: Option<EndReason>,
    },
}

/// Whether the server answers; drives the quiet "reconnecting" indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Last call or refresh reached the server.
    Online,
    /// The server could not be reached (network, 5xx, 429): tokens kept, retrying.
    Reconnecting,
}

/// A quiet message about how the sign-in is kept, shown until it no longer applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Storage refused the newest pair: it lives in this tab's memory only.
    KeptInThisTabOnly,
    /// The saved sign-in could not be read (written by another version, or damaged).
    SavedSignInUnreadable,
    /// Signed out here; the server could not be reached to end the session yet.
    SignOutPending,
}

/// Times of the stored tokens (local clock, Unix ms) for the session panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenTimes {
    /// When the next preemptive refresh is due.
    pub refresh_due_at: f64,
    /// When the session ends unless refreshed.
    pub session_expires_at: f64,
}

/// The signals, provided once by `<App/>`.
#[derive(Clone, Copy)]
pub struct AuthState {
    /// Signed in, out, or not known yet.
    pub status: RwSignal<AuthStatus>,
    /// Reachability of the server.
    pub connection: RwSignal<Connection>,
    /// Token times, when signed in.
    pub times: RwSignal<Option<TokenTimes>>,
    /// Bumped each time the server is reachable again after "reconnecting": protected
    /// data that failed to load tracks it and loads again.
    pub reconnected: RwSignal<u32>,
    /// A quiet message about how the sign-in is kept, if any.
    pub notice: RwSignal<Option<Notice>>,
}

impl AuthState {
    /// Fresh state: checking, online.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(AuthStatus::Checking),
            connection: RwSignal::new(Connection::Online),
            times: RwSignal::new(None),
            reconnected: RwSignal::new(0),
            notice: RwSignal::new(None),
        }
    }
}

impl Default for AuthState {
    fn default() -> Self {
        Self::new()
    }
}

/// The state provided by `<App/>`.
pub fn use_auth() -> AuthState {
    expect_context::<AuthState>()
}
