//! The one wrapper every protected server function goes through.

use super::{coordinator, reconnect, signals, token_store};
use crate::{actions::boxed, AuthError, CallError, CarriesCallError};
use futures::future::LocalBoxFuture;
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
    let used = fresh_tokens().await?;
    let result = match call().await {
        Err(error) if matches!(error.call_error(), Some(CallError::Answer(AuthError::Unauthorized))) => {
            ready_to_retry(used).await?;
            call().await
        }
        other => other,
    };
    // An app's own error is an answer from a reachable server, like a success.
    settle(match &result {
        Err(error) => error.call_error(),
        Ok(_) => None,
    });
    result
}

const UNAUTHORIZED: CallError = CallError::Answer(AuthError::Unauthorized);

// `authed` is generic, so it is compiled into the crate that calls it (the app). An async
// function's body is compiled into every crate that polls its future, so were the
// refresh awaited here directly, the app's bundle would carry a second copy of the whole
// refresh machinery (3.8 KB of gzip, measured). These plain functions box those futures
// where the library is compiled (`actions::boxed`): the app's copy of `authed` polls
// them through a vtable.

/// The access token to send, refreshed first when it is due.
#[inline(never)]
fn fresh_tokens() -> LocalBoxFuture<'static, Result<String, CallError>> {
    boxed(async { coordinator::fresh_tokens().await.map(|tokens| tokens.access_token) })
}

/// After an `unauthorized` answer to the access token `used`: refreshes, unless another
/// caller already has (the stored token is newer than the one sent).
#[inline(never)]
fn ready_to_retry(used: String) -> LocalBoxFuture<'static, Result<(), CallError>> {
    boxed(async move {
        let stored = token_store::load().ok_or(UNAUTHORIZED)?;
        if stored.access_token == used {
            coordinator::refresh().await?;
        }
        Ok(())
    })
}

/// What the call's outcome tells the client: the library's error (`None` for a success or
/// an app's own error) drives the session signals and the "reconnecting" indicator.
#[inline(never)]
fn settle(error: Option<&CallError>) {
    signals::observe(error);
    match error {
        None => reconnect::settled(),
        Some(error) if error.is_transient() => reconnect::start(),
        Some(_) => {}
    }
}
