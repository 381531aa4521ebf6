//! After a protected call fails for a transient reason (network, 5xx, 429), probe the
//! server with jittered backoff until it answers with a working store again; then the
//! page is told (`signals::mark_online`) and reloads what failed. One probe loop per tab.
//!
//! The backoff is not reset by a successful probe, only by a protected call that
//! succeeds ([`settled`]): a call that keeps failing while the server itself answers
//! reloads the page's data ever more slowly, not every second. Coming back online or
//! becoming visible probes at once ([`probe_now`]).

use super::state::client;
use super::{refresh_policy::backoff_ms, signals, timing::random};
use leptos::prelude::set_timeout_with_handle;
use std::time::Duration;

/// Starts probing (no-op while a probe loop runs).
pub fn start() {
    if client().probing.replace(true) {
        return;
    }
    schedule();
}

/// A protected call succeeded: the next trouble starts the backoff from the beginning.
pub fn settled() {
    client().probe_attempts.set(0);
}

/// Probes right away if a probe loop is waiting (back online, tab visible).
pub fn probe_now() {
    if client().probing.get() {
        if let Some(timer) = client().probe_timer.take() {
            timer.clear();
        }
        leptos::task::spawn_local(probe_once());
    }
}

fn schedule() {
    let attempts = client().probe_attempts.get().saturating_add(1);
    client().probe_attempts.set(attempts);
    let delay = backoff_ms(attempts, random());
    let timer = set_timeout_with_handle(
        || {
            client().probe_timer.set(None);
            leptos::task::spawn_local(probe_once());
        },
        Duration::from_millis(delay as u64),
    );
    client().probe_timer.set(timer.ok());
}

async fn probe_once() {
    match crate::actions::server_status().await {
        Ok(status) if status.store_ok => {
            client().probing.set(false);
            signals::mark_online();
        }
        _ => {
            if client().probe_timer.get().is_none() {
                schedule();
            }
        }
    }
}
