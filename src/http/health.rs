//! Probes for orchestrators and load balancers:
//!
//! - `GET /livez`: the process serves requests; no I/O, so a Redis outage never gets
//!   instances restarted (they stay up and answer 503 until the store is back);
//! - `GET /readyz`: the store answers too (503 otherwise): route traffic here;
//! - `GET /healthz`: the same as `/readyz` (kept for existing checks).

use super::AppState;
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;

/// Liveness: answers as long as the server serves.
pub async fn livez() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Readiness: pings the store (bounded by its command timeout, about a second).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.auth.service.store();
    match store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "store": store.kind() })),
        ),
        Err(error) => {
            let error = crate::auth::server::failure::Chain(&error);
            tracing::warn!(%error, "readiness check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store.kind() })),
            )
        }
    }
}
