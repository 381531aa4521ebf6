//! The browser actions pages call (sign in, sign out, protected calls). In the browser
//! these are the real client machinery (`auth/client`); during server rendering nothing
//! runs them (effects and event handlers only run after hydration), so the server build
//! gets inert versions.

use super::{state::AuthState, CallError, CarriesCallError, TokenPair};
use std::future::Future;

/// Runs a protected server function with token refresh and one retry (see
/// `auth/client/call.rs`). Its error is [`CallError`], or an app's error that carries
/// one ([`AppError`](crate::AppError)).
pub async fn authed<T, E, F, Fut>(call: F) -> Result<T, E>
where
    E: CarriesCallError,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    #[cfg(feature = "hydrate")]
    {
        super::client::authed(call).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = call;
        Err(CallError::from(super::AuthError::Unauthorized).into())
    }
}

/// Starts the client machinery once the page is hydrated.
pub fn start(state: AuthState) {
    #[cfg(feature = "hydrate")]
    super::client::lifecycle::start(state);
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

/// Uses a sign-in link: in the browser with a DPoP proof (a session bound to this
/// browser's key where it can keep one).
pub async fn verify(token: String) -> Result<TokenPair, CallError> {
    #[cfg(feature = "hydrate")]
    {
        super::client::lifecycle::verify(token).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        super::api::verify(token).await
    }
}

/// Keeps the pair returned by sign-in.
pub fn signed_in(pair: &TokenPair) {
    #[cfg(feature = "hydrate")]
    super::client::lifecycle::signed_in(pair);
    #[cfg(not(feature = "hydrate"))]
    let _ = pair;
}

/// Signs out this browser (all its tabs) and ends the session on the server.
pub async fn sign_out() {
    #[cfg(feature = "hydrate")]
    super::client::lifecycle::sign_out().await;
}

/// Ends every session of the person.
pub async fn sign_out_everywhere() -> Result<(), CallError> {
    #[cfg(feature = "hydrate")]
    {
        super::client::lifecycle::sign_out_everywhere().await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Ok(())
    }
}
