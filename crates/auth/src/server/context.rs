//! What the server functions need from the running server, provided to them as Leptos
//! context by whoever serves them (the app's HTTP layer, through
//! [`ApiContractLayer`](super::api_layer::ApiContractLayer)).

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

/// A context on a fresh memory store with the design's defaults, for the unit tests that
/// run server functions through the API layer.
#[cfg(test)]
pub(crate) fn memory_context(dev_outbox: bool) -> AuthContext {
    use super::{config::AuthConfig, mailer::DevOutbox, store::MemoryStore, SystemClock};
    let config = AuthConfig::new("http://127.0.0.1:3000", vec![7; 32]);
    let service = AuthService::new(
        Arc::new(MemoryStore::new()),
        config,
        DevOutbox::new(),
        Arc::new(SystemClock),
    );
    AuthContext {
        service: Arc::new(service),
        dev_outbox,
    }
}
