//! Server side of authentication (ssr build only): tokens, sessions, the store, links
//! and mail. `AuthService` holds the rules; everything else is a part it uses.

pub mod api_layer;
pub mod caller;
pub mod clock;
pub mod config;
pub mod context;
pub mod counters;
pub(crate) mod crypto;
pub(crate) mod device;
pub(crate) mod dpop;
pub(crate) mod email;
pub mod failure;
pub(crate) mod jwt;
pub(crate) mod local_limit;
pub mod mailer;
pub mod mount;
pub(crate) mod outbox_route;
pub(crate) mod server_fns;
pub mod service;
pub(crate) mod session_id;
pub mod store;
pub(crate) mod tokens;

pub use caller::{ClientAddr, ClientInfo};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::AuthContext;
pub use crypto::random_id;
pub use mount::AuthServer;
pub use outbox_route::outbox_route;
pub use service::{AuthService, Authenticated};
pub use session_id::SessionId;
pub use tokens::TokenHash;
