//! The one wrapper every protected server function goes through.

use super::{coordinator, reconnect, signals, token_store};
use crate::{AuthError, CallError};
use std::future::Future;

/// Runs a protected call with a fresh bearer token (the bearer client reads it from the
/// token store). On `unauthorized` it retries once: with a token another caller already
/// refreshed, or after awaiting the shared refresh. Only `session_ended` signs out;
/// transient failures flip the "reconnecting" indicator and keep the session.
pub async fn authed<T, F, Fut>(call: F) -> Result<T, CallError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, CallError>>,
{
    let used = coordinator::fresh_tokens().await?;
    let result = match call().await {
        Err(CallError::Answer(AuthError::Unauthorized)) => {
            let stored = token_store::load().ok_or(AuthError::Unauthorized)?;
            if stored.access_token == used.access_token {
                coordinator::refresh().await?;
            }
            call().await
        }
        other => other,
    };
    signals::observe(&result);
    match &result {
        Ok(_) => reconnect::settled(),
        Err(error) if error.is_transient() => reconnect::start(),
        Err(_) => {}
    }
    result
}
