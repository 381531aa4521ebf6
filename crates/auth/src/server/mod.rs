//! Server side of authentication (ssr build only): tokens, sessions, the store, links
//! and mail. `AuthService` holds the rules; everything else is a part it uses.

pub mod api_layer;
pub mod caller;
pub mod clock;
pub mod config;
pub mod context;
pub mod counters;
pub mod crypto;
pub mod device;
pub mod dpop;
pub mod email;
pub mod failure;
pub mod jwt;
pub mod local_limit;
pub mod mailer;
pub mod mount;
pub mod outbox_route;
pub mod server_fns;
pub mod service;
pub mod session_id;
pub mod store;
pub mod tokens;

pub use caller::{ClientAddr, ClientInfo};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::AuthContext;
pub use mount::AuthServer;
pub use service::{AuthService, Authenticated};
pub use session_id::SessionId;
