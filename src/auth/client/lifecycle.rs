//! Start-up, sign-in, sign-out, and tab synchronisation: the only code that changes the
//! [`AuthState`] signals.

use super::{
    coordinator,
    token_store::{self, StoredTokens, TOKENS_KEY},
};
use crate::auth::{
    api,
    state::{AuthState, AuthStatus, Connection, TokenTimes},
    EndReason, TokenPair,
};
use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::{closure::Closure, JsCast};

thread_local! {
    static STATE: Cell<Option<AuthState>> = const { Cell::new(None) };
}

fn with_state(f: impl FnOnce(AuthState)) {
    if let Some(state) = STATE.get() {
        f(state);
    }
}

/// Called once after hydration: reads the stored tokens, arms the timer, and listens to
/// other tabs, visibility and connectivity.
pub fn start(state: AuthState) {
    STATE.set(Some(state));
    match token_store::load() {
        Some(tokens) => {
            adopt(&tokens);
            coordinator::refresh_if_due();
        }
        None => {
            // Say why the last session ended once, not on every later visit.
            let reason = token_store::ended_reason();
            token_store::forget_end_reason();
            state.status.set(AuthStatus::SignedOut { reason });
        }
    }
    listen();
    // Marks the page as interactive for people's tools and the e2e suite.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-auth-ready", "");
    }
}

/// Stores a pair from sign-in and marks the tab signed in.
pub fn signed_in(pair: &TokenPair) {
    let tokens = StoredTokens::from_pair(pair);
    token_store::save(&tokens);
    adopt(&tokens);
}

/// Takes `tokens` as current (own refresh, or another tab's): signals and timer.
pub fn adopt(tokens: &StoredTokens) {
    coordinator::schedule(tokens);
    online();
    with_state(|state| {
        state.times.set(Some(TokenTimes {
            refresh_due_at: tokens.refresh_due_at(),
            session_expires_at: tokens.session_expires_at,
        }));
        if state.status.get_untracked() != AuthStatus::SignedIn {
            state.status.set(AuthStatus::SignedIn);
        }
    });
}

/// The session is over (server said so, or another tab signed out).
pub fn session_ended(reason: Option<EndReason>) {
    coordinator::cancel_timer();
    if token_store::load().is_some() {
        token_store::clear(reason);
    }
    with_state(|state| {
        state.times.set(None);
        state.connection.set(Connection::Online);
        state.status.set(AuthStatus::SignedOut { reason });
    });
}

/// Signs out here and on the server. Local tokens go first, so a failed network call
/// cannot leave the person signed in.
pub async fn sign_out() {
    let refresh_token = token_store::load().map(|t| t.refresh_token);
    session_ended(None);
    if let Some(refresh_token) = refresh_token {
        if let Err(error) = api::logout(refresh_token).await {
            leptos::logging::warn!("sign-out reached only this browser: {error}");
        }
    }
}

/// Ends every session of the person on the server, then here.
pub async fn sign_out_everywhere() -> Result<(), crate::auth::AuthError> {
    super::authed(api::logout_all).await?;
    session_ended(Some(EndReason::Revoked));
    Ok(())
}

/// A call or refresh could not reach the server.
pub fn reconnecting() {
    with_state(|state| {
        if state.connection.get_untracked() != Connection::Reconnecting {
            state.connection.set(Connection::Reconnecting);
        }
    });
}

/// A call or refresh reached the server.
pub fn online() {
    with_state(|state| {
        if state.connection.get_untracked() != Connection::Online {
            state.connection.set(Connection::Online);
            state.reconnected.update(|n| *n += 1);
        }
    });
}

/// Another tab changed the token record.
fn on_storage(event: web_sys::StorageEvent) {
    if event.key().as_deref() != Some(TOKENS_KEY) {
        return;
    }
    match token_store::load() {
        Some(tokens) => adopt(&tokens),
        None => {
            coordinator::cancel_timer();
            with_state(|state| {
                state.times.set(None);
                state.status.set(AuthStatus::SignedOut {
                    reason: token_store::ended_reason(),
                });
            });
        }
    }
}

fn listen() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let storage = Closure::<dyn Fn(web_sys::StorageEvent)>::new(on_storage);
    let visible = Closure::<dyn Fn()>::new(|| {
        let visible = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
        if visible {
            coordinator::refresh_if_due();
        }
    });
    let online = Closure::<dyn Fn()>::new(|| {
        coordinator::retry_now();
        coordinator::refresh_if_due();
    });
    let _ = window.add_event_listener_with_callback("storage", storage.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    if let Some(document) = window.document() {
        let _ = document
            .add_event_listener_with_callback("visibilitychange", visible.as_ref().unchecked_ref());
    }
    // The listeners live as long as the page.
    storage.forget();
    visible.forget();
    online.forget();
}
