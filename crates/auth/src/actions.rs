//! The browser actions pages call (sign in, sign out, protected calls). In the browser
//! these are the real client machinery (`auth/client`); during server rendering nothing
//! runs them (effects and event handlers only run after hydration), so the server build
//! gets inert versions.

use super::{state::AuthState, CallError, CarriesCallError, ServerStatus, TokenPair};
use std::future::Future;

// The actions below return their futures rather than being `async fn`s: an `async fn`
// here would wrap the client's future in one more state machine, compiled into the app
// at every call site (the app's bundle is measured to the byte).

/// Runs a protected server function with token refresh and one retry (see
/// `auth/client/call.rs`). Its error is [`CallError`], or an app's error that carries
/// one ([`AppError`](crate::AppError)).
pub fn authed<T, E, F, Fut>(call: F) -> impl Future<Output = Result<T, E>>
where
    E: CarriesCallError,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    #[cfg(feature = "hydrate")]
    {
        super::client::authed(call)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = call;
        std::future::ready(Err(CallError::from(super::AuthError::Unauthorized).into()))
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
pub fn verify(token: String) -> impl Future<Output = Result<TokenPair, CallError>> {
    #[cfg(feature = "hydrate")]
    {
        boxed(super::client::lifecycle::verify(token))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        super::api::verify(token)
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
pub fn sign_out() -> impl Future<Output = ()> {
    #[cfg(feature = "hydrate")]
    {
        boxed(super::client::lifecycle::sign_out())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::future::ready(())
    }
}

/// Ends every session of the person.
pub fn sign_out_everywhere() -> impl Future<Output = Result<(), CallError>> {
    #[cfg(feature = "hydrate")]
    {
        boxed(super::client::lifecycle::sign_out_everywhere())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::future::ready(Ok(()))
    }
}

/// The server's public status ([`api::status`](crate::api::status)): whether it answers
/// and its store is reachable. The same compiled call the client's reconnect probe makes,
/// so a page that shows it adds nothing to the bundle for it.
pub fn server_status() -> impl Future<Output = Result<ServerStatus, CallError>> {
    #[cfg(feature = "hydrate")]
    {
        boxed(super::api::status())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        super::api::status()
    }
}

/// The client's futures, boxed where the library is compiled. An async function's body is
/// compiled into every crate that polls its future: polled by the app directly, the
/// app's bundle would carry a second copy of sign-in, sign-out and the DPoP signing
/// behind them (and of the status call the reconnect probe makes). Boxed here, the app
/// polls them through a vtable (see `client/call.rs` for the same in `authed`).
#[cfg(feature = "hydrate")]
pub(crate) fn boxed<T>(
    future: impl Future<Output = T> + 'static,
) -> futures::future::LocalBoxFuture<'static, T> {
    Box::pin(future)
}
