//! A circuit breaker in front of Redis. A hung Redis (stopped, swapping, a network that
//! drops packets) makes every call wait the whole command timeout; while it lasts, new
//! requests keep arriving and each holds its connection and memory for that second.
//! After [`TRIP_AFTER`] calls in a row time out, the breaker opens: calls fail at once
//! (503 `unavailable`) for [`OPEN_FOR`]. Then calls go to Redis again; the first answer
//! closes the breaker, another run of timeouts opens it again. Nothing to configure, and
//! on the happy path it costs two relaxed atomic loads a call.

use std::{
    sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed},
    time::{Duration, Instant},
};

/// Timeouts in a row that open the breaker.
pub const TRIP_AFTER: u32 = 5;
/// How long an open breaker fails calls at once before letting them try again.
pub const OPEN_FOR: Duration = Duration::from_secs(2);

/// The breaker's state, shared by every thread's connection of one store.
pub struct Breaker {
    /// Calls in a row that timed out.
    timeouts_in_a_row: AtomicU32,
    /// While open: milliseconds after `origin` when calls may go through again (0:
    /// closed).
    open_until_ms: AtomicU64,
    origin: Instant,
}

/// The error of a call the open breaker refused.
#[derive(Debug, thiserror::Error)]
#[error("the session store timed out repeatedly; not asking it again for a moment")]
pub struct CircuitOpen;

impl Breaker {
    /// A closed breaker.
    pub fn new(origin: Instant) -> Self {
        Self {
            timeouts_in_a_row: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            origin,
        }
    }

    /// Whether a call may go to the store now (`now` is read only while open).
    pub fn allows(&self, now: impl FnOnce() -> Instant) -> bool {
        let until = self.open_until_ms.load(Relaxed);
        until == 0 || self.millis(now()) >= until
    }

    /// A call timed out at `now`: the last of [`TRIP_AFTER`] in a row opens the breaker.
    pub fn timed_out(&self, now: Instant) {
        let in_a_row = self.timeouts_in_a_row.fetch_add(1, Relaxed) + 1;
        if in_a_row >= TRIP_AFTER {
            let until = self.millis(now + OPEN_FOR).max(1);
            self.open_until_ms.store(until, Relaxed);
        }
    }

    /// The store answered (or failed in a way that is not a hang): closed again.
    pub fn answered(&self) {
        if self.timeouts_in_a_row.load(Relaxed) != 0 {
            self.timeouts_in_a_row.store(0, Relaxed);
        }
        if self.open_until_ms.load(Relaxed) != 0 {
            self.open_until_ms.store(0, Relaxed);
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_timeouts_in_a_row_and_lets_calls_through_after_a_while() {
        let start = Instant::now();
        let breaker = Breaker::new(start);
        for _ in 1..TRIP_AFTER {
            breaker.timed_out(start);
        }
        assert!(breaker.allows(|| start), "one timeout short of tripping");
        breaker.timed_out(start);
        assert!(!breaker.allows(|| start));
        assert!(!breaker.allows(|| start + OPEN_FOR - Duration::from_millis(1)));
        // After a while calls go through again; an answer closes it for good.
        assert!(breaker.allows(|| start + OPEN_FOR));
        breaker.answered();
        assert!(breaker.allows(|| start + OPEN_FOR));
        breaker.timed_out(start + OPEN_FOR);
        assert!(
            breaker.allows(|| start + OPEN_FOR),
            "the count started again"
        );
    }

    #[test]
    fn an_answer_between_timeouts_keeps_it_closed() {
        let start = Instant::now();
        let breaker = Breaker::new(start);
        for _ in 0..3 * TRIP_AFTER {
            breaker.timed_out(start);
            breaker.answered();
        }
        assert!(breaker.allows(|| start));
    }

    #[test]
    fn still_hung_after_the_pause_opens_it_again() {
        let start = Instant::now();
        let breaker = Breaker::new(start);
        for _ in 0..TRIP_AFTER {
            breaker.timed_out(start);
        }
        let later = start + OPEN_FOR;
        assert!(breaker.allows(|| later));
        breaker.timed_out(later);
        assert!(
            !breaker.allows(|| later),
            "the first timeout after the pause reopens it"
        );
    }
}
