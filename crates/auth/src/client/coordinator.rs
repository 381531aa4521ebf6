//! One refresh at a time, per tab and per browser.
//!
//! - Per tab: every caller that needs a fresh token awaits the same shared future, so
//!   many simultaneous requests cause one refresh request.
//! - Per browser: the request is sent inside [`browser_lock::exclusive`], after
//!   re-reading the stored pair there; a tab that finds a pair another tab just stored
//!   takes it instead of refreshing. The server answers a replayed previous token with
//!   the same successor, so a race the lock misses (or a lost reply) costs nothing.
//! - Triggers: the preemptive timer (at a due time moved earlier by a random jitter, so
//!   tabs do not fire together, and never re-armed before it is due), calls made inside
//!   the margin, 401s, a periodic check while the tab is visible (timers sleep with the
//!   laptop), the tab becoming visible, the browser coming back online.
//! - Failures: only `session_ended` signs out. Everything else keeps the tokens and
//!   retries with jittered exponential backoff, never before the server's `Retry-After`,
//!   at most [`MAX_REFRESHES_PER_MINUTE`]. Coming back online or becoming visible skips
//!   the backoff and the budget (they limit storms, not recovery).
//! - Every request has a timeout ([`REFRESH_TIMEOUT_MS`]); a stalled one is aborted.

use super::state::client;
use super::{
    browser_lock, dpop,
    refresh_policy::{preemptive_delay, RefreshPolicy},
    signals,
    timing::{now, random, sleep},
    token_store::{self, StoredTokens},
};
use crate::{api, dpop_paths, AuthError, CallError, EndReason};
use futures::{channel::oneshot, future::Either, FutureExt};
use leptos::prelude::set_timeout_with_handle;
use std::time::Duration;

/// A refresh request that has not answered by then is aborted (and retried later).
pub const REFRESH_TIMEOUT_MS: f64 = 10_000.0;

/// Refreshes now, or joins the refresh already in flight in this tab: every caller gets
/// the result of the same single request.
pub async fn refresh() -> Result<StoredTokens, CallError> {
    let (done, result) = oneshot::channel();
    let first = {
        let mut slot = client().in_flight.borrow_mut();
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
    };
    if first {
        leptos::task::spawn_local(async {
            let outcome = run_refresh().await;
            let waiters = client().in_flight.borrow_mut().take();
            for waiter in waiters.into_iter().flatten() {
                let _ = waiter.send(outcome.clone());
            }
        });
    }
    result.await.unwrap_or_else(|_| Err(interrupted()))
}

fn interrupted() -> CallError {
    CallError::network("refresh interrupted")
}

