//! Server side of authentication (ssr build only): tokens, sessions, the store, links
//! and mail. `AuthService` holds the rules; everything else is a part it uses.

pub mod device;
pub mod email;
pub mod jwt;
pub mod mailer;
pub mod service;
pub mod store;
pub mod tokens;

pub use service::{now_ms, AuthService, Authenticated, ClientInfo};
