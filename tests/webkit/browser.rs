//! A WebKit browser on a display of its own, and the steps a person takes in it.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::{
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};
use test_support::{free_port::free_port, server_process::server_command};

/// The access lifetime of the app these scenarios run against (`ACCESS_TOKEN_TTL`).
pub const LIFETIME: Duration = Duration::from_secs(12);
/// How long a condition may take to come true before a step fails.
const PATIENCE: Duration = Duration::from_secs(20);
/// WebKitGTK's MiniBrowser, the browser `WebKitWebDriver` drives (Debian's path).
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// The app's server as `cargo leptos` built it beside the bundle in `target/site`
/// (`WEBKIT_SERVER_BIN`, with its `hash.txt` beside it), on the test Redis when
/// `REDIS_URL` is set; stopped on drop.
///
/// Not `CARGO_BIN_EXE_stay-signed-in`: `cargo test` rebuilds that binary with the
/// dev-dependencies' features, and pages it serves did not finish hydrating in WebKit.
pub struct App {
    child: Child,
    pub address: String,
}

impl App {
    pub async fn start() -> Self {
        assert!(
            Path::new("target/site/pkg").is_dir(),
            "target/site has no browser bundle: run `cargo leptos build` first (./scripts/test does)"
        );
        let port = free_port();
        let address = format!("http://127.0.0.1:{port}");
        let prefix = format!("webkit-{}", stay_signed_in::auth::server::random_id());
        let server = std::env::var("WEBKIT_SERVER_BIN").expect(
            "WEBKIT_SERVER_BIN: a server binary `cargo leptos build` made (./scripts/test sets it)",
        );
        let log = log_dir().join(format!("server-{port}.log"));
        let mut command = server_command(server, port, &log);
        command
            .env("ACCESS_TOKEN_TTL", "12s")
            .env("REFRESH_REUSE_GRACE", "30s")
            .env("REDIS_KEY_PREFIX", prefix)
            .env("RATE_LIMIT_IP", "100000/1m")
            .env("RATE_LIMIT_EMAIL", "100000/1m")
            .env("RATE_LIMIT_REFRESH_IP", "1000000/1m")
            .env("RUST_LOG", "warn");
        if let Ok(redis) = std::env::var("REDIS_URL") {
            command.env("REDIS_URL", redis);
        }
        let app = Self {
            child: command.spawn().expect("the server binary starts"),
            address,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let health = format!("{}/healthz", app.address);
        while !reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "the server did not start (log in {:?})",
                log_dir()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the server's and the driver's logs go.
fn log_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("webkit-logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `WebKitWebDriver` under `xvfb-run`, stopped (with its display and browser) on drop.
pub struct Driver {
    child: Child,
    port: u16,
    log_path: std::path::PathBuf,
}

impl Driver {
    pub fn start() -> Self {
        let port = free_port();
        let log_path = log_dir().join(format!("driver-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("xvfb-run")
            .args(["-a", "WebKitWebDriver", &format!("--port={port}")])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // A group of its own: dropping the driver stops Xvfb and the browser too.
            .process_group(0)
            .spawn()
            .expect("xvfb-run and WebKitWebDriver (packages xvfb, webkit2gtk-driver)");
        Self {
            child,
            port,
            log_path,
        }
    }

    /// A browser session (one window) on the page at `base`.
    pub async fn open(&self, base: &str) -> Browser {
        let mut capabilities = serde_json::Map::new();
        let browser = std::env::var("WEBKIT_BROWSER").unwrap_or_else(|_| MINIBROWSER.into());
        capabilities.insert(
            "webkitgtk:browserOptions".into(),
            json!({ "binary": browser, "args": ["--automation"] }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let connecting = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match connecting {
                Ok(client) => {
                    return Browser {
                        client,
                        base: base.to_string(),
                    }
                }
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!(
                    "no WebKit session: {error}\n{}",
                    std::fs::read_to_string(&self.log_path).unwrap_or_default()
                ),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// One WebKit session, and what a person does in it.
pub struct Browser {
    pub client: Client,
    base: String,
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element.click().await.unwrap();
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until the JavaScript expression `condition` is true in the page.
    pub async fn wait_for(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        let script = format!("return !!({condition});");
        loop {
            // A page between two documents (a reload) cannot answer: ask again.
            if let Ok(Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                return;
            }
            if Instant::now() >= deadline {
                panic!("waited {PATIENCE:?} for {what}; {}", self.evidence().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the page showed when a step failed: its address and text, and a screenshot
    /// saved beside the logs.
    async fn evidence(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let text = self
            .client
            .execute("return document.body.innerText;", vec![])
            .await
            .unwrap_or_default();
        let shot = log_dir().join(format!("failure-{}.png", std::process::id()));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        format!(
            "the page at {url} showed {text} (screenshot: {})",
            shot.display()
        )
    }

    /// Waits until the page is hydrated and the client has read its tokens.
    pub async fn ready(&self) {
        self.wait_for(
            "document.documentElement.hasAttribute('data-auth-ready')",
            "hydration",
        )
        .await;
    }

    /// The text of the element with `data-testid="<id>"`, if there is one.
    pub fn test_id(id: &str) -> String {
        format!("document.querySelector('[data-testid=\"{id}\"]')")
    }

    /// Waits until the page shows `email` as the person signed in.
    pub async fn wait_signed_in_as(&self, email: &str) {
        let shown = Self::test_id("user-email");
        self.wait_for(
            &format!("{shown}?.textContent === {}", json!(email)),
            "signed in",
        )
        .await;
    }

    /// Waits until the page shows the signed-out header.
    pub async fn wait_signed_out(&self) {
        self.wait_for(
            "[...document.querySelectorAll('a')].some(a => a.textContent.includes('Sign in with email'))",
            "the signed-out page",
        )
        .await;
    }

    /// The whole sign-in as a person does it: form, mail, interstitial, dashboard.
    pub async fn sign_in(&self, email: &str) {
        self.goto("/login").await;
        self.ready().await;
        let field = self.client.find(Locator::Css("#email")).await.unwrap();
        field.send_keys(email).await.unwrap();
        let send = Locator::XPath("//button[contains(., 'Email me a sign-in link')]");
        self.client.find(send).await.unwrap().click().await.unwrap();
        self.wait_for(
            &format!(
                "{}?.textContent.includes({})",
                Self::test_id("check-email"),
                json!(email)
            ),
            "check your email",
        )
        .await;
        let link = self.link_for(email).await;
        self.client.goto(&link).await.unwrap();
        self.ready().await;
        // The page names the account before anyone presses the button.
        let owner = Self::test_id("link-account");
        self.wait_for(
            &format!("{owner}?.textContent === {}", json!(email)),
            "the link's account",
        )
        .await;
        self.click("[data-testid=confirm-sign-in]").await;
        self.wait_signed_in_as(email).await;
    }

    /// The newest sign-in link the development outbox holds for `email`.
    async fn link_for(&self, email: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let messages: Vec<Value> = reqwest::Client::new()
                .get(format!("{}/dev/outbox", self.base))
                .query(&[("to", email)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(link) = messages.last().and_then(|m| m["link"].as_str()) {
                return link.to_string();
            }
            assert!(Instant::now() < deadline, "no sign-in link for {email}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Adds a note through the page and waits until the list shows it.
    pub async fn add_note(&self, text: &str) {
        let field = self.client.find(Locator::Css("#note-text")).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
        let add = Locator::XPath("//button[normalize-space(.)='Add']");
        self.client.find(add).await.unwrap().click().await.unwrap();
        let notes = Self::test_id("notes");
        self.wait_for(
            &format!("[...({notes}?.querySelectorAll('li') ?? [])].some(li => li.textContent.includes({}))", json!(text)),
            &format!("the note {text:?} in the list"),
        )
        .await;
    }

    /// The stored token record, as the page's localStorage has it.
    pub async fn stored_tokens(&self) -> Value {
        self.js("return JSON.parse(localStorage.getItem('stay-signed-in.tokens'));")
            .await
    }

    /// What became of trying to export the page's stored DPoP private key:
    /// `"refused: extractable=<bool>"`, `"exported"`, or why there was no key.
    pub async fn exported_key(&self) -> String {
        let script = "const done = arguments[arguments.length - 1];
            const open = indexedDB.open('stay-signed-in');
            open.onerror = () => done('no database');
            open.onsuccess = () => {
              const get = open.result.transaction('keys').objectStore('keys').get('dpop');
              get.onerror = () => done('no key');
              get.onsuccess = () => {
                const pair = get.result;
                if (!pair) return done('no key');
                crypto.subtle.exportKey('pkcs8', pair.privateKey).then(
                  () => done('exported'),
                  () => done('refused: extractable=' + pair.privateKey.extractable));
              };
            };";
        self.client
            .execute_async(script, vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Refresh requests this page has sent since it loaded (resource timing entries).
    pub async fn refreshes(&self) -> u64 {
        self.js("return performance.getEntriesByType('resource')
                .filter(e => new URL(e.name).pathname === '/api/v1/auth/refresh').length;")
            .await
            .as_u64()
            .unwrap()
    }

    /// The notes the server holds, read with the page's current access token.
    pub async fn server_notes(&self) -> Vec<String> {
        let tokens = self.stored_tokens().await;
        let access = tokens["access_token"]
            .as_str()
            .expect("a stored access token");
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/notes", self.base))
            .bearer_auth(access)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "the notes with the page's access token"
        );
        let notes: Vec<Value> = response.json().await.unwrap();
        notes
            .iter()
            .filter_map(|note| note["text"].as_str().map(str::to_string))
            .collect()
    }
}
