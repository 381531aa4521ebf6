//! What every handler and server function can reach.

use crate::auth::server::{mailer::DevOutbox, AuthService};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Shared server state: handed to axum handlers as state and to server functions as
/// Leptos context (`expect_context::<AppState>()`).
#[derive(Clone)]
pub struct AppState {
    /// Leptos' site options (assets, address).
    pub leptos_options: LeptosOptions,
    /// Sign-in and session rules over the configured store.
    pub auth: Arc<AuthService>,
    /// The development outbox; `None` in production or with SMTP.
    pub outbox: Option<Arc<DevOutbox>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
