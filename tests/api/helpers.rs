//! `spawn_app()` and helpers that read like what a client does.
//!
//! Most tests run the app in-process on a port the harness bound first (fast, no
//! bind-then-release race); [`spawn_process_with`] starts the real binary for the tests
//! about startup, restarts and the log.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use stay_signed_in::{config::Config, http::Application};
use std::{
    collections::HashMap,
    process::{Child, Command},
    sync::Once,
    time::{Duration, Instant},
};
use test_support::{free_port::free_port, server_process::server_command};
/// Every test here needs the test Redis: without one, plain `cargo test` skips them.
pub use test_support_macros::redis_test;

/// A secret shared by servers that must accept each other's tokens.
pub const SHARED_SECRET: &str = "test-secret-Hq7Zr2Vm9Lx4Kw8Nb3Jt6Pd1Fs5Gc0Yb2e7Tm";

/// A running server: a task in this test's runtime, or a process of its own.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    server: Server,
}

enum Server {
    InProcess(tokio::task::JoinHandle<std::io::Result<()>>),
    Process {
        child: Child,
        log_path: std::path::PathBuf,
    },
}

/// How to start a server: extra environment on top of the test defaults (an empty
/// value removes a default).
#[derive(Clone, Default)]
pub struct AppOptions {
    pub env: Vec<(String, String)>,
}

impl AppOptions {
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// `APP_ENV=production` as far as a test on loopback can go: http `PUBLIC_URL`
    /// allowed explicitly, and mail to a relay on loopback (port 1: nothing listens).
    pub fn production(self) -> Self {
        self.with("APP_ENV", "production")
            .with("ALLOW_HTTP_PUBLIC_URL", "true")
            .with("SMTP_URL", "smtp://127.0.0.1:1")
    }

    /// The defaults overlaid with these options, empty values removed. A test that
    /// names its own store (`REDIS_URL` or `REDIS_CLUSTER_NODES`) gets only that one.
    fn variables(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = Vec::new();
        for (name, value) in default_env().into_iter().chain(self.env.clone()) {
            let own_store = STORES.contains(&name.as_str())
                && self.env.iter().any(|(option, _)| option == &name);
            if own_store {
                vars.retain(|(known, _)| !STORES.contains(&known.as_str()));
            }
            vars.retain(|(known, _)| *known != name);
            if !value.is_empty() {
                vars.push((name, value));
            }
        }
        vars
    }
}

/// The variables that choose a store.
const STORES: [&str; 2] = ["REDIS_URL", "REDIS_CLUSTER_NODES"];

/// The store every test server uses unless a test names its own: the test Redis
/// (`REDIS_URL`), or the test Redis Cluster when `API_TESTS_ON_CLUSTER` is set
/// (`./scripts/test` runs the suite both ways).
pub fn default_store() -> (String, String) {
    let name = if std::env::var_os("API_TESTS_ON_CLUSTER").is_some() {
        "REDIS_CLUSTER_NODES"
    } else {
        "REDIS_URL"
    };
    let value = std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} must name the test Redis for the API tests (./scripts/test starts it)")
    });
    (name.to_string(), value)
}

/// A fresh key prefix, so tests never see each other's data or counters.
pub fn unique_prefix() -> String {
    format!("api-{}", stay_signed_in::auth::server::random_id())
}

/// A server on the test Redis with its own key prefix and generous rate limits.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// The defaults every test server starts from (overridable by `options`).
pub fn default_env() -> Vec<(String, String)> {
    let (store, address) = default_store();
    [
        (store.as_str(), address),
        ("REDIS_KEY_PREFIX", unique_prefix()),
        ("RATE_LIMIT_IP", "10000/1m".to_string()),
        ("RATE_LIMIT_EMAIL", "10000/1m".to_string()),
        ("RATE_LIMIT_REFRESH_IP", "100000/1m".to_string()),
        ("RATE_LIMIT_SESSION", "100000/1m".to_string()),
        ("MAIL_BUDGET", "100000/1m".to_string()),
        ("JWT_SECRET", SHARED_SECRET.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 api-tests")
        .build()
        .unwrap()
}

/// Server logs of in-process apps go to the test output only when `TEST_LOG` is set.
fn init_test_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                .with_test_writer()
                .init();
        }
    });
}

/// Runs the app in this test's runtime on a port bound here first.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    init_test_log();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut vars: HashMap<String, String> = options.variables().into_iter().collect();
    vars.insert("PUBLIC_URL".into(), address.clone());
    let config = Config::from_vars(&vars).expect("a valid test configuration");
    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name("stay-signed-in")
        .site_root("target/site")
        .build();
    let app = Application::on_listener(config, leptos_options, listener).expect("the app builds");
    let task = tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        client: client(),
        server: Server::InProcess(task),
    }
}

