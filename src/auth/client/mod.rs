//! Browser side of staying signed in (hydrate build only).
//!
//! - [`token_store`]: the token pair in one localStorage record;
//! - [`coordinator`]: one shared refresh per tab, preemptive timer, backoff;
//! - [`call`]: the wrapper every protected server function goes through;
//! - [`lifecycle`]: start-up, sign-in/out, and keeping tabs in sync;
//! - [`reconnect`]: probing the server after transient failures.

pub mod call;
pub mod coordinator;
pub mod lifecycle;
pub mod probe;
pub mod reconnect;
pub mod timing;
pub mod token_store;

pub use call::authed;
