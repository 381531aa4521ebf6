//! `GET /dev/outbox[?to=email]`: the development outbox as JSON (oldest first). The
//! route only exists outside production and without SMTP.

use super::AppState;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::IntoResponse,
    Json,
};
use serde::Deserialize;

/// Optional filter by recipient.
#[derive(Deserialize)]
pub struct OutboxQuery {
    to: Option<String>,
}

/// Lists the emails the development mailer "sent".
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<OutboxQuery>,
) -> impl IntoResponse {
    match &state.outbox {
        Some(outbox) => Json(outbox.messages(query.to.as_deref())).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
