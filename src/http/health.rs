//! `GET /healthz`: 200 with the store kind when the store answers, 503 when it does not.

use super::AppState;
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;

/// Pings the store (bounded by its command timeout, about a second).
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.auth.service.store();
    match store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "store": store.kind() })),
        ),
        Err(error) => {
            let error = crate::auth::server::failure::Chain(&error);
            tracing::warn!(%error, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store.kind() })),
            )
        }
    }
}
