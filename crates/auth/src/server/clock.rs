//! Time as a parameter. The service asks its [`Clock`] for `now` instead of reading the
//! wall clock, so expiry, grace windows and rate windows are tested by moving a
//! [`ManualClock`] instead of waiting (as kanidm passes `ct: Duration`).

use super::store::Millis;
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Where the current time comes from.
pub trait Clock: Send + Sync + 'static {
    /// Unix time in milliseconds.
    fn now(&self) -> Millis;
}

/// The real wall clock: the one place in the server that reads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }
}

/// A clock that stands still until moved: tests share it with the service (clones see
/// the same time) and call [`ManualClock::advance`].
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `now` (Unix ms).
    pub fn at(now: Millis) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(now)),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::at(1_000);
        let seen_by_service = clock.clone();
        assert_eq!(seen_by_service.now(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(seen_by_service.now(), 3_000);
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(SystemClock.now() > 1_577_836_800_000);
    }
}
