//! Files go out compressed as the browser accepts (precompressed variants as they are,
//! others compressed on the way), cached for good when their name carries a content hash;
//! API answers are never compressed.

use crate::helpers::*;
use std::path::PathBuf;

const HASHED_WASM: &str = "stay-signed-in.AbCdEfGhIjKlMnOpQrStUv.wasm";

/// A site root of the test's own: a hashed "bundle", a plain stylesheet, and a file with
/// a precompressed brotli variant.
fn site_root() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "site-{}",
        stay_signed_in::auth::server::random_id()
    ));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let compressible = "(module (func $answer (result i32) i32.const 42))\n".repeat(400);
    std::fs::write(pkg.join(HASHED_WASM), &compressible).unwrap();
    std::fs::write(
        pkg.join("stay-signed-in.css"),
        "body { color: black; }\n".repeat(200),
    )
    .unwrap();
    std::fs::write(pkg.join("pre.js"), "console.log('plain');\n".repeat(100)).unwrap();
    std::fs::write(pkg.join("pre.js.br"), b"precompressed bytes").unwrap();
    root
}

async fn get(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept-encoding", accept)
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

#[redis_test]
async fn files_are_compressed_and_cached_by_their_names() {
    let root = site_root();
    let app =
        spawn_process_with(AppOptions::default().with("LEPTOS_SITE_ROOT", root.to_str().unwrap()))
            .await;

    let wasm = get(&app, &format!("/pkg/{HASHED_WASM}"), "br, gzip").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(&wasm, "content-encoding"), Some("br"));
    assert_eq!(
        header(&wasm, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let raw = std::fs::metadata(root.join("pkg").join(HASHED_WASM))
        .unwrap()
        .len();
    assert!((wasm.bytes().await.unwrap().len() as u64) < raw / 4);

    let css = get(&app, "/pkg/stay-signed-in.css", "gzip").await;
    assert_eq!(header(&css, "content-encoding"), Some("gzip"));
    assert_eq!(header(&css, "cache-control"), Some("no-cache"));

    let plain = get(&app, "/pkg/stay-signed-in.css", "identity").await;
    assert_eq!(header(&plain, "content-encoding"), None);

    let precompressed = get(&app, "/pkg/pre.js", "br").await;
    assert_eq!(header(&precompressed, "content-encoding"), Some("br"));
    assert_eq!(
        precompressed.bytes().await.unwrap().as_ref(),
        b"precompressed bytes"
    );
}

#[redis_test]
async fn api_answers_are_never_compressed() {
    let app = spawn_app().await;
    let pair = app.sign_in(&email()).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("accept-encoding", "br, gzip")
        .json(&serde_json::json!({ "refresh_token": pair.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), None);
}
