//! `GET /api/v1/openapi.json`: the machine-readable contract of `/api/v1` (OpenAPI 3.1),
//! for clients that are not this app's browser bundle (mobile, CLI, fuzzers).
//!
//! The document is kept by hand in `openapi.json` beside this file; the HTTP tests
//! (`tests/api/openapi.rs`) fail when it and the server disagree (paths, error codes,
//! answer shapes), and `./scripts/test` fuzzes the server against it with schemathesis.

use axum::{http::header, response::IntoResponse};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// Serves [`DOCUMENT`].
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
