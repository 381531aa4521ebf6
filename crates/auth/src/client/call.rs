//! The one wrapper every protected server function goes through.

use super::{coordinator, reconnect, signals, token_store};
use crate::{AuthError, CallError, CarriesCallError};
use std::future::Future;

/// Runs a protected call with a fresh bearer token (the bearer client reads it from the
/// token store). On `unauthorized` it retries once: with a token another caller already
/// refreshed, or after awaiting the shared refresh. Only `session_ended` signs out;
/// transient failures flip the "reconnecting" indicator and keep the session. The
/// call's error is the library's [`CallError`] or an app's error that carries one.
pub async fn authed<T, E, F, Fut>(call: F) -> Result<T, E>
where
    E: CarriesCallError,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let used = coordinator::fresh_tokens().await?;
    let unauthorized = CallError::Answer(AuthError::Unauthorized);
    let result = match call().await {
        Err(error) if error.call_error() == Some(&unauthorized) => {
            let stored = token_store::load().ok_or(unauthorized)?;
            if stored.access_token == used.access_token {
                coordinator::refresh().await?;
            }
            call().await
        }
        other => other,
    };
    // An app's own error is an answer from a reachable server, like a success.
    let seen = match &result {
        Err(error) => error.call_error().map_or(Ok(()), |error| Err(error.clone())),
        Ok(_) => Ok(()),
    };
    signals::observe(&seen);
    match &seen {
        Ok(()) => reconnect::settled(),
        Err(error) if error.is_transient() => reconnect::start(),
        Err(_) => {}
    }
    result
}
