//! The one place server faults are logged: where a failure with a cause becomes the
//! flat wire error ([`AuthError`]). It is logged here once, with its whole cause chain,
//! and nowhere else (the response layer only maps errors to statuses).

use super::store::StoreError;
use crate::auth::AuthError;
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

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) | StoreError::TimedOut => {
                let kind = match error {
                    StoreError::TimedOut => "timeout",
                    _ => "unavailable",
                };
                super::counters::store_error(kind);
                tracing::warn!(error = %Chain(&error), "answering 503");
                AuthError::Unavailable
            }
            StoreError::Corrupt { .. } => {
                super::counters::store_error("corrupt");
                tracing::error!(error = %Chain(&error), "answering 500");
                AuthError::Internal
            }
        }
    }
}

/// An unexpected fault without an error value of its own (500), described by `what`.
pub fn internal(what: &str) -> AuthError {
    tracing::error!(error = what, "answering 500");
    AuthError::Internal
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
        assert_eq!(
            AuthError::from(StoreError::TimedOut),
            AuthError::Unavailable
        );
        assert_eq!(
            AuthError::from(StoreError::corrupt("x")),
            AuthError::Internal
        );
    }
}
