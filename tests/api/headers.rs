//! Security headers on every answer, and a page CSP that lets only the page's own
//! (nonce-carrying) scripts run.

use crate::helpers::*;
use reqwest::Response;

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

fn assert_common_headers(response: &Response) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(
        header(response, "cross-origin-opener-policy"),
        "same-origin"
    );
    assert_eq!(header(response, "cache-control"), "no-store");
    assert!(header(response, "content-security-policy").contains("frame-ancestors 'none'"));
}

#[redis_test]
async fn pages_allow_only_their_own_nonce_scripts() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for path in ["/", "/login", "/auth/verify?token=secret", "/no-such-page"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_common_headers(&response);
        let policy = header(&response, "content-security-policy").to_string();
        for directive in [
            "default-src 'self'",
            "'strict-dynamic'",
            "'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: no {directive} in {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_string();
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path}: no scripts");
        for script in scripts {
            let tag = script.split('>').next().unwrap();
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: <script{tag}>"
            );
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a nonce is never reused");
}

#[redis_test]
async fn api_answers_are_locked_down() {
    let app = spawn_app().await;
    let response = app.post("status", serde_json::json!({})).await;
    assert_common_headers(&response);
    assert_eq!(
        header(&response, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
}

#[redis_test]
async fn https_sites_ask_for_https_only() {
    let app =
        spawn_process_with(AppOptions::default().with("PUBLIC_URL", "https://app.example.com"))
            .await;
    let response = app.client.get(app.url("/livez")).send().await.unwrap();
    assert_eq!(
        header(&response, "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}
