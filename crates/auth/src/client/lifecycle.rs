//! Start-up, sign-in, sign-out, and tab synchronisation (the `storage` event and the
//! [`tab_channel`], two paths for the same news): the browser events that change who is
//! signed in. The signals themselves are written by [`signals`].

use super::{
    coordinator, dpop, pending_sign_out, reconnect, signals,
    state::client,
    tab_channel,
    timing::now,
    token_store::{self, Announcement, Record, StoredTokens},
};
use crate::{api, dpop_paths, state::AuthState, AuthError, CallError, EndReason, TokenPair};
use std::time::Duration;
use wasm_bindgen::{closure::Closure, JsCast};

/// How often a visible tab checks whether its token is due (timers stop while a laptop
/// sleeps and may fire late after it wakes; this catches up within seconds).
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Called once after hydration: reads the stored tokens, arms the timer, and listens to
/// other tabs, visibility and connectivity.
pub fn start(state: AuthState) {
    signals::attach(state);
    match token_store::read() {
        Record::Tokens(tokens) => {
            coordinator::adopt(&tokens);
            coordinator::refresh_if_due();
        }
        Record::Empty => {
            // Say why the last session ended once, not on every later visit.
            let reason = token_store::ended_reason();
            token_store::forget_end_reason();
            signals::show_signed_out(reason);
        }
        Record::Unreadable => signals::show_unreadable_record(),
    }
    listen();
    leptos::task::spawn_local(pending_sign_out::finish());
    // Marks the page as interactive for people's tools and the e2e suite.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-auth-ready", "");
    }
}

/// Uses a sign-in link with a proof by this browser's key, so the session is bound to
/// it. Should the server refuse the proof (the page is open under another origin than
/// `PUBLIC_URL`, which the proof must name), signs in unbound rather than not at all.
pub async fn verify(token: String) -> Result<TokenPair, CallError> {
    let verify = || api::verify(token.clone());
    let result =
        match dpop::with_proof(dpop_paths::VERIFY, dpop::WhenKeyIsSlow::GoBare, verify).await {
            Err(CallError::Answer(AuthError::InvalidDpopProof)) => verify().await,
            other => other,
        };
    if let Ok(pair) = &result {
        dpop::remember_nonce_of(pair);
    }
    result
}

/// Stores a pair from sign-in and marks the tab signed in.
pub fn signed_in(pair: &TokenPair) {
    let tokens = token_store::save(StoredTokens::from_pair(pair, now()));
    coordinator::adopt(&tokens);
}

/// The session is over here: no timer, no record, the signed-out page.
fn end_here(reason: Option<EndReason>) {
    coordinator::cancel_timer();
    signals::end_session(reason);
}

/// Signs out here and on the server. Local tokens go first, so a failed network call
/// cannot leave the person signed in; a sign-out the server has not confirmed is kept
/// and retried ([`pending_sign_out`]).
pub async fn sign_out() {
    let refresh_token = token_store::load().map(|t| t.refresh_token);
    end_here(None);
    if let Some(refresh_token) = refresh_token {
        pending_sign_out::sign_out(refresh_token).await;
    }
}

/// Ends every session of the person on the server, then here.
pub async fn sign_out_everywhere() -> Result<(), CallError> {
    super::authed(api::logout_all).await?;
    end_here(Some(EndReason::Revoked));
    Ok(())
}

/// Another tab changed the token record (or cleared all storage: no key). The event
/// carries the new value, which wins over this tab's own read of storage (it may be
/// stale).
fn on_storage(event: web_sys::StorageEvent) {
    if event.key().is_some_and(|key| key != client().names.tokens) {
        return;
    }
    token_store::forget_memory();
    match event.new_value() {
        Some(raw) => {
            if let Ok(tokens) = serde_json::from_str::<StoredTokens>(&raw) {
                token_store::hear(tokens);
            }
        }
        None => token_store::hear_signed_out(),
    }
    follow_record();
}

/// Another tab announced a new pair or a sign-out over the tab channel: the same news
/// as the `storage` event, on a second path (see [`tab_channel`]).
fn on_announcement(announcement: Announcement) {
    match announcement {
        Announcement::Tokens { tokens } => {
            token_store::hear(tokens);
            follow_record();
        }
        Announcement::SignedOut { reason } => {
            token_store::hear_signed_out();
            coordinator::cancel_timer();
            signals::show_signed_out(reason.as_deref().and_then(EndReason::from_code));
        }
    }
}

/// Shows what the record now holds: adopts its pair, or shows the signed-out page.
fn follow_record() {
    match token_store::read() {
        Record::Tokens(tokens) => coordinator::adopt(&tokens),
        Record::Empty => {
            coordinator::cancel_timer();
            signals::show_signed_out(token_store::ended_reason());
        }
        Record::Unreadable => {
            coordinator::cancel_timer();
            signals::show_unreadable_record();
        }
    }
}

fn is_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

fn listen() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let storage = Closure::<dyn Fn(web_sys::StorageEvent)>::new(on_storage);
    // Becoming visible or coming back online: recover at once, whatever the backoff.
    let visible = Closure::<dyn Fn()>::new(|| {
        if is_visible() {
            coordinator::retry_now();
            reconnect::probe_now();
            leptos::task::spawn_local(pending_sign_out::finish());
        }
    });
    let online = Closure::<dyn Fn()>::new(|| {
        coordinator::retry_now();
        reconnect::probe_now();
        leptos::task::spawn_local(pending_sign_out::finish());
    });
    let _ = leptos::prelude::set_interval_with_handle(
        || {
            if is_visible() {
                coordinator::refresh_if_due();
            }
        },
        CHECK_EVERY,
    );
    let _ = window.add_event_listener_with_callback("storage", storage.as_ref().unchecked_ref());
    tab_channel::listen(on_announcement);
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
