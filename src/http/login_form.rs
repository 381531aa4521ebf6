//! `POST /login`: the sign-in form without JavaScript. Someone who types fast on a slow
//! line presses Enter before the wasm has loaded; the browser then posts the form
//! natively, and this answers it the way the page would: the link is requested and the
//! person lands on the "check your email" page (or the form, with the problem named).

use super::AppState;
use crate::{
    auth::{
        server::{failure::ServiceError, ClientInfo},
        AuthError,
    },
    components::guard::{safe_next, urlencode},
};
use axum::{extract::State, response::Redirect, Form};
use serde::Deserialize;

/// The fields of the sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

/// Requests the link, then 303 to `/login?sent=1` (or `?error=…`), keeping `next`.
pub async fn submit(
    State(state): State<AppState>,
    client: ClientInfo,
    Form(form): Form<SignInForm>,
) -> Redirect {
    let requested = state.auth.service.request_link(&form.email, &client).await;
    let outcome = match requested.map_err(ServiceError::into_answer) {
        Ok(()) => "sent=1".to_string(),
        Err(AuthError::BadRequest { .. }) => "error=email".to_string(),
        Err(AuthError::RateLimited { retry_after }) => {
            format!("error=rate_limited&retry_after={retry_after}")
        }
        Err(_) => "error=unavailable".to_string(),
    };
    let next = safe_next(Some(form.next));
    Redirect::to(&format!("/login?{outcome}&next={}", urlencode(&next)))
}