/// A token that is not inside the refresh margin: the stored one, or a refreshed one.
pub async fn fresh_tokens() -> Result<StoredTokens, CallError> {
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

/// Refreshes if the stored token is inside its margin (periodic check, tab visible,
/// back online) or a failed refresh awaits its retry.
pub fn refresh_if_due() {
    let Some(tokens) = token_store::load() else {
        return;
    };
    if tokens.needs_refresh(now()) || with_policy(|policy| policy.retry_pending()) {
        leptos::task::spawn_local(async {
            let _ = refresh().await;
        });
    }
}

fn with_policy<T>(use_it: impl FnOnce(&mut RefreshPolicy) -> T) -> T {
    use_it(&mut client().policy.borrow_mut())
}

/// The browser is back online or the tab became visible: whatever backoff or budget
/// say, the next attempt goes now (the server's `Retry-After` still holds).
pub fn retry_now() {
    with_policy(RefreshPolicy::make_urgent);
    for waker in std::mem::take(&mut *client().wakers.borrow_mut()) {
        let _ = waker.send(());
    }
    refresh_if_due();
}

/// Takes `tokens` as current (own refresh, sign-in, or another tab's): timer and page.
/// Retries of an earlier pair are moot: a working pair is here.
pub fn adopt(tokens: &StoredTokens) {
    forget_failures();
    schedule(tokens);
    signals::show_signed_in(tokens);
    signals::mark_online();
}

/// Clears the retry state (a working pair arrived, or the session is over).
fn forget_failures() {
    with_policy(RefreshPolicy::forget_failures);
}

async fn run_refresh() -> Result<StoredTokens, CallError> {
    let result = attempt().await;
    match &result {
        Ok(tokens) => adopt(tokens),
        Err(CallError::Answer(AuthError::SessionEnded { .. })) => cancel_timer(),
        Err(error) if error.is_transient() => schedule_retry(error),
        Err(_) => {}
    }
    signals::observe(result.as_ref().err());
    result
}

async fn attempt() -> Result<StoredTokens, CallError> {
    let before = token_store::load().ok_or(AuthError::Unauthorized)?;
    wait_until_allowed().await;
    browser_lock::exclusive(move || async move {
        // Inside the lock: another tab may have refreshed while this one waited.
        let current = token_store::load().ok_or(AuthError::Unauthorized)?;
        if current.refresh_token != before.refresh_token && !current.needs_refresh(now()) {
            return Ok(current);
        }
        send(current).await
    })
    .await
    .unwrap_or_else(|| Err(interrupted()))
}

/// One refresh request under the timeout, and the compare-and-set store of its answer.
async fn send(current: StoredTokens) -> Result<StoredTokens, CallError> {
    with_policy(|policy| policy.sent(now()));
    let token = current.refresh_token.clone();
    let request = dpop::with_proof(dpop_paths::REFRESH, dpop::WhenKeyIsSlow::Retry, move || {
        api::refresh(token.clone())
    })
    .boxed_local();
    let timeout = sleep(REFRESH_TIMEOUT_MS).boxed_local();
    // Dropping the request future on timeout aborts its fetch.
    let result = match futures::future::select(request, timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(CallError::network("refresh timed out")),
    };
    match result {
        // Compare-and-set: store the new pair only over the record it replaces, so a
        // sign-out (or another tab's newer pair) during the request is never undone.
        Ok(pair) => {
            dpop::remember_nonce_of(&pair);
            match token_store::load() {
                Some(stored) if stored.refresh_token == current.refresh_token => {
                    Ok(token_store::save(StoredTokens::from_pair(&pair, now())))
                }
                Some(newer) => Ok(newer),
                None => Err(AuthError::Unauthorized.into()),
            }
        }
        // The session is bound to a key this browser does not hold (a copied record, or
        // storage cleared): it can never be refreshed here, so it is over here.
        Err(CallError::Answer(AuthError::InvalidDpopProof)) => Err(AuthError::SessionEnded {
            reason: EndReason::Invalid,
        }
        .into()),
        Err(
            error @ CallError::Answer(AuthError::SessionEnded { .. } | AuthError::RefreshSuperseded),
        ) => {
            // Another tab may have rotated the token while our request was out.
            match token_store::load() {
                Some(newer) if newer.refresh_token != current.refresh_token => Ok(newer),
                _ => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

/// Waits for the server's `Retry-After`, then (unless [`retry_now`] made this attempt
/// urgent) for the backoff and the per-minute budget.
async fn wait_until_allowed() {
    let hard = with_policy(|policy| policy.retry_after_wait(now()));
    if hard > 0.0 {
        sleep(hard).await;
    }
    loop {
        let wait = with_policy(|policy| policy.wait(now()));
        if wait <= 0.0 {
            return;
        }
        let (wake, woken) = oneshot::channel();
        client().wakers.borrow_mut().push(wake);
        futures::future::select(sleep(wait).boxed_local(), woken).await;
    }
}

/// Arms the preemptive timer for `tokens` (replacing any earlier one), jittered so tabs
/// holding the same pair spread out.
fn schedule(tokens: &StoredTokens) {
    *client().scheduled_for.borrow_mut() = Some(tokens.refresh_token.clone());
    arm_timer(preemptive_delay(tokens, now(), random()));
}

/// Arms a retry after a transient failure: jittered exponential backoff, and never
/// before the server's `Retry-After`.
fn schedule_retry(error: &CallError) {
    let retry_after = match error {
        CallError::Answer(AuthError::RateLimited { retry_after }) => Some(*retry_after),
        _ => None,
    };
    arm_timer(with_policy(|policy| {
        policy.failed(retry_after, now(), random())
    }));
}

/// Cancels the timer and any pending retry (sign-out, session over).
pub fn cancel_timer() {
    forget_failures();
    clear_timer();
}

fn clear_timer() {
    if let Some(handle) = client().refresh_timer.take() {
        handle.clear();
    }
}

fn arm_timer(delay_ms: f64) {
    clear_timer();
    let handle = set_timeout_with_handle(
        || {
            client().refresh_timer.set(None);
            on_timer();
        },
        Duration::from_millis(delay_ms as u64),
    );
    if let Ok(handle) = handle {
        client().refresh_timer.set(Some(handle));
    }
}

/// The timer fired at its (jittered) due time or for a retry: refresh. If another tab
/// stored a different pair meanwhile, arm for that pair instead.
fn on_timer() {
    let Some(tokens) = token_store::load() else {
        return;
    };
    let same_pair =
        client().scheduled_for.borrow().as_deref() == Some(tokens.refresh_token.as_str());
    if same_pair || with_policy(|policy| policy.retry_pending()) || tokens.needs_refresh(now()) {
        leptos::task::spawn_local(async {
            let _ = refresh().await;
        });
    } else {
        schedule(&tokens);
    }
}
