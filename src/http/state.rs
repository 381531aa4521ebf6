//! What every handler and server function can reach.

use crate::{
    auth::server::{mailer::DevOutbox, AuthContext},
    config::Config,
    notes::server::Notes,
};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Shared server state, handed to axum handlers. Server functions get only its
/// [`AuthContext`] (as Leptos context), so `auth` needs nothing from `http`.
#[derive(Clone)]
pub struct AppState {
    /// Leptos' site options (assets, address). Behind an `Arc`: leptos_axum clones the
    /// whole state into the context of every page it renders, and the options are a
    /// dozen reference-counted strings.
    pub leptos_options: Arc<LeptosOptions>,
    /// What the server functions get: the service and the dev-outbox flag.
    pub auth: AuthContext,
    /// The app's own feature, provided to its server functions as context.
    pub notes: Arc<Notes>,
    /// The development outbox; `None` in production or with SMTP.
    pub outbox: Option<Arc<DevOutbox>>,
    /// The whole configuration (the HTTP layer reads its proxy and load settings).
    pub config: Arc<Config>,
}

/// What the auth extractors (`auth/server/caller.rs`) read the service from.
impl FromRef<AppState> for AuthContext {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos_options)
    }
}
