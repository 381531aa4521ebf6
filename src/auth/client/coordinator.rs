//! One refresh at a time.
//!
//! - Per tab: every caller that needs a fresh token awaits the same shared future, so
//!   many simultaneous requests cause one refresh request.
//! - Across tabs: a short lease in localStorage says "tab X is refreshing"; other tabs
//!   wait for its result (the `storage` event / the record changing) instead of
//!   refreshing too. The server answers a replayed previous token with the same
//!   successor, so a race the lease misses (or a lost reply) costs nothing.
//! - Triggers: the preemptive timer (expiry minus margin, with jitter), calls made
//!   inside the margin, 401s, the tab becoming visible, the browser coming back online.
//! - Failures: only `session_ended` signs out. Everything else keeps the tokens and
//!   retries with jittered exponential backoff, at most [`MAX_REFRESHES_PER_MINUTE`].

use super::{
    signals,
    timing::{backoff_ms, now, sleep},
    token_store::{self, StoredTokens},
};
use crate::auth::{api, AuthError};
use futures::channel::oneshot;
use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::{set_timeout_with_handle, TimeoutHandle};
use serde::{Deserialize, Serialize};
use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    time::Duration,
};

/// Upper bound on refresh requests a tab sends per minute (no refresh storms).
pub const MAX_REFRESHES_PER_MINUTE: usize = 6;
/// How long another tab's refresh lease is honoured.
const LEASE_MS: f64 = 10_000.0;
/// localStorage key of the cross-tab refresh lease.
const LEASE_KEY: &str = "stay-signed-in.refresh-lease";

/// Callers waiting for the refresh in flight (`None`: no refresh in flight).
type Waiters = Option<Vec<oneshot::Sender<Result<StoredTokens, AuthError>>>>;

thread_local! {
    static IN_FLIGHT: RefCell<Waiters> = const { RefCell::new(None) };
    static TIMER: Cell<Option<TimeoutHandle>> = const { Cell::new(None) };
    static SENT: RefCell<VecDeque<f64>> = const { RefCell::new(VecDeque::new()) };
    static FAILURES: Cell<u32> = const { Cell::new(0) };
    static TAB_ID: String = format!("{:x}", (js_sys::Math::random() * 1e15) as u64);
}

#[derive(Serialize, Deserialize)]
struct Lease {
    tab: String,
    until: f64,
}

/// Refreshes now, or joins the refresh already in flight in this tab: every caller gets
/// the result of the same single request.
pub async fn refresh() -> Result<StoredTokens, AuthError> {
    let (done, result) = oneshot::channel();
    let first = IN_FLIGHT.with(|slot| {
        let mut slot = slot.borrow_mut();
        match slot.as_mut() {
            Some(waiters) => {
                waiters.push(done);
                false
            }
            None => {
                *slot = Some(vec![done]);
                true
            }
        }
    });
    if first {
        leptos::task::spawn_local(async {
            let outcome = run_refresh().await;
            let waiters = IN_FLIGHT.with(|slot| slot.borrow_mut().take());
            for waiter in waiters.into_iter().flatten() {
                let _ = waiter.send(outcome.clone());
            }
        });
    }
    result.await.unwrap_or_else(|_| {
        Err(AuthError::Network {
            message: "refresh interrupted".into(),
        })
    })
}

/// A token that is not inside the refresh margin: the stored one, or a refreshed one.
pub async fn fresh_tokens() -> Result<StoredTokens, AuthError> {
    let tokens = token_store::load().ok_or(AuthError::Unauthorized)?;
    if tokens.needs_refresh(now()) {
        match refresh().await {
            Ok(fresh) => return Ok(fresh),
            // Still usable: let the call try; the server decides.
            Err(error) if error.is_transient() && tokens.access_expires_at > now() => {
                return Ok(tokens)
            }
            Err(error) => return Err(error),
        }
    }
    Ok(tokens)
}

/// Refreshes if the stored token is inside its margin (tab visible, back online).
pub fn refresh_if_due() {
    if token_store::load().is_some_and(|tokens| tokens.needs_refresh(now())) {
        leptos::task::spawn_local(async {
            let _ = refresh().await;
        });
    }
}

async fn run_refresh() -> Result<StoredTokens, AuthError> {
    let result = refresh_once().await;
    match &result {
        Ok(tokens) => {
            FAILURES.set(0);
            adopt(tokens);
        }
        Err(AuthError::SessionEnded { .. }) => cancel_timer(),
        Err(error) if error.is_transient() => schedule_retry(),
        Err(_) => {}
    }
    signals::observe(&result);
    result
}

/// Takes `tokens` as current (own refresh, sign-in, or another tab's): timer and page.
pub fn adopt(tokens: &StoredTokens) {
    schedule(tokens);
    signals::show_signed_in(tokens);
    signals::mark_online();
}

