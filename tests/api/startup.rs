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

#[tokio::test]
async fn json_logs_have_one_object_per_line_with_the_request_and_no_secrets() {
    let app = spawn_process_with(
        AppOptions::default()
            .with("LOG_FORMAT", "json")
            .with("APP_ENV", "production")
            .with("SMTP_URL", "smtp://127.0.0.1:1"),
    )
    .await;
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    assert_eq!(app.me("not-a-token").await.status(), 401);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let access = loop {
        let lines: Vec<serde_json::Value> = app
            .log()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        let found = lines
            .into_iter()
            .find(|line| line["span"]["path"] == "/api/v1/me" && line["fields"]["status"] == 401);
        if let Some(line) = found {
            break line;
        }
        assert!(std::time::Instant::now() < deadline, "{}", app.log());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(access["span"]["method"], "POST");
    assert!(
        access["span"]["id"]
            .as_str()
            .is_some_and(|id| id.len() >= 32),
        "{access}"
    );
    assert!(access["fields"]["latency"].is_string(), "{access}");
    let log = app.log();
    assert!(!log.contains(&email), "an email address reached the log");
    assert!(!log.contains("token="), "a link reached the log");
}

#[test]
fn an_unknown_log_format_stops_the_server_naming_the_variable() {
    let (ok, stderr) = start_with(&[("LOG_FORMAT", "yaml")]);
    assert!(!ok);
    assert!(stderr.contains("LOG_FORMAT"), "{stderr}");
}
