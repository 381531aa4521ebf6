//! What the server functions need from the running server, provided to them as Leptos
//! context by whoever serves them (the `http` layer). It lives here, below `http`, so
//! `auth` never imports `http` (as the Leptos examples keep state below everything else).

use super::AuthService;
use std::sync::Arc;

/// The server functions' view of the server.
#[derive(Clone)]
pub struct AuthContext {
    /// Sign-in and session rules over the configured store.
    pub service: Arc<AuthService>,
    /// Whether `GET /dev/outbox` exists (development without SMTP); the login page says so.
    pub dev_outbox: bool,
}
