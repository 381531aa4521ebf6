//! The one place server faults are logged: where a failure with a cause becomes the
//! flat wire error ([`AuthError`]), in [`ServiceError::into_answer`]. It is logged there
//! once, with its whole cause chain, and nowhere else: conversions (`?`) only wrap, and
//! the response layer only maps errors to statuses.

use super::store::StoreError;
use crate::AuthError;
use std::{error::Error, fmt};

/// Displays an error followed by its sources: `outer: inner: root`.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// What a service call fails with: a rule's answer, or a fault and its cause. Made with
/// `?` from either, silently; turned into the wire [`AuthError`] by
/// [`ServiceError::into_answer`], where a server function answers, and only there is a
/// fault logged (with its cause chain) and counted.
#[derive(Debug)]
pub enum ServiceError {
    /// A rule's answer (unauthorized, rate limited, bad input, …): nothing went wrong.
    Refused(AuthError),
    /// The session store failed.
    Store(StoreError),
    /// Something that should not happen did; `what` says what (a 500).
    Internal(&'static str),
}

impl From<AuthError> for ServiceError {
    fn from(answer: AuthError) -> Self {
        ServiceError::Refused(answer)
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        ServiceError::Store(error)
    }
}

impl ServiceError {
    /// The answer for the client; a fault is logged and counted here, once.
    pub fn into_answer(self) -> AuthError {
        match self {
            ServiceError::Refused(answer) => answer,
            ServiceError::Store(error @ (StoreError::Unavailable(_) | StoreError::TimedOut)) => {
                let kind = match error {
                    StoreError::TimedOut => "timeout",
                    _ => "unavailable",
                };
                super::counters::store_error(kind);
                tracing::warn!(error = %Chain(&error), "answering 503");
                AuthError::Unavailable
            }
            ServiceError::Store(error @ StoreError::Corrupt { .. }) => {
                super::counters::store_error("corrupt");
                tracing::error!(error = %Chain(&error), "answering 500");
                AuthError::Internal
            }
            ServiceError::Internal(what) => {
                tracing::error!(error = what, "answering 500");
                AuthError::Internal
            }
        }
    }
}

/// An unexpected fault outside the service (`what` says what): logged, answered 500.
pub fn internal(what: &'static str) -> AuthError {
    ServiceError::Internal(what).into_answer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_shows_every_cause() {
        let error =
            StoreError::corrupt_because("note", serde_json::from_str::<u8>("x").unwrap_err());
        let text = Chain(&error).to_string();
        assert!(text.starts_with("session store returned unreadable data: note: "));
        assert!(text.contains("expected value"), "{text}");
    }

    #[test]
    fn store_failures_keep_their_meaning_on_the_wire() {
        let answer = |error: StoreError| ServiceError::from(error).into_answer();
        assert_eq!(answer(StoreError::TimedOut), AuthError::Unavailable);
        assert_eq!(answer(StoreError::corrupt("x")), AuthError::Internal);
        let refused = ServiceError::from(AuthError::Unauthorized);
        assert_eq!(refused.into_answer(), AuthError::Unauthorized);
    }
}
