//! Browser side of staying signed in. Dependencies point one way: `lifecycle` → `call`
//! → `coordinator` → `browser_lock`/`signals` → `token_store` → `tab_channel`.
//!
//! Its rules are plain values compiled in every build, so native `cargo test` covers
//! them: [`stored_tokens`] (the record and its due time, from the time the pair
//! arrived) and [`refresh_policy`] (jitter, backoff, budget, `Retry-After`, urgency,
//! time and randomness passed in). Everything else talks to the browser and is in the
//! hydrate build only.
//!
//! - [`local_storage`]: JSON values in localStorage, without panics where it is blocked;
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
//! - [`lifecycle`]: start-up, sign-in/out, and keeping tabs in sync;
//! - [`state`]: everything the modules above keep between calls, in one place.

// The pure rules are compiled in every build so native `cargo test` covers them; only
// the browser build uses them.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod names;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod refresh_policy;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod stored_tokens;

/// Declares the modules that talk to the browser, each in the hydrate build only.
macro_rules! browser_modules {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(feature = "hydrate")]
            pub mod $module;
        )*
    };
}

browser_modules!(
    browser_lock,
    call,
    coordinator,
    dpop,
    lifecycle,
    local_storage,
    pending_sign_out,
    reconnect,
    signals,
    state,
    tab_channel,
    timing,
    token_store,
);

#[cfg(feature = "hydrate")]
pub use call::authed;
