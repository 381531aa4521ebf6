//! Configuration is checked at start: bad values stop the server with a message that
//! names the variable; production refuses weak secrets and never logs links.

use crate::helpers::*;
use std::process::Command;
use test_support::redis_server::RedisServer;

/// Starts the server binary with `env`: whether it started (a server still running
/// after 10 s has, and is stopped), and what it wrote to stderr.
fn start_with(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stay-signed-in"));
    command
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "stay-signed-in")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let started = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            break true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    (started, String::from_utf8_lossy(&output.stderr).to_string())
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
fn without_app_env_only_a_loopback_listener_starts() {
    // Development mode (outbox, links in the log) on an address others can reach.
    let (ok, stderr) = start_with(&[("LEPTOS_SITE_ADDR", "0.0.0.0:0")]);
    assert!(!ok, "0.0.0.0 started without APP_ENV");
    assert!(
        stderr.contains("APP_ENV=production"),
        "names the fix: {stderr}"
    );
    // Saying so explicitly is allowed (the check is on the listener, not the mode).
    let (ok, stderr) = start_with(&[
        ("LEPTOS_SITE_ADDR", "0.0.0.0:0"),
        ("APP_ENV", "development"),
    ]);
    assert!(ok, "APP_ENV=development on 0.0.0.0 refused: {stderr}");
}

/// Settings production accepts; each refusal test breaks one of them.
const PRODUCTION: [(&str, &str); 5] = [
    ("APP_ENV", "production"),
    ("JWT_SECRET", SHARED_SECRET),
    ("REDIS_URL", "redis://127.0.0.1:1"),
    ("PUBLIC_URL", "https://app.example.com"),
    ("SMTP_URL", "smtps://mailer:pw@smtp.example.com"),
];

#[test]
fn production_refuses_to_start_naming_the_variable_and_the_fix() {
    for (name, value, fix) in [
        ("JWT_SECRET", "", "required"),
        ("JWT_SECRET", "short", "at least 32 bytes"),
        ("JWT_SECRET", &"x".repeat(40), "openssl rand"),
        // 32 base64 characters hold 192 bits: too few for a 256-bit key.
        ("JWT_SECRET", "Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeU", "256 bits"),
        ("REDIS_URL", "", "set REDIS_URL"),
        ("PUBLIC_URL", "http://app.example.com", "https"),
        (
            "SMTP_URL",
            "smtp://mailer:pw@smtp.example.com",
            "tls=required",
        ),
    ] {
        let env: Vec<(&str, &str)> = PRODUCTION
            .iter()
            .filter(|(known, _)| *known != name)
            .copied()
            .chain((!value.is_empty()).then_some((name, value)))
            .collect();
        let (ok, stderr) = start_with(&env);
        assert!(!ok, "{name}={value} started");
        assert!(
            stderr.contains(name) && stderr.contains(fix),
            "{name}={value}: {stderr}"
        );
    }
}

#[redis_test]
async fn production_refuses_a_redis_that_does_not_write_every_change_to_disk() {
    let redis = RedisServer::start();
    redis.set_config("appendonly", "no");
    let url = redis.url();
    let env: Vec<(&str, &str)> = PRODUCTION
        .iter()
        .map(|&(name, value)| {
            (
                name,
                if name == "REDIS_URL" {
                    url.as_str()
                } else {
                    value
                },
            )
        })
        .collect();
    let (ok, stderr) = start_with(&env);
    assert!(!ok, "started on a Redis without appendonly");
    assert!(
        stderr.contains("appendonly yes") && stderr.contains("ALLOW_LOST_REVOCATIONS"),
        "{stderr}"
    );
    // Accepting the risk by its name starts it.
    let app = spawn_process_with(
        AppOptions::default()
            .production()
            .with("REDIS_URL", &url)
            .with("ALLOW_LOST_REVOCATIONS", "true"),
    )
    .await;
    assert_eq!(app.request_link(&email()).await.status(), 200);
}

#[redis_test]
async fn production_has_no_outbox_and_logs_no_links() {
    let app = spawn_process_with(AppOptions::default().production()).await;
    assert_eq!(app.request_link(&email()).await.status(), 200);
    let outbox = app.client.get(app.url("/dev/outbox")).send().await.unwrap();
    assert_eq!(outbox.status(), 404);
    let log = app.log();
    assert!(!log.contains("token="), "{log}");
    assert!(!log.contains(SHARED_SECRET));
}

#[redis_test]
async fn development_says_its_secret_is_random() {
    let app = spawn_process_with(AppOptions::default().with("JWT_SECRET", "")).await;
    assert!(app.log().contains("random secret"), "{}", app.log());
}

#[redis_test]
async fn json_logs_have_one_object_per_line_with_the_request_and_no_secrets() {
    let app = spawn_process_with(
        AppOptions::default()
            .production()
            .with("LOG_FORMAT", "json"),
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
        access["span"]["id"].as_str().is_some_and(|id| id
            .split_once('-')
            .is_some_and(|(run, n)| run.len() == 8 && !n.is_empty())),
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
