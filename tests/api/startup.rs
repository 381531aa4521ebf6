//! Configuration is checked at start: bad values stop the server with a message that
//! names the variable; production refuses weak secrets and never logs links.

use crate::helpers::*;
use std::process::Command;

fn start_with(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stay-signed-in"));
    command
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "stay-signed-in");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn bad_values_stop_the_server_naming_the_variable() {
    for (name, value) in [
        ("ACCESS_TOKEN_TTL", "abc"),
        ("RATE_LIMIT_EMAIL", "lots"),
        ("REDIS_URL", "localhost"),
        ("APP_ENV", "staging"),
    ] {
        let (ok, stderr) = start_with(&[(name, value)]);
        assert!(!ok, "{name}={value} started");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

#[test]
fn production_refuses_a_missing_or_short_secret() {
    let (ok, stderr) = start_with(&[
        ("APP_ENV", "production"),
        ("SMTP_URL", "smtp://127.0.0.1:1"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    let (ok, stderr) = start_with(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", "short"),
        ("SMTP_URL", "smtp://127.0.0.1:1"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
}

#[tokio::test]
async fn production_has_no_outbox_and_logs_no_links() {
    let app = spawn_process_with(
        AppOptions::default()
            .with("APP_ENV", "production")
            .with("SMTP_URL", "smtp://127.0.0.1:1"),
    )
    .await;
    assert_eq!(app.request_link(&email()).await.status(), 200);
    let outbox = app.client.get(app.url("/dev/outbox")).send().await.unwrap();
    assert_eq!(outbox.status(), 404);
    let log = app.log();
    assert!(!log.contains("token="), "{log}");
    assert!(!log.contains(SHARED_SECRET));
}

#[tokio::test]
async fn development_says_its_secret_is_random() {
    let app = spawn_process_with(AppOptions::default().with("JWT_SECRET", "")).await;
    assert!(app.log().contains("random secret"), "{}", app.log());
}