/// Starts the server binary; panics with its log if it does not come up.
pub async fn spawn_process_with(options: AppOptions) -> TestApp {
    let port = free_port();
    let log_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-logs");
    std::fs::create_dir_all(&log_dir).unwrap();
    let log_path = log_dir.join(format!("server-{port}.log"));
    // Always into the file: tests read it (print it with `log()` when debugging).
    let child = server_command(env!("CARGO_BIN_EXE_stay-signed-in"), port, &log_path)
        .env("RUST_LOG", "info")
        .envs(options.variables())
        .spawn()
        .expect("the server binary starts");
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: client(),
        server: Server::Process { child, log_path },
    };
    app.wait_until_ready().await;
    app
}

impl TestApp {
    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.client.get(self.url("/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not start:\n{}", self.log());
    }

    /// Stops a server process with SIGTERM, as an orchestrator does, and waits (at most
    /// 30 s) for it to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let Server::Process { child, .. } = &mut self.server else {
            panic!("terminate() needs spawn_process_with");
        };
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything a server process logged so far (in-process apps: see `TEST_LOG`).
    pub fn log(&self) -> String {
        match &self.server {
            Server::Process { log_path, .. } => {
                std::fs::read_to_string(log_path).unwrap_or_default()
            }
            Server::InProcess(_) => panic!("log() needs spawn_process_with"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `POST /api/v1/<endpoint>` with a JSON body.
    pub async fn post(&self, endpoint: &str, body: Value) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/{endpoint}")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A protected call with a bearer token.
    pub async fn post_authed(&self, endpoint: &str, access: &str, body: Value) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/{endpoint}")))
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn request_link(&self, email: &str) -> Response {
        self.post("auth/magic-link", json!({ "email": email }))
            .await
    }

    /// Emails the dev outbox holds for `email`, oldest first.
    pub async fn outbox(&self, email: &str) -> Vec<Value> {
        let request = self
            .client
            .get(self.url("/dev/outbox"))
            .query(&[("to", email)]);
        serde_json::from_value(json_of(request).await).unwrap()
    }

    /// Link tokens for `email`, once at least `count` emails were delivered (delivery
    /// runs in the background, so this waits for the condition).
    pub async fn link_tokens(&self, email: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.outbox(email).await;
            if messages.len() >= count {
                return messages
                    .iter()
                    .map(|m| m["token"].as_str().unwrap().to_string())
                    .collect();
            }
            assert!(Instant::now() < deadline, "no email for {email}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The newest link token for `email` (waits for the first email).
    pub async fn link_token(&self, email: &str) -> String {
        self.link_tokens(email, 1).await.pop().unwrap()
    }

    pub async fn verify(&self, token: &str) -> Response {
        self.post("auth/verify", json!({ "token": token })).await
    }

    /// Request link → read outbox → verify: the token pair.
    pub async fn sign_in(&self, email: &str) -> Pair {
        let sent_before = self.outbox(email).await.len();
        assert_eq!(self.request_link(email).await.status(), StatusCode::OK);
        let token = self
            .link_tokens(email, sent_before + 1)
            .await
            .pop()
            .unwrap();
        let response = self.verify(&token).await;
        assert_eq!(response.status(), StatusCode::OK);
        Pair::from(response.json::<Value>().await.unwrap())
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post("auth/refresh", json!({ "refresh_token": refresh_token }))
            .await
    }

    /// A refresh that must succeed: the new pair.
    pub async fn rotate(&self, refresh_token: &str) -> Pair {
        let response = self.refresh(refresh_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        Pair::from(response.json::<Value>().await.unwrap())
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        json_of(self.client.get(self.url(path))).await
    }

    /// A protected call that must succeed: its JSON.
    pub async fn authed_json(&self, endpoint: &str, access: &str, body: Value) -> Value {
        let response = self.post_authed(endpoint, access, body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn me(&self, access: &str) -> Response {
        self.post_authed("me", access, json!({})).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match &mut self.server {
            Server::InProcess(task) => task.abort(),
            Server::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// A token pair as the API returns it.
#[derive(Clone, Debug)]
pub struct Pair {
    pub access: String,
    pub refresh: String,
    pub raw: Value,
}

impl From<Value> for Pair {
    fn from(raw: Value) -> Self {
        Self {
            access: raw["access_token"].as_str().unwrap().to_string(),
            refresh: raw["refresh_token"].as_str().unwrap().to_string(),
            raw,
        }
    }
}

/// Sends a request and reads its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A unique email address.
pub fn email() -> String {
    format!("{}@example.com", stay_signed_in::auth::server::random_id())
}

/// Asserts `401 session_ended` with `reason`.
pub async fn assert_session_ended(response: Response, reason: &str) {
    assert_error(
        response,
        401,
        json!({ "error": "session_ended", "reason": reason }),
    )
    .await;
}

/// Asserts a JSON error answer.
pub async fn assert_error(response: Response, status: u16, body: Value) {
    assert_eq!(response.status().as_u16(), status);
    let actual: Value = response.json().await.unwrap();
    assert_eq!(actual, body);
}
