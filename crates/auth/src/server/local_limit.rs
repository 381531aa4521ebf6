//! Fixed-window counters kept in this process, for a limit that guards load rather than
//! accounts (refresh and sign-out per client): counting costs no store round trip, so a
//! refresh stays one Redis script. Each server instance counts on its own; behind a load
//! balancer with N instances a client gets up to N times the limit, which is fine for a
//! generous guard against floods (the per-account limits stay in the store).
//!
//! Windows are aligned to their length, as in the store, and every subject shares them:
//! when the window moves on, all counts start over, so memory holds at most the clients
//! of one window.

use super::store::{FixedWindow, Millis, RateCount};
use std::{collections::HashMap, sync::Mutex};

/// Counts hits per subject in the current window.
#[derive(Default)]
pub struct LocalRateLimiter {
    current: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    index: u64,
    counts: HashMap<String, u64>,
}

impl LocalRateLimiter {
    /// Counts one hit of `subject` in the `window_ms` window containing `now`.
    pub fn hit(&self, subject: &str, window_ms: Millis, now: Millis) -> RateCount {
        let window = FixedWindow::containing(now, window_ms);
        // A poisoned lock only means another request panicked mid-count: keep counting.
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.index != window.index {
            current.index = window.index;
            current.counts.clear();
        }
        let count = match current.counts.get_mut(subject) {
            Some(count) => {
                *count += 1;
                *count
            }
            None => {
                current.counts.insert(subject.to_string(), 1);
                1
            }
        };
        window.count(count, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_subject_and_starts_over_with_the_next_window() {
        let limiter = LocalRateLimiter::default();
        let start = 60_000 * 1000;
        assert_eq!(limiter.hit("a", 60_000, start).count, 1);
        assert_eq!(limiter.hit("a", 60_000, start + 10).count, 2);
        assert_eq!(limiter.hit("b", 60_000, start + 20).count, 1);
        let third = limiter.hit("a", 60_000, start + 59_000);
        assert_eq!((third.count, third.reset_in_ms), (3, 1_000));
        assert_eq!(limiter.hit("a", 60_000, start + 60_000).count, 1);
        assert_eq!(limiter.hit("b", 60_000, start + 60_001).count, 1);
    }
}
