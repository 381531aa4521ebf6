//! Throughput and latency of the two hot paths, over real HTTP against the release
//! server binary and a real Redis:
//!
//! - `POST /api/v1/me` (JWT check in memory + one Redis round trip),
//! - `POST /api/v1/auth/refresh` with rotation (one atomic Redis script).
//!
//! Each is measured flat out (32 connections) and at half that rate, where the p99 must
//! stay under 5 ms. Run: `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features ssr`
//! (or with `REDIS_CLUSTER_NODES`; `./scripts/bench` starts a Redis and a Cluster and
//! runs both). The load generator shares the
//! machine's cores with the server, so the numbers are a floor.

use serde_json::{json, Value};
#[path = "../tests/support/free_port.rs"]
mod free_port;

use free_port::free_port;
use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

const CONNECTIONS: usize = 32;
const PHASE: Duration = Duration::from_secs(8);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: Arc<String>,
}

impl Api {
    async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    async fn sign_in(&self, email: &str) -> (String, String) {
        self.post("/api/v1/auth/magic-link", json!({ "email": email }), None)
            .await;
        let token = loop {
            let outbox: Vec<Value> = self
                .client
                .get(format!("{}/dev/outbox?to={email}", self.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(last) = outbox.last() {
                break last["token"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let pair: Value = self
            .post("/api/v1/auth/verify", json!({ "token": token }), None)
            .await
            .json()
            .await
            .unwrap();
        (
            pair["access_token"].as_str().unwrap().to_string(),
            pair["refresh_token"].as_str().unwrap().to_string(),
        )
    }
}

struct Report {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Report {
    fn print(&mut self, name: &str) {
        self.latencies_us.sort_unstable();
        let pct = |p: f64| {
            let i =
                ((self.latencies_us.len() as f64 * p) as usize).min(self.latencies_us.len() - 1);
            self.latencies_us[i] as f64 / 1000.0
        };
        println!(
            "{name:<28} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {}",
            self.requests as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            self.errors
        );
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// One request of a connection: takes its token, gives back the token to use next and
/// whether the request succeeded.
type Step = std::pin::Pin<Box<dyn std::future::Future<Output = (String, bool)> + Send>>;

/// Runs `step` on every connection for [`PHASE`], optionally paced to `rate` req/s total.
async fn run<F>(states: Vec<String>, rate: Option<f64>, step: F) -> Report
where
    F: Fn(String) -> Step + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let started = Instant::now();
    let tasks: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let step = step.clone();
            let interval = rate.map(|r| Duration::from_secs_f64(CONNECTIONS as f64 / r));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut next = Instant::now();
                while started.elapsed() < PHASE {
                    if let Some(interval) = interval {
                        tokio::time::sleep_until(next.into()).await;
                        next += interval;
                    }
                    let sent = Instant::now();
                    let (new_state, ok) = step(state).await;
                    state = new_state;
                    latencies.push(sent.elapsed().as_micros() as u64);
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut report = Report {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for task in tasks {
        let (latencies, errors) = task.await.unwrap();
        report.requests += latencies.len();
        report.errors += errors;
        report.latencies_us.extend(latencies);
    }
    report.elapsed = started.elapsed();
    report
}

fn me_step(api: Api) -> impl Fn(String) -> Step {
    move |access: String| {
        let api = api.clone();
        Box::pin(async move {
            let ok = api
                .post("/api/v1/me", json!({}), Some(&access))
                .await
                .status()
                == 200;
            (access, ok)
        })
    }
}

fn refresh_step(api: Api) -> impl Fn(String) -> Step {
    move |refresh: String| {
        let api = api.clone();
        Box::pin(async move {
            let response = api
                .post(
                    "/api/v1/auth/refresh",
                    json!({ "refresh_token": refresh }),
                    None,
                )
                .await;
            if response.status() != 200 {
                return (refresh, false);
            }
            let pair: Value = response.json().await.unwrap();
            (pair["refresh_token"].as_str().unwrap().to_string(), true)
        })
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` discovery: nothing to list.
    }
    // One Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
    let store = ["REDIS_URL", "REDIS_CLUSTER_NODES"]
        .into_iter()
        .find_map(|name| Some((name, std::env::var(name).ok()?)))
        .expect("REDIS_URL or REDIS_CLUSTER_NODES must name a Redis (./scripts/bench starts both)");
    let port = free_port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_stay-signed-in"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "stay-signed-in")
            .env(store.0, store.1)
            .env("REDIS_KEY_PREFIX", format!("bench-{port}"))
            .env("RATE_LIMIT_IP", "100000/1m")
            .env("RATE_LIMIT_REFRESH_IP", "100000000/1m")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server binary"),
    );
    let api = Api {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap(),
        base: Arc::new(format!("http://127.0.0.1:{port}")),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while api
        .client
        .get(format!("{}/healthz", api.base))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut sessions = Vec::new();
    for i in 0..CONNECTIONS {
        sessions.push(api.sign_in(&format!("bench{i}-{port}@example.com")).await);
    }
    println!("{CONNECTIONS} connections, {} s per phase", PHASE.as_secs());

    let accesses: Vec<String> = sessions.iter().map(|(a, _)| a.clone()).collect();
    let mut full = run(accesses.clone(), None, me_step(api.clone())).await;
    full.print("/api/v1/me  (max)");
    let mut half = run(accesses, Some(full.rate() / 2.0), me_step(api.clone())).await;
    half.print("/api/v1/me  (half load)");

    let refreshes: Vec<String> = sessions.iter().map(|(_, r)| r.clone()).collect();
    let mut full = run(refreshes, None, refresh_step(api.clone())).await;
    full.print("auth/refresh (max)");
    let fresh: Vec<String> = {
        let mut list = Vec::new();
        for i in 0..CONNECTIONS {
            list.push(
                api.sign_in(&format!("bench-half{i}-{port}@example.com"))
                    .await
                    .1,
            );
        }
        list
    };
    let mut half = run(fresh, Some(full.rate() / 2.0), refresh_step(api.clone())).await;
    half.print("auth/refresh (half load)");
}
