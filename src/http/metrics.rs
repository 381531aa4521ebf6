//! `GET /metrics` in the Prometheus text format, on its own listener (`METRICS_ADDR`),
//! so the public side never exposes it. Off unless configured: without a recorder the
//! counters in `auth/server/counters.rs` cost nothing.

use crate::auth::server::counters;
use axum::{routing::get, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Latency buckets of the API histogram (seconds): sub-millisecond to a few seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process-wide recorder (a process has one; a second server in the same process,
/// as in tests, shares it).
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder once and returns the handle that renders it.
pub fn recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(counters::names().api_duration.to_string()),
                    &LATENCY_BUCKETS,
                )
                .expect("the bucket list is not empty");
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is already global (only in tests): render ours anyway.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            counters::describe();
            handle
        })
        .clone()
}

/// The metrics listener's router.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    )
}