async fn refresh_once() -> Result<StoredTokens, AuthError> {
    let before = token_store::load().ok_or(AuthError::Unauthorized)?;
    if let Some(adopted) = await_other_tab(&before).await {
        return Ok(adopted);
    }
    wait_for_budget().await;
    let current = token_store::load().ok_or(AuthError::Unauthorized)?;
    if current.refresh_token != before.refresh_token && !current.needs_refresh(now()) {
        return Ok(current);
    }
    take_lease();
    SENT.with(|sent| sent.borrow_mut().push_back(now()));
    let result = api::refresh(current.refresh_token.clone()).await;
    release_lease();
    match result {
        // Compare-and-set: store the new pair only over the record it replaces, so a
        // sign-out (or another tab's newer pair) during the request is never undone.
        Ok(pair) => match token_store::load() {
            Some(stored) if stored.refresh_token == current.refresh_token => {
                let tokens = StoredTokens::from_pair(&pair);
                token_store::save(&tokens);
                Ok(tokens)
            }
            Some(newer) => Ok(newer),
            None => Err(AuthError::Unauthorized),
        },
        Err(AuthError::SessionEnded { reason }) => {
            // Another tab may have rotated the token while our request was out.
            match token_store::load() {
                Some(newer) if newer.refresh_token != current.refresh_token => Ok(newer),
                _ => Err(AuthError::SessionEnded { reason }),
            }
        }
        Err(error) => Err(error),
    }
}

/// If another tab holds the lease, waits (up to the lease) for the record to change.
async fn await_other_tab(before: &StoredTokens) -> Option<StoredTokens> {
    let lease: Lease = LocalStorage::get(LEASE_KEY).ok()?;
    let mine = TAB_ID.with(|id| *id == lease.tab);
    if mine || lease.until <= now() {
        return None;
    }
    while now() < lease.until {
        sleep(100.0).await;
        match token_store::load() {
            Some(tokens) if tokens.refresh_token != before.refresh_token => return Some(tokens),
            None => return None,
            _ => {}
        }
        // The other tab gave up (released its lease): stop waiting and refresh here.
        let still_held = LocalStorage::get::<Lease>(LEASE_KEY)
            .is_ok_and(|held| held.tab == lease.tab && held.until == lease.until);
        if !still_held {
            return None;
        }
    }
    None
}

fn take_lease() {
    let lease = Lease {
        tab: TAB_ID.with(Clone::clone),
        until: now() + LEASE_MS,
    };
    let _ = LocalStorage::set(LEASE_KEY, lease);
}

fn release_lease() {
    if let Ok(lease) = LocalStorage::get::<Lease>(LEASE_KEY) {
        if TAB_ID.with(|id| *id == lease.tab) {
            LocalStorage::delete(LEASE_KEY);
        }
    }
}

/// Keeps this tab under [`MAX_REFRESHES_PER_MINUTE`].
async fn wait_for_budget() {
    let wait = SENT.with(|sent| {
        let mut sent = sent.borrow_mut();
        let window_start = now() - 60_000.0;
        while sent.front().is_some_and(|t| *t < window_start) {
            sent.pop_front();
        }
        (sent.len() >= MAX_REFRESHES_PER_MINUTE)
            .then(|| sent.front().map(|t| t + 60_000.0 - now()))
            .flatten()
    });
    if let Some(ms) = wait {
        sleep(ms).await;
    }
}

/// Arms the preemptive timer for `tokens` (replacing any earlier one).
fn schedule(tokens: &StoredTokens) {
    // A little jitter so tabs that got the same pair do not all fire at once.
    let spread = (tokens.margin_ms() / 10.0).min(15_000.0);
    let at = tokens.refresh_due_at() - spread * js_sys::Math::random();
    arm_timer((at - now()).max(0.0));
}

/// Arms a retry after a transient failure: exponential backoff with jitter.
fn schedule_retry() {
    let failures = FAILURES.get().saturating_add(1);
    FAILURES.set(failures);
    arm_timer(backoff_ms(failures));
}

/// Cancels the timer (sign-out).
pub fn cancel_timer() {
    if let Some(handle) = TIMER.take() {
        handle.clear();
    }
}

fn arm_timer(delay_ms: f64) {
    cancel_timer();
    let handle = set_timeout_with_handle(
        || {
            TIMER.set(None);
            on_timer();
        },
        Duration::from_millis(delay_ms as u64),
    );
    if let Ok(handle) = handle {
        TIMER.set(Some(handle));
    }
}

/// The timer fired: refresh when due (or retrying), otherwise re-arm for the stored pair
/// (another tab may have refreshed in the meantime).
fn on_timer() {
    match token_store::load() {
        Some(tokens) if tokens.needs_refresh(now()) || FAILURES.get() > 0 => {
            leptos::task::spawn_local(async {
                let _ = refresh().await;
            });
        }
        Some(tokens) => schedule(&tokens),
        None => {}
    }
}

/// Retries right away (the browser says it is online again).
pub fn retry_now() {
    if FAILURES.get() > 0 {
        leptos::task::spawn_local(async {
            let _ = refresh().await;
        });
    }
}
