//! Clock and timers in the browser. Everything reads `Date.now()` (which Playwright's
//! `page.clock` controls) and waits with `setTimeout`.

use futures::channel::oneshot;
use std::time::Duration;

/// Local time, Unix ms.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let (done, wait) = oneshot::channel::<()>();
    leptos::prelude::set_timeout(
        move || {
            let _ = done.send(());
        },
        Duration::from_millis(ms.max(0.0) as u64),
    );
    let _ = wait.await;
}

/// Longest wait between retries after transient failures.
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// Wait before retry number `attempt` (1, 2, …): 1 s, 2 s, 4 s … 30 s, ±30 % jitter.
pub fn backoff_ms(attempt: u32) -> f64 {
    (500.0 * 2f64.powi(attempt.min(8) as i32)).min(MAX_BACKOFF_MS) * jitter(0.3)
}

/// A random factor in `[1 - spread, 1 + spread]`, to keep tabs and clients apart.
pub fn jitter(spread: f64) -> f64 {
    1.0 + spread * (2.0 * js_sys::Math::random() - 1.0)
}
