//! The server functions: the only door between browser and server, and a stable JSON
//! API under `/api/v1` for any other client (the contract is docs/api.md). Each
//! function is named like its endpoint.
//!
//! Protected functions use [`BearerClient`], which attaches the stored access token in
//! the browser; on the server they call `authenticate()` before doing anything, so a
//! call rejected with 401 changed nothing and is safe to retry.

// The `#[server]` macro makes a public struct of each function's arguments, whose fields
// cannot carry docs of their own: each is the argument of the same name documented on
// the function (and in docs/api.md).
#![allow(missing_docs)]

use super::{CallError, Done, LinkOwner, Me, ServerStatus, SessionInfo, SessionsPage, TokenPair};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

pub use super::bearer::BearerClient;
pub use super::dpop_client::DpopClient;

/// Server-side helpers shared by the functions below: reading the request (the HTTP
/// half of authentication lives here, not in the service).
#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::{AuthContext, AuthService, Authenticated, ClientInfo};
    use crate::{
        server::{caller, failure, failure::ServiceError},
        AuthError, CallError,
    };
    use http::request::Parts;
    use leptos::prelude::*;
    use std::sync::Arc;

    /// The wire answer for a service error: where a fault is logged, once.
    pub fn answer(error: ServiceError) -> CallError {
        error.into_answer().into()
    }

    /// What the server provided to the server functions.
    pub fn context() -> AuthContext {
        expect_context::<AuthContext>()
    }

    /// The auth service from the request's context.
    pub fn service() -> Arc<AuthService> {
        context().service
    }

    /// Reads the request's parts in place (a copy of them would clone every header and
    /// extension on every call).
    fn with_parts<T>(read: impl FnOnce(&Parts) -> T) -> Result<T, AuthError> {
        with_context::<Parts, _>(read).ok_or_else(|| failure::internal("request parts missing"))
    }

    /// The caller of this request: its address and User-Agent.
    pub fn client_info() -> Result<ClientInfo, AuthError> {
        with_parts(ClientInfo::from_parts)
    }

    /// The request's DPoP proof, if it has one.
    pub fn dpop_proof() -> Result<Option<String>, AuthError> {
        with_parts(|parts| {
            caller::dpop_proof(&parts.headers).map(|proof| proof.map(str::to_owned))
        })?
    }

    /// The authenticated caller, or 401 `unauthorized`.
    pub async fn authenticate() -> Result<(Arc<AuthService>, Authenticated), CallError> {
        let service = service();
        let authenticated = caller::authenticated_by(&service).await?;
        Ok((service, authenticated))
    }
}

/// `POST /api/v1/status`: public; the landing page calls it after hydration to show the
/// browser↔server path works.
#[server(prefix = "/api/v1", endpoint = "status", input = Json)]
pub async fn status() -> Result<ServerStatus, CallError> {
    let context = ssr::context();
    let store = context.service.store();
    Ok(ServerStatus {
        store: store.kind().to_string(),
        store_ok: store.ping().await.is_ok(),
        server_time: context.service.now(),
        dev_outbox: context.dev_outbox,
    })
}

/// `POST /api/v1/auth/magic-link {email}`: sends a sign-in link. The answer is the same
/// whether or not the address has an account.
#[server(prefix = "/api/v1", endpoint = "auth/magic-link", input = Json)]
pub async fn magic_link(email: String) -> Result<Done, CallError> {
    let client = ssr::client_info()?;
    ssr::service()
        .request_link(&email, &client)
        .await
        .map_err(ssr::answer)?;
    Ok(Done { ok: true })
}

/// `POST /api/v1/auth/link {token}`: the address a sign-in link signs in to, without
/// using the link (the verify page shows it before the person signs in).
#[server(prefix = "/api/v1", endpoint = "auth/link", input = Json)]
pub async fn link_account(token: String) -> Result<LinkOwner, CallError> {
    let email = ssr::service()
        .link_account(&token)
        .await
        .map_err(ssr::answer)?;
    Ok(LinkOwner { email })
}

