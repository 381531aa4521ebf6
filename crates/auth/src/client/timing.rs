//! Clock, timers and randomness in the browser. Everything reads `Date.now()` (which
//! Playwright's `page.clock` controls) and waits with `setTimeout`.

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

/// A random number in `[0, 1)`, for the jitter of [`super::refresh_policy`].
pub fn random() -> f64 {
    js_sys::Math::random()
}
