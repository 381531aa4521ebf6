//! Headers that make the browser enforce what the server means: tokens live in
//! localStorage, so an injected script would be a stolen session, and the verify page
//! carries its token in the URL.
//!
//! - Pages get a Content-Security-Policy with a fresh nonce: only scripts carrying it
//!   (Leptos' hydration script, which then imports the bundle) run; nothing injected
//!   does. [`page_policy`] is called while each page renders.
//! - Every answer gets `nosniff`, `Referrer-Policy: no-referrer` (the verify URL never
//!   leaves as a Referer), `Cross-Origin-Opener-Policy`, framing forbidden, HSTS when
//!   `PUBLIC_URL` is https, a locked-down CSP when it has none (JSON, files), and
//!   `Cache-Control: no-store` on HTML.

use axum::{
    http::{header, HeaderMap, HeaderName, HeaderValue},
    response::Response,
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::sync::Arc;
use tower::util::MapResponseLayer;

/// The CSP of everything that is not a page: nothing may load or frame it.
const LOCKED_DOWN_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The CSP of a page whose scripts carry `nonce`. `'strict-dynamic'` lets the hydration
/// script import the bundle; `'wasm-unsafe-eval'` lets the bundle compile its wasm;
/// `connect_extra` adds sources for `fetch`/WebSocket (the watch-mode reload socket).
pub fn page_csp(nonce: &str, connect_extra: &str) -> String {
    format!(
        "default-src 'self'; \
         script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{connect_extra}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called while a page renders (the route context of the router): sets the page's CSP
/// with the nonce Leptos put on its scripts.
pub fn page_policy() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    // `cargo leptos watch` reloads the page over a WebSocket on another port.
    let connect_extra = if std::env::var_os("LEPTOS_WATCH").is_some() {
        " ws: wss:"
    } else {
        ""
    };
    if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce, connect_extra)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The layer that adds the headers to every answer, never replacing a page's own CSP.
/// A typed `map_response` rather than `axum::middleware::from_fn`, which boxes every
/// request's future and clones the router below it (docs/performance.md).
pub fn layer(public_url: &str) -> MapResponseLayer<impl Fn(Response) -> Response + Clone> {
    let always = Arc::new(always(public_url));
    MapResponseLayer::new(move |mut response: Response| {
        apply(&always, response.headers_mut());
        response
    })
}

/// The headers every answer gets; HSTS only when the site is served over https.
fn always(public_url: &str) -> HeaderMap {
    let mut always = HeaderMap::new();
    let mut set = |name: HeaderName, value: &'static str| {
        always.insert(name, HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(header::X_FRAME_OPTIONS, "DENY");
    if public_url.starts_with("https://") {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    always
}

fn apply(always: &HeaderMap, answer: &mut HeaderMap) {
    for (name, value) in always {
        answer.insert(name, value.clone());
    }
    let is_html = answer
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        // Pages hold per-person state; nothing in between may keep them.
        answer.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    answer
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(LOCKED_DOWN_POLICY));
}
