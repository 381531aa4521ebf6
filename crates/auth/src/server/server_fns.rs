//! Runs the server functions for the API layer: the function registered at the
//! request's path and method, in a reactive owner that provides what they read (the
//! request's [`Parts`], the [`AuthContext`], and what the app's own functions read:
//! [`AppContext`]).
//!
//! leptos_axum's handler does the same and more that API calls never use: the whole
//! `AppState` and a `ResponseOptions` as context, the page context closure, a redirect
//! for HTML forms (the API layer refuses bodies that are not JSON objects), and a
//! registry lookup that allocates its key, takes a process-wide lock and boxes a new
//! service on every call. Here each thread keeps the services it has used.

use crate::server::AuthContext;
use axum::{
    body::Body,
    extract::Request,
    http::{header, request::Parts},
    response::Response,
};
use leptos::{
    prelude::{provide_context, Owner, ScopedFuture},
    server_fn::{axum::get_server_fn_service, middleware::BoxedService},
};
use leptos_axum::ResponseOptions;
use std::{cell::RefCell, collections::HashMap, future::Future, pin::Pin};

type Service = BoxedService<Request, Response>;

/// Provides the app's own context (its services) to a server function, beside auth's:
/// called inside the function's reactive owner, before it runs.
pub type AppContext = std::sync::Arc<dyn Fn() + Send + Sync>;
type Answer = Pin<Box<dyn Future<Output = Response> + Send>>;

thread_local! {
    /// This thread's services by path, each with its method: only registered functions,
    /// so unknown paths cannot grow it.
    static SERVICES: RefCell<HashMap<String, (axum::http::Method, Service)>> =
        RefCell::new(HashMap::new());
}

/// The answer of the server function registered at the request's path and method, or
/// the request back when there is none (the router then answers 404 or 405).
///
/// A function may set its answer's status and headers through leptos_axum's
/// [`ResponseOptions`] in its context, as under leptos_axum's own handler: an app's
/// function answering its own error with its own status, say.
pub async fn call(
    request: Request,
    context: AuthContext,
    app_context: &AppContext,
) -> Result<Response, Box<Request>> {
    let owner = Owner::new();
    let options = ResponseOptions::default();
    let answer = owner.with(|| {
        start(request).map(|(parts, answer)| {
            provide_context::<Parts>(parts);
            provide_context(context);
            provide_context(options.clone());
            app_context();
            ScopedFuture::new(answer)
        })
    })?;
    let mut response = answer.await;
    let set = std::mem::take(&mut *options.0.write().unwrap_or_else(|e| e.into_inner()));
    if let Some(status) = set.status {
        *response.status_mut() = status;
    }
    response.headers_mut().extend(set.headers);
    Ok(response)
}

/// The function's answer, not yet run, and the request's parts for the context.
fn start(request: Request) -> Result<(Parts, Answer), Box<Request>> {
    SERVICES.with_borrow_mut(|services| {
        let path = request.uri().path();
        if !services.contains_key(path) {
            let Some(service) = get_server_fn_service(path, request.method().clone()) else {
                return Err(Box::new(request));
            };
            services.insert(path.to_owned(), (request.method().clone(), service));
        }
        match services.get_mut(path) {
            Some((method, service)) if method == request.method() => {
                let (parts, body) = request.into_parts();
                let answer = service.run(what_server_fn_reads(&parts, body));
                Ok((parts, answer))
            }
            _ => Err(Box::new(request)),
        }
    })
}

/// The request as server_fn reads it: the body, and the headers it looks at (the body's
/// type, and `Accept` and `Referer` for its redirect of HTML forms). Our functions read
/// everything else from the [`Parts`] in their context, so the parts are not copied.
fn what_server_fn_reads(parts: &Parts, body: Body) -> Request {
    let mut request = Request::new(body);
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    for name in [header::CONTENT_TYPE, header::ACCEPT, header::REFERER] {
        if let Some(value) = parts.headers.get(&name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    request
}

/// What this module relies on in server_fn outside its documented surface (and why the
/// dependency is pinned exactly): a registered function is found by its path and
/// method, runs on the request as [`what_server_fn_reads`] hands it over, and answers;
/// anything else comes back to the caller.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::{server::context::memory_context, ServerStatus};
    use std::sync::Arc;

    fn context() -> AuthContext {
        memory_context(true)
    }

    fn request(method: &str, path: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    }

    #[tokio::test]
    async fn a_registered_function_is_found_by_path_and_method_and_answers() {
        let provided = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let app_context: AppContext = {
            let provided = provided.clone();
            Arc::new(move || {
                provided.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
        };
        for _ in 0..2 {
            let answer = call(request("POST", "/api/v1/status"), context(), &app_context)
                .await
                .unwrap_or_else(|_| panic!("status is registered at POST /api/v1/status"));
            assert_eq!(answer.status(), 200);
            let body = axum::body::to_bytes(answer.into_body(), 1 << 16)
                .await
                .unwrap();
            let status: ServerStatus = serde_json::from_slice(&body).unwrap();
            assert_eq!((status.store.as_str(), status.dev_outbox), ("memory", true));
        }
        assert_eq!(provided.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn other_paths_and_methods_come_back_to_the_caller() {
        let app_context: AppContext = Arc::new(|| {});
        for (method, path) in [("GET", "/api/v1/status"), ("POST", "/api/v1/no-such")] {
            let back = call(request(method, path), context(), &app_context).await;
            let back = back.expect_err("no function answers there");
            assert_eq!((back.method().as_str(), back.uri().path()), (method, path));
        }
    }
}
