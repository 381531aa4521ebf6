//! The HTTP contract of `/api/v1`, enforced in one place around the server functions:
//!
//! - request: bodies are capped (16 KiB), must be a JSON object, and an empty body
//!   reads as `{}`, so calls without arguments need no body;
//! - the call: a server function registered at the path runs here (`server_fns.rs`);
//!   other paths go on to the router;
//! - response: an error's HTTP status is derived from its [`AuthError`] JSON (server_fn
//!   answers 500 for every error, even argument-decoding ones), `Retry-After` goes with
//!   429, `DPoP-Nonce` with every answer of the endpoints that take a DPoP proof, and
//!   nothing under `/api` is cached.

use super::server_fns;
pub use super::server_fns::AppContext;
use crate::server::{counters, dpop::DPOP_NONCE_HEADER, AuthContext};
use crate::{dpop_paths, AuthError};
use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures::future::{BoxFuture, Either};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use std::{
    collections::HashSet,
    convert::Infallible,
    sync::LazyLock,
    task::{Context, Poll},
    time::Instant,
};
use tower::{Layer, Service, ServiceExt};

/// The server functions' paths: the only `endpoint` label values (anything else counts
/// as `other`, so scanners cannot grow the metrics without bound).
static ENDPOINTS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect()
});

fn endpoint_label(path: &str) -> &'static str {
    ENDPOINTS.get(path).copied().unwrap_or("other")
}

/// Largest request body accepted by the API.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest error body read back for status mapping.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The layer that enforces the contract on `/api/`, runs the server functions there
/// (`server_fns.rs`) and counts those requests; other paths pass straight through. A
/// typed tower layer rather than `axum::middleware::from_fn`, which boxes the service
/// below it on every request.
#[derive(Clone)]
pub struct ApiContractLayer {
    context: AuthContext,
    app_context: AppContext,
}

impl ApiContractLayer {
    /// The layer whose server functions get auth's `context`, and whatever
    /// `app_context` provides for the app's own.
    pub fn new(context: AuthContext, app_context: AppContext) -> Self {
        Self {
            context,
            app_context,
        }
    }
}

impl<S> Layer<S> for ApiContractLayer {
    type Service = ApiContract<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiContract {
            inner,
            context: self.context.clone(),
            app_context: self.app_context.clone(),
        }
    }
}

/// The service [`ApiContractLayer`] wraps around the router.
#[derive(Clone)]
pub struct ApiContract<S> {
    inner: S,
    context: AuthContext,
    app_context: AppContext,
}

impl<S> Service<Request> for ApiContract<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !request.uri().path().starts_with("/api/") {
            return Either::Left(self.inner.call(request));
        }
        // The clone answers later: the request's body is read before it is called.
        let inner = self.inner.clone();
        let context = self.context.clone();
        let app_context = self.app_context.clone();
        Either::Right(Box::pin(async move {
            let started = Instant::now();
            let endpoint = endpoint_label(request.uri().path());
            let response = answer(request, inner, context, &app_context).await;
            counters::api_request(
                endpoint,
                response.status().as_u16(),
                started.elapsed().as_secs_f64(),
            );
            Ok(response)
        }))
    }
}

async fn answer<S>(
    request: Request,
    inner: S,
    context: AuthContext,
    app_context: &AppContext,
) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let takes_proofs = [dpop_paths::VERIFY, dpop_paths::REFRESH, dpop_paths::LOGOUT]
        .contains(&request.uri().path());
    let service = context.service.clone();
    let request = match normalise_body(request).await {
        Ok(request) => request,
        Err(error) => return error_response(&error),
    };
    // Paths that are no server function (the OpenAPI document, unknown ones) go on to
    // the router.
    let mut response = match server_fns::call(request, context, app_context).await {
        Ok(response) => response,
        Err(request) => {
            let Ok(response) = inner.oneshot(*request).await;
            response
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Every answer of an endpoint that takes a DPoP proof carries the nonce for the next
    // proof (RFC 9449 §8), errors too: `use_dpop_nonce` needs it.
    if takes_proofs {
        if let Ok(nonce) = HeaderValue::from_str(&service.dpop_nonce()) {
            response.headers_mut().insert(DPOP_NONCE_HEADER, nonce);
        }
    }
    if response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return with_error_status(response).await;
    }
    response
}

