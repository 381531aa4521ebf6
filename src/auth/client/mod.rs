//! Browser side of staying signed in (hydrate build only). Dependencies point one way:
//! `lifecycle` → `call` → `coordinator` → `browser_lock`/`signals` → `token_store` →
//! `tab_channel`.
//!
//! - [`token_store`]: the token pair in one localStorage record;
//! - [`signals`]: the only writer of the page's auth signals, and `observe`, the one
//!   mapping from an answer to what the page shows;
//! - [`browser_lock`]: one refresh per browser (Web Locks, a lease where missing);
//! - [`coordinator`]: one shared refresh per tab, preemptive timer, backoff;
//! - [`call`]: the wrapper every protected server function goes through;
//! - [`reconnect`]: probing the server after transient failures;
//! - [`tab_channel`]: the `BroadcastChannel` that tells other tabs of a new pair or a
//!   sign-out, beside the `storage` event;
//! - [`dpop`]: proofs by this origin's non-extractable key for verify, refresh and
//!   logout (bound sessions);
//! - [`pending_sign_out`]: a sign-out the server has not confirmed, retried until it is;
//! - [`lifecycle`]: start-up, sign-in/out, and keeping tabs in sync.

pub mod browser_lock;
pub mod call;
pub mod coordinator;
pub mod dpop;
pub mod lifecycle;
pub mod pending_sign_out;
pub mod probe;
pub mod reconnect;
pub mod signals;
pub mod tab_channel;
pub mod timing;
pub mod token_store;

pub use call::authed;
