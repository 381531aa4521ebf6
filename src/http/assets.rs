//! How the browser bundle and other files go out: compressed, and cached for as long as
//! their names say.
//!
//! - Release builds are precompressed (`cargo leptos build --release --precompress`
//!   writes `.br` and `.gz` beside each file) and Leptos' file service picks the variant
//!   the browser accepts. Anything without a precompressed variant (a debug build, a
//!   file added by hand) is compressed here on the way out. Only files are: API answers
//!   hold tokens and are never compressed (no BREACH-style guessing through sizes).
//! - Names carrying a content hash (cargo-leptos `hash-files`: `name.<hash>.wasm`) never
//!   change content, so they are cached for a year, `immutable`; other files are
//!   revalidated on each use.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue, StatusCode, Version},
    middleware::Next,
    response::Response,
};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// The content types worth compressing: the bundle, styles, icons.
const COMPRESSIBLE: [&str; 5] = [
    "application/wasm",
    "text/javascript",
    "application/javascript",
    "text/css",
    "image/svg+xml",
];

/// Compression (brotli or gzip, as accepted) of file answers only.
pub fn compression() -> CompressionLayer<impl tower_http::compression::Predicate> {
    let files_only = |status: StatusCode, _: Version, headers: &HeaderMap, _: &http::Extensions| {
        status == StatusCode::OK
            && headers
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| COMPRESSIBLE.iter().any(|kind| value.starts_with(kind)))
    };
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        // Fast: release files come precompressed at the best level already.
        .quality(CompressionLevel::Fastest)
        .compress_when(files_only)
}

/// Whether a file name carries a cargo-leptos content hash (base64url MD5, 22 characters,
/// between dots: `stay-signed-in.Ab3…Xz.wasm`).
pub fn is_hashed(file_name: &str) -> bool {
    let parts: Vec<&str> = file_name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() == 22
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The middleware: `Cache-Control` for files under `/pkg/` by whether their name is hashed.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let file_name = request
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .map(|name| name.rsplit('/').next().unwrap_or(name).to_string());
    let mut response = next.run(request).await;
    if let Some(name) = file_name {
        if response.status() == StatusCode::OK {
            let policy = if is_hashed(&name) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("stay-signed-in.Qm9vYmFyYmF6cXV4MTIzNA.wasm"));
        assert!(is_hashed("stay-signed-in.Qm9vYmFyYmF6cXV4MTIzNA.js"));
        assert!(!is_hashed("stay-signed-in.wasm"));
        assert!(!is_hashed("stay-signed-in_bg.wasm"));
        assert!(!is_hashed("favicon.svg"));
    }
}
