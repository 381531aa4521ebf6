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

/// A random factor in `[1 - spread, 1 + spread]`, to keep tabs and clients apart.
pub fn jitter(spread: f64) -> f64 {
    1.0 + spread * (2.0 * js_sys::Math::random() - 1.0)
}
