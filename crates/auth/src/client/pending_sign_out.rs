//! A sign-out that sticks: when the server cannot be reached, this browser is signed out
//! at once and keeps the refresh token (nothing else) under its own key until the
//! server confirms the session ended. It tries again on every page load, on `online`
//! and when a tab becomes visible; the person is told meanwhile. For a bound session
//! the logout needs this browser's key, so the kept token is no use to anyone else.

use super::state::client;
use super::{dpop, signals};
use crate::{api, dpop_paths};
use super::local_storage;


/// Signs out `refresh_token` on the server; if the server cannot be reached (or asks to
/// wait), keeps it to try again.
pub async fn sign_out(refresh_token: String) {
    local_storage::set(&client().names.pending_sign_out, &refresh_token);
    finish().await;
}

/// Tries the kept sign-out once more; drops it once the server answered anything but
/// a transient failure (ended, already over, or a token it does not know).
pub async fn finish() {
    let Some(refresh_token) = local_storage::get::<String>(&client().names.pending_sign_out) else {
        return;
    };
    if client().sign_out_running.replace(true) {
        return;
    }
    let logout = || api::logout(refresh_token.clone());
    let result = dpop::with_proof(dpop_paths::LOGOUT, dpop::WhenKeyIsSlow::Retry, logout).await;
    client().sign_out_running.set(false);
    match result {
        Err(error) if error.is_transient() => {
            leptos::logging::warn!("sign-out not confirmed by the server yet: {error}");
            signals::show_sign_out_pending(true);
        }
        _ => {
            // Only the token this attempt sent: a newer pending one stays.
            if local_storage::get::<String>(&client().names.pending_sign_out).as_ref() == Some(&refresh_token) {
                local_storage::remove(&client().names.pending_sign_out);
            }
            signals::show_sign_out_pending(false);
        }
    }
}