async fn normalise_body(request: Request) -> Result<Request, AuthError> {
    let (mut parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| AuthError::bad_request(format!("request body over {MAX_BODY_BYTES} bytes")))?;
    let first = bytes.iter().find(|byte| !is_json_whitespace(**byte));
    // `[]` would otherwise decode as the arguments of a call that takes none; whitespace
    // alone is no JSON text at all (RFC 8259), unlike a body that is not there.
    if !bytes.is_empty() && first != Some(&b'{') {
        return Err(AuthError::bad_request("the body must be a JSON object"));
    }
    let bytes = if bytes.is_empty() {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        axum::body::Bytes::from_static(b"{}")
    } else {
        bytes
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// JSON's whitespace (RFC 8259): space, tab, line feed, carriage return. Not the form
/// feed `u8::is_ascii_whitespace` also takes, which no JSON parser accepts.
fn is_json_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The answer of a function that failed: an [`AuthError`] gets the status that goes with
/// it; any other error is an app's own, passed through as its function answered it
/// (the status it set in `ResponseOptions`, else server_fn's 500).
async fn with_error_status(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let error = match to_bytes(body, MAX_ERROR_BYTES).await {
        Ok(bytes) => match AuthError::from_answer(&bytes) {
            Some(error) => error,
            None => return Response::from_parts(parts, Body::from(bytes)),
        },
        Err(_) => {
            tracing::error!(
                "server function failed with an error body over {MAX_ERROR_BYTES} bytes"
            );
            AuthError::Internal
        }
    };
    let mut response = error_response(&error);
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}

/// An API error as an axum handler's answer (the auth extractors' rejection).
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

/// The one error → response mapping: status from the variant, JSON body, `Retry-After`.
pub fn error_response(error: &AuthError) -> Response {
    // Pure: faults were logged once where they arose (`auth/server/failure.rs`).
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(error).unwrap_or_else(|_| br#"{"error":"internal"}"#.to_vec());
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(SERVER_FN_ERROR_HEADER, HeaderValue::from_static("api"));
    if let AuthError::RateLimited { retry_after } = error {
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// An app's own server function behind the layer: it reads the app's context, sets its
/// own status, and its own error reaches the caller as it answered it.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::context::memory_context;
    use leptos::prelude::*;
    use leptos::server_fn::{
        codec::{Json, JsonEncoding},
        error::{FromServerFnError, ServerFnErrorErr},
    };
    use serde::{Deserialize, Serialize};
    use std::sync::Arc;

    /// An app's error, with a code that is none of the API's.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct OutOfStock {
        error: String,
        item: u32,
    }

    impl FromServerFnError for OutOfStock {
        type Encoder = JsonEncoding;

        fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
            OutOfStock {
                error: value.to_string(),
                item: 0,
            }
        }
    }

    /// What the app provides to its own functions.
    #[derive(Clone)]
    struct Shelf(u32);

    #[server(prefix = "/api/test", endpoint = "buy", input = Json)]
    async fn buy(item: u32) -> Result<u32, OutOfStock> {
        let Shelf(stock) = expect_context::<Shelf>();
        if item < stock {
            return Ok(item);
        }
        expect_context::<leptos_axum::ResponseOptions>().set_status(StatusCode::CONFLICT);
        Err(OutOfStock {
            error: "out_of_stock".into(),
            item,
        })
    }

    /// The same for signed-in people only: the library's error beside the app's.
    #[server(prefix = "/api/test", endpoint = "reserve", input = Json)]
    async fn reserve(item: u32) -> Result<u32, crate::AppError<OutOfStock>> {
        crate::authenticated().await?;
        Ok(item)
    }

    async fn post(item: u32) -> (StatusCode, serde_json::Value) {
        post_to("/api/test/buy", item).await
    }

    async fn post_to(path: &str, item: u32) -> (StatusCode, serde_json::Value) {
        let context = memory_context(false);
        let app_context: AppContext = Arc::new(|| provide_context(Shelf(3)));
        let not_found = tower::service_fn(|_: Request| async {
            Ok::<_, Infallible>(StatusCode::NOT_FOUND.into_response())
        });
        let layered = ApiContractLayer::new(context, app_context).layer(not_found);
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(r#"{{"item":{item}}}"#)))
            .unwrap();
        let Ok(answer) = layered.oneshot(request).await;
        let status = answer.status();
        let body = to_bytes(answer.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn an_apps_function_answers_with_its_context_and_its_own_error_and_status() {
        assert_eq!(post(2).await, (StatusCode::OK, serde_json::json!(2)));
        assert_eq!(
            post(5).await,
            (
                StatusCode::CONFLICT,
                serde_json::json!({"error": "out_of_stock", "item": 5})
            )
        );
    }

    #[tokio::test]
    async fn an_app_error_answers_the_librarys_part_with_the_librarys_status() {
        assert_eq!(
            post_to("/api/test/reserve", 1).await,
            (
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"error": "unauthorized"})
            )
        );
    }
}
