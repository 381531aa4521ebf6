//! When the browser client may send a refresh, as a plain value: the preemptive timer's
//! jittered due time, backoff after a failure, the per-minute budget, the server's
//! `Retry-After`, and urgency (back online, tab visible). The time (local Unix ms) and
//! the randomness (a number in `[0, 1)`) are arguments, so every rule is a native unit
//! test; `coordinator.rs` keeps one [`RefreshPolicy`] and feeds it `Date.now()` and
//! `Math.random()`.

use super::stored_tokens::StoredTokens;
use std::collections::VecDeque;

/// Upper bound on refresh requests a tab sends per minute of steady failure.
pub const MAX_REFRESHES_PER_MINUTE: usize = 6;
/// The budget's window.
const MINUTE_MS: f64 = 60_000.0;
/// Longest wait between retries after transient failures.
const MAX_BACKOFF_MS: f64 = 30_000.0;
/// How far backoff waits are spread either way (±30 %).
const BACKOFF_SPREAD: f64 = 0.3;
/// Longest spread of the preemptive timer (it is also at most a tenth of the margin).
const MAX_DUE_SPREAD_MS: f64 = 15_000.0;

/// Wait before retry number `attempt` (1, 2, …): 1 s, 2 s, 4 s … 30 s, spread ±30 % by
/// `random` (in `[0, 1)`; 0.5 is the unspread wait).
pub fn backoff_ms(attempt: u32, random: f64) -> f64 {
    (500.0 * 2f64.powi(attempt.min(8) as i32)).min(MAX_BACKOFF_MS) * spread(BACKOFF_SPREAD, random)
}

/// A factor in `[1 - by, 1 + by]` chosen by `random`, to keep tabs and clients apart.
fn spread(by: f64, random: f64) -> f64 {
    1.0 + by * (2.0 * random - 1.0)
}

/// How long from `now` until the preemptive refresh of `tokens`: the due time moved
/// earlier by up to a tenth of the margin (at most 15 s) chosen by `random`, so tabs
/// holding the same pair spread out and the first one's new pair reaches the others
/// before they fire. Never negative.
pub fn preemptive_delay(tokens: &StoredTokens, now: f64, random: f64) -> f64 {
    let spread = (tokens.margin_ms() / 10.0).min(MAX_DUE_SPREAD_MS);
    (tokens.refresh_due_at() - spread * random - now).max(0.0)
}

/// The retry state of one tab.
#[derive(Debug, Default)]
pub struct RefreshPolicy {
    /// When the requests of the last minute went out.
    sent: VecDeque<f64>,
    /// Transient failures since the last working pair.
    failures: u32,
    /// No attempt before this (backoff after a failure); lifted by urgency.
    backoff_until: f64,
    /// No attempt before this (the server's `Retry-After`); always honoured.
    retry_after_until: f64,
    /// The next attempt ignores backoff and budget.
    urgent: bool,
}

impl RefreshPolicy {
    /// A refresh request went out at `now` (counted against the budget).
    pub fn sent(&mut self, now: f64) {
        self.sent.push_back(now);
    }

    /// A failed refresh is waiting for its retry.
    pub fn retry_pending(&self) -> bool {
        self.failures > 0
    }

    /// How long the server's `Retry-After` still forbids any attempt.
    pub fn retry_after_wait(&self, now: f64) -> f64 {
        (self.retry_after_until - now).max(0.0)
    }

    /// How long an attempt must still wait at `now` for the backoff and the budget (0:
    /// go). An urgent attempt goes at once, and uses the urgency up.
    pub fn wait(&mut self, now: f64) -> f64 {
        if std::mem::take(&mut self.urgent) {
            return 0.0;
        }
        (self.backoff_until - now)
            .max(self.budget_wait(now))
            .max(0.0)
    }

    /// How long until this tab may send again under [`MAX_REFRESHES_PER_MINUTE`].
    fn budget_wait(&mut self, now: f64) -> f64 {
        while self.sent.front().is_some_and(|t| *t < now - MINUTE_MS) {
            self.sent.pop_front();
        }
        if self.sent.len() < MAX_REFRESHES_PER_MINUTE {
            return 0.0;
        }
        self.sent.front().map_or(0.0, |t| t + MINUTE_MS - now)
    }

    /// A refresh failed for a transient reason at `now`, the server asking to wait
    /// `retry_after` seconds if it said so: the delay until the retry (jittered
    /// exponential backoff, never before `Retry-After`).
    pub fn failed(&mut self, retry_after: Option<u64>, now: f64, random: f64) -> f64 {
        self.failures = self.failures.saturating_add(1);
        let mut delay = backoff_ms(self.failures, random);
        if let Some(seconds) = retry_after {
            let retry_after_ms = seconds as f64 * 1000.0;
            self.retry_after_until = now + retry_after_ms;
            delay = delay.max(retry_after_ms);
        }
        self.backoff_until = now + delay;
        delay
    }

