//! The access log: one line per answer (status, latency) inside a request span (method,
//! path, request id), at `info`. Its layer costs a few microseconds a request even when
//! the lines are filtered out, so it is only added when `info` is on for it: an operator
//! who sets `RUST_LOG=warn` gets neither the lines nor their cost.

use axum::Router;
use tower_http::{
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
    LatencyUnit,
};

/// Whether the running subscriber would write access-log lines.
pub fn enabled() -> bool {
    tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::INFO)
}

/// `router` with the access log around it, when [`enabled`].
pub fn around<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    if !enabled() {
        return router;
    }
    router.layer(
        TraceLayer::new_for_http()
            // 5xx are logged where they arise (store outage: warn; internal: error).
            .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG))
            .on_response(
                DefaultOnResponse::new()
                    .level(tracing::Level::INFO)
                    .latency_unit(LatencyUnit::Micros),
            )
            .make_span_with(|request: &axum::extract::Request| {
                // The path only: query strings can hold sign-in tokens.
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    id
                )
            }),
    )
}
