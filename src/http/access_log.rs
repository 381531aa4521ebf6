//! The access log: one line per answer (status, latency) inside a request span (method,
//! path, request id), at `info`. Its layer costs a few microseconds a request even when
//! the lines are filtered out, so it is only added when `info` is on for it: an operator
//! who sets `RUST_LOG=warn` gets neither the lines nor their cost.

use axum::{
    body::Body,
    extract::Request,
    response::{IntoResponse, Response},
};
use tower::{
    layer::util::{Identity, Stack},
    util::MapResponseLayer,
    ServiceBuilder,
};
use tower_http::{
    classify::{
        NeverClassifyEos, ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier,
    },
    trace::{
        DefaultOnBodyChunk, DefaultOnEos, DefaultOnFailure, DefaultOnRequest, DefaultOnResponse,
        ResponseBody, TraceLayer,
    },
    LatencyUnit,
};
use tracing::Span;

/// Whether the running subscriber would write access-log lines.
pub fn enabled() -> bool {
    tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::INFO)
}

/// The access log, when [`enabled`]: one line per answer, with the path only (query
/// strings can hold sign-in tokens).
pub fn layer() -> Option<AccessLog> {
    enabled().then(|| {
        let trace = TraceLayer::new_for_http()
            // 5xx are logged where they arise (store outage: warn; internal: error).
            .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG))
            .on_response(
                DefaultOnResponse::new()
                    .level(tracing::Level::INFO)
                    .latency_unit(LatencyUnit::Micros),
            )
            .make_span_with(request_span as fn(&Request) -> Span);
        ServiceBuilder::new()
            .map_response(IntoResponse::into_response as fn(TracedResponse) -> Response)
            .layer(trace)
    })
}

/// The access log's layers, spelled out so the router's stack can hold them: the trace,
/// and its answer turned back into a plain [`Response`] (the same type as without it).
pub type AccessLog = ServiceBuilder<
    Stack<
        TraceLayer<
            SharedClassifier<ServerErrorsAsFailures>,
            fn(&Request) -> Span,
            DefaultOnRequest,
            DefaultOnResponse,
            DefaultOnBodyChunk,
            DefaultOnEos,
            DefaultOnFailure,
        >,
        Stack<MapResponseLayer<fn(TracedResponse) -> Response>, Identity>,
    >,
>;

/// What the trace answers: the body wrapped to see its end.
type TracedResponse =
    http::Response<ResponseBody<Body, NeverClassifyEos<ServerErrorsFailureClass>>>;

fn request_span(request: &Request) -> Span {
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
}