    /// Back online or visible again: the next attempt skips backoff and budget (they
    /// limit storms, not recovery); the server's `Retry-After` still holds.
    pub fn make_urgent(&mut self) {
        self.urgent = true;
        self.backoff_until = 0.0;
    }

    /// A working pair arrived, or the session is over: retries of the earlier pair are
    /// moot.
    pub fn forget_failures(&mut self) {
        self.failures = 0;
        self.backoff_until = 0.0;
        self.urgent = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenPair;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let waits: Vec<f64> = (1..=7).map(|attempt| backoff_ms(attempt, 0.5)).collect();
        assert_eq!(
            waits,
            [1_000.0, 2_000.0, 4_000.0, 8_000.0, 16_000.0, 30_000.0, 30_000.0]
        );
        assert_eq!(backoff_ms(u32::MAX, 0.5), 30_000.0);
    }

    #[test]
    fn backoff_is_spread_thirty_percent_either_way() {
        assert_eq!(backoff_ms(1, 0.0), 700.0);
        assert!((backoff_ms(1, 0.999_999) - 1_300.0).abs() < 0.01);
        assert_eq!(backoff_ms(6, 0.0), 21_000.0);
    }

    #[test]
    fn each_failure_waits_longer_until_a_working_pair_resets_it() {
        let mut policy = RefreshPolicy::default();
        assert_eq!(policy.failed(None, 0.0, 0.5), 1_000.0);
        assert_eq!(policy.failed(None, 1_000.0, 0.5), 2_000.0);
        assert!(policy.retry_pending());
        assert_eq!(policy.wait(1_500.0), 1_500.0);
        assert_eq!(policy.wait(3_000.0), 0.0);
        policy.forget_failures();
        assert!(!policy.retry_pending());
        assert_eq!(policy.failed(None, 10_000.0, 0.5), 1_000.0);
    }

    #[test]
    fn retry_after_holds_even_for_an_urgent_attempt() {
        let mut policy = RefreshPolicy::default();
        let delay = policy.failed(Some(10), 0.0, 0.5);
        assert_eq!(delay, 10_000.0, "never before Retry-After");
        policy.make_urgent();
        assert_eq!(policy.retry_after_wait(4_000.0), 6_000.0);
        assert_eq!(policy.retry_after_wait(10_000.0), 0.0);
    }

    #[test]
    fn a_long_backoff_wins_over_a_short_retry_after() {
        let mut policy = RefreshPolicy::default();
        for at in 0..5 {
            policy.failed(None, at as f64, 0.5);
        }
        assert_eq!(policy.failed(Some(1), 5.0, 0.5), 30_000.0);
    }

    #[test]
    fn at_most_six_requests_a_minute() {
        let mut policy = RefreshPolicy::default();
        for i in 0..MAX_REFRESHES_PER_MINUTE {
            assert_eq!(policy.wait(i as f64 * 1_000.0), 0.0);
            policy.sent(i as f64 * 1_000.0);
        }
        assert_eq!(
            policy.wait(10_000.0),
            50_000.0,
            "until the first leaves the window"
        );
        assert_eq!(policy.wait(60_000.0), 0.0);
    }

    #[test]
    fn urgency_skips_backoff_and_budget_once() {
        let mut policy = RefreshPolicy::default();
        for i in 0..MAX_REFRESHES_PER_MINUTE {
            policy.sent(i as f64);
        }
        policy.failed(None, 10.0, 0.5);
        assert!(policy.wait(20.0) > 0.0);
        policy.make_urgent();
        assert_eq!(policy.wait(20.0), 0.0);
        assert!(policy.wait(20.0) > 0.0, "the urgency is used up");
        assert!(policy.retry_pending(), "urgency is not success");
    }

    fn tokens(expires_in: u64, received_at: f64) -> StoredTokens {
        let pair = TokenPair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            token_type: "bearer".into(),
            expires_in,
            refresh_expires_in: 3_600,
            dpop_nonce: None,
        };
        StoredTokens::from_pair(&pair, received_at)
    }

    #[test]
    fn the_preemptive_timer_fires_up_to_fifteen_seconds_before_the_due_time() {
        let pair = tokens(1800, 0.0);
        assert_eq!(preemptive_delay(&pair, 0.0, 0.0), 1_500_000.0);
        assert_eq!(preemptive_delay(&pair, 0.0, 0.5), 1_492_500.0);
        assert!(preemptive_delay(&pair, 0.0, 0.999_999) > 1_485_000.0 - 0.1);
    }

    #[test]
    fn a_short_lifetime_spreads_a_tenth_of_its_margin() {
        let pair = tokens(12, 0.0);
        assert_eq!(preemptive_delay(&pair, 0.0, 0.0), 10_000.0);
        assert_eq!(preemptive_delay(&pair, 0.0, 0.5), 9_900.0);
    }

    #[test]
    fn a_pair_already_due_fires_at_once() {
        assert_eq!(preemptive_delay(&tokens(1800, 0.0), 5_000_000.0, 0.3), 0.0);
    }
}