/// `POST /api/v1/auth/verify {token}`: consumes a sign-in link once; returns a token pair.
#[server(prefix = "/api/v1", endpoint = "auth/verify", input = Json, client = DpopClient)]
pub async fn verify(token: String) -> Result<TokenPair, CallError> {
    let client = ssr::client_info()?;
    let proof = ssr::dpop_proof()?;
    let service = ssr::service();
    let pair = service
        .verify(&token, &client, proof.as_deref())
        .await
        .map_err(ssr::answer)?;
    Ok(with_dpop_nonce(&service, pair))
}

/// `POST /api/v1/auth/refresh {refresh_token}`: rotates the refresh token and extends
/// the session; returns the new pair.
#[server(prefix = "/api/v1", endpoint = "auth/refresh", input = Json, client = DpopClient)]
pub async fn refresh(refresh_token: String) -> Result<TokenPair, CallError> {
    let client = ssr::client_info()?;
    let proof = ssr::dpop_proof()?;
    let service = ssr::service();
    let pair = service
        .refresh(&refresh_token, &client, proof.as_deref())
        .await
        .map_err(ssr::answer)?;
    Ok(with_dpop_nonce(&service, pair))
}

/// `pair` with the server's current DPoP nonce, for the client's next proof.
#[cfg(feature = "ssr")]
fn with_dpop_nonce(service: &crate::server::AuthService, pair: TokenPair) -> TokenPair {
    TokenPair {
        dpop_nonce: Some(service.dpop_nonce()),
        ..pair
    }
}

/// `POST /api/v1/auth/logout {refresh_token}`: ends that session. Idempotent.
#[server(prefix = "/api/v1", endpoint = "auth/logout", input = Json, client = DpopClient)]
pub async fn logout(refresh_token: String) -> Result<Done, CallError> {
    let client = ssr::client_info()?;
    let proof = ssr::dpop_proof()?;
    ssr::service()
        .logout(&refresh_token, &client, proof.as_deref())
        .await
        .map_err(ssr::answer)?;
    Ok(Done { ok: true })
}

/// `POST /api/v1/auth/logout-all` (bearer): ends every session of the user.
#[server(prefix = "/api/v1", endpoint = "auth/logout-all", input = Json, client = BearerClient)]
pub async fn logout_all() -> Result<Done, CallError> {
    let (service, auth) = ssr::authenticate().await?;
    service.logout_all(&auth).await.map_err(ssr::answer)?;
    Ok(Done { ok: true })
}

/// `POST /api/v1/me` (bearer): the user and the current session.
#[server(name = MeCall, prefix = "/api/v1", endpoint = "me", input = Json, client = BearerClient)]
pub async fn me() -> Result<Me, CallError> {
    let (service, auth) = ssr::authenticate().await?;
    Ok(service.me(&auth))
}

/// `POST /api/v1/sessions {limit?, after?}` (bearer): one page of the user's sessions,
/// oldest first, the current one marked. `limit` is 1 to [`MAX_SESSIONS_PAGE`]
/// (default); `after` is the last session of the previous page.
///
/// [`MAX_SESSIONS_PAGE`]: super::MAX_SESSIONS_PAGE
#[server(prefix = "/api/v1", endpoint = "sessions", input = Json, client = BearerClient)]
pub async fn sessions(
    #[server(flatten)] page: SessionsPage,
) -> Result<Vec<SessionInfo>, CallError> {
    let (service, auth) = ssr::authenticate().await?;
    service.sessions(&auth, &page).await.map_err(ssr::answer)
}

/// `POST /api/v1/sessions/revoke {session_id}` (bearer): ends one of the user's sessions.
#[server(prefix = "/api/v1", endpoint = "sessions/revoke", input = Json, client = BearerClient)]
pub async fn revoke_session(session_id: String) -> Result<Done, CallError> {
    let (service, auth) = ssr::authenticate().await?;
    service
        .revoke(&auth, &session_id)
        .await
        .map_err(ssr::answer)?;
    Ok(Done { ok: true })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use leptos::server_fn::ServerFn;

    #[test]
    fn dpop_proofs_name_the_server_functions_paths() {
        use crate::dpop_paths;
        assert_eq!(dpop_paths::VERIFY, <Verify as ServerFn>::PATH);
        assert_eq!(dpop_paths::REFRESH, <Refresh as ServerFn>::PATH);
        assert_eq!(dpop_paths::LOGOUT, <Logout as ServerFn>::PATH);
    }
}
