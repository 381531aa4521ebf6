//! The only code that writes the [`AuthState`] signals, and [`observe`]: the one mapping
//! from an answer (a protected call's or a refresh's) to what the page shows. It imports
//! no other client module but the token store, so everything else can depend on it.

use super::state::client;
use super::token_store::{self, StoredTokens};
use crate::{
    state::{AuthState, AuthStatus, Connection, Notice, TokenTimes},
    AuthError, CallError, EndReason,
};
use leptos::prelude::*;

fn with_state(f: impl FnOnce(AuthState)) {
    if let Some(state) = client().signals.get() {
        f(state);
    }
}

/// Connects the signals `<App/>` provided (once, after hydration).
pub fn attach(state: AuthState) {
    client().signals.set(Some(state));
}

/// Mirrors an answer (its error; `None` for a success) into the state: `session_ended`
/// signs out (the only thing that does), a transient failure shows "reconnecting",
/// anything else means the server was reached.
pub fn observe(error: Option<&CallError>) {
    match error {
        Some(CallError::Answer(AuthError::SessionEnded { reason })) => end_session(Some(*reason)),
        Some(error) if error.is_transient() => mark_reconnecting(),
        _ => mark_online(),
    }
}

/// Marks the server unreachable: the quiet "reconnecting" indicator.
pub fn mark_reconnecting() {
    with_state(|state| {
        if state.connection.get_untracked() != Connection::Reconnecting {
            state.connection.set(Connection::Reconnecting);
        }
    });
}

/// Marks the server reachable again; pages reload what failed meanwhile.
pub fn mark_online() {
    with_state(|state| {
        if state.connection.get_untracked() != Connection::Online {
            state.connection.set(Connection::Online);
            state.reconnected.update(|n| *n += 1);
        }
    });
}

/// Shows `tokens` as the current sign-in (own refresh, sign-in, or another tab's), and
/// whether storage keeps it.
pub fn show_signed_in(tokens: &StoredTokens) {
    let notice = token_store::kept_in_memory_only().then_some(Notice::KeptInThisTabOnly);
    with_state(|state| {
        if state.notice.get_untracked() != notice {
            state.notice.set(notice);
        }
        state.times.set(Some(TokenTimes {
            refresh_due_at: tokens.refresh_due_at(),
            session_expires_at: tokens.session_expires_at,
        }));
        if state.status.get_untracked() != AuthStatus::SignedIn {
            state.status.set(AuthStatus::SignedIn);
        }
    });
}

/// Shows the signed-out state with the reason a session ended, if one did.
pub fn show_signed_out(reason: Option<EndReason>) {
    with_state(|state| {
        state.times.set(None);
        if state.notice.get_untracked() == Some(Notice::KeptInThisTabOnly) {
            state.notice.set(None);
        }
        state.connection.set(Connection::Online);
        state.status.set(AuthStatus::SignedOut { reason });
    });
}

/// Says whether a sign-out still waits for the server (or clears the notice once it
/// does not).
pub fn show_sign_out_pending(pending: bool) {
    with_state(|state| {
        let showing = state.notice.get_untracked() == Some(Notice::SignOutPending);
        if pending && !showing {
            state.notice.set(Some(Notice::SignOutPending));
        } else if !pending && showing {
            state.notice.set(None);
        }
    });
}

/// The saved record cannot be read: signed out here, with a quiet explanation (the
/// record itself is left alone for the version that wrote it).
pub fn show_unreadable_record() {
    leptos::logging::warn!("the saved sign-in could not be read; showing the signed-out state");
    show_signed_out(None);
    with_state(|state| state.notice.set(Some(Notice::SavedSignInUnreadable)));
}

/// The session is over here (the server said so, or the person signed out): the
/// record goes (every tab hears it), then the page shows why.
pub fn end_session(reason: Option<EndReason>) {
    if token_store::load().is_some() {
        token_store::clear(reason);
    }
    show_signed_out(reason);
}
