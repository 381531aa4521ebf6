//! After a protected call fails for a transient reason (network, 5xx, 429), probe the
//! server with jittered backoff until it answers with a working store again; then the
//! page is told (`signals::mark_online`) and reloads what failed. One probe loop per tab.

use super::{signals, timing::backoff_ms};
use crate::auth::api;
use leptos::prelude::set_timeout;
use std::{cell::Cell, time::Duration};

thread_local! {
    static PROBING: Cell<bool> = const { Cell::new(false) };
    static ATTEMPTS: Cell<u32> = const { Cell::new(0) };
}

/// Starts probing (no-op while a probe loop runs).
pub fn start() {
    if PROBING.replace(true) {
        return;
    }
    ATTEMPTS.set(0);
    schedule();
}

fn schedule() {
    let attempts = ATTEMPTS.get().saturating_add(1);
    ATTEMPTS.set(attempts);
    let delay = backoff_ms(attempts);
    set_timeout(
        || leptos::task::spawn_local(probe_once()),
        Duration::from_millis(delay as u64),
    );
}

async fn probe_once() {
    match api::status().await {
        Ok(status) if status.store_ok => {
            PROBING.set(false);
            signals::mark_online();
        }
        _ => schedule(),
    }
}
