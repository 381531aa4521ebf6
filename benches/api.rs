//! Throughput and latency of the two hot paths, over real HTTP against the release
//! server binary and a real Redis:
//!
//! - `POST /api/v1/me` (JWT check in memory + one Redis round trip),
//! - `POST /api/v1/auth/refresh` with rotation (one atomic Redis script).
//!
//! Each is measured flat out (32 connections) and at half that rate, where the p99 must
//! stay under 5 ms (paced latencies count from when a request was due). Beside them, in
//! the same run: the ceiling of HTTP on this machine (a plain axum handler returning
//! fixed JSON, served by this very binary in a child process), and with one Redis, the
//! rotate script's cost inside Redis (`INFO commandstats`) and the memory of a session
//! (`MEMORY USAGE` of its keys). `./scripts/bench` adds Redis' own scripting ceiling
//! (`redis-benchmark` EVALSHA, passed as `EVALSHA_RPS`) and prints ratios to the
//! ceilings, since absolute numbers drift between machines.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features ssr` (or with
//! `REDIS_CLUSTER_NODES`; `./scripts/bench` starts a Redis and a Cluster and runs both).
//! The load generator shares the machine's cores with the server, so the numbers are a
//! floor.

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
                    // Paced, a request's latency counts from when it was *due*, so a
                    // server that falls behind shows the queueing it causes (no
                    // coordinated omission); flat out, from when it was sent.
                    let due = match interval {
                        Some(interval) => {
                            tokio::time::sleep_until(next.into()).await;
                            let due = next;
                            next += interval;
                            due
                        }
                        None => Instant::now(),
                    };
                    let (new_state, ok) = step(state).await;
                    state = new_state;
                    latencies.push(due.elapsed().as_micros() as u64);
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

/// The ceiling: `POST /ceiling` answering fixed JSON from a plain axum router, in a
/// process of its own like the app (this binary, started with `--ceiling-server PORT`).
async fn serve_ceiling(port: u16) {
    let app = axum::Router::new().route(
        "/ceiling",
        axum::routing::post(|| async {
            axum::Json(json!({ "user": { "id": "u1", "email": "ceiling@example.com" } }))
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}

fn ceiling_step(api: Api) -> impl Fn(String) -> Step {
    move |state: String| {
        let api = api.clone();
        Box::pin(async move {
            let ok = api.post("/ceiling", json!({}), None).await.status() == 200;
            (state, ok)
        })
    }
}

/// Waits until `GET <base><path>` answers at all.
async fn wait_for(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What Redis itself reports (one Redis only): the rotate script's cost per call, and
/// the memory of one session's keys.
struct RedisFacts {
    connection: redis::Connection,
    prefix: String,
}

impl RedisFacts {
    fn new(url: &str, prefix: &str) -> Self {
        let connection = redis::Client::open(url).unwrap().get_connection().unwrap();
        Self {
            connection,
            prefix: prefix.to_string(),
        }
    }

    fn reset_stats(&mut self) {
        redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query::<()>(&mut self.connection)
            .unwrap();
    }

    /// Scripts Redis ran since the reset: (calls, total µs). A refresh runs the
    /// rotation and the per-client rate limit, both scripts.
    fn script_totals(&mut self) -> (f64, f64) {
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut self.connection)
            .unwrap();
        info.lines()
            .filter(|line| {
                line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:")
            })
            .filter_map(|line| {
                let field = |name: &str| {
                    line.split([':', ','])
                        .find_map(|pair| pair.strip_prefix(name)?.parse::<f64>().ok())
                };
                Some((field("calls=")?, field("usec=")?))
            })
            .fold((0.0, 0.0), |(calls, usec), (c, u)| (calls + c, usec + u))
    }

    /// Bytes per session: its record and its history (`MEMORY USAGE`), averaged.
    fn bytes_per_session(&mut self) -> f64 {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut self.connection)
            .unwrap();
        let sessions = keys
            .iter()
            .filter(|key| key.contains("}:session:"))
            .count()
            .max(1);
        let bytes: u64 = keys
            .iter()
            .filter(|key| key.contains("}:session:") || key.contains("}:history:"))
            .map(|key| {
                redis::cmd("MEMORY")
                    .arg("USAGE")
                    .arg(key)
                    .query::<Option<u64>>(&mut self.connection)
                    .unwrap()
                    .unwrap_or(0)
            })
            .sum();
        bytes as f64 / sessions as f64
    }
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
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` discovery: nothing to list.
    }
    if let Some(port) = args
        .iter()
        .position(|a| a == "--ceiling-server")
        .and_then(|i| args.get(i + 1)?.parse().ok())
    {
        return serve_ceiling(port).await;
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
    wait_for(&api.client, &format!("{}/livez", api.base)).await;
    let ceiling_port = free_port();
    let _ceiling = Server(
        Command::new(std::env::current_exe().unwrap())
            .args(["--ceiling-server", &ceiling_port.to_string()])
            .spawn()
            .expect("the ceiling server"),
    );
    let ceiling_api = Api {
        client: api.client.clone(),
        base: Arc::new(format!("http://127.0.0.1:{ceiling_port}")),
    };
    wait_for(
        &ceiling_api.client,
        &format!("{}/ceiling", ceiling_api.base),
    )
    .await;
    let mut facts = (store.0 == "REDIS_URL").then(|| {
        RedisFacts::new(
            &std::env::var("REDIS_URL").unwrap(),
            &format!("bench-{port}"),
        )
    });

    let mut sessions = Vec::new();
    for i in 0..CONNECTIONS {
        sessions.push(api.sign_in(&format!("bench{i}-{port}@example.com")).await);
    }
    println!("{CONNECTIONS} connections, {} s per phase", PHASE.as_secs());

    let nothing = vec![String::new(); CONNECTIONS];
    let mut ceiling = run(nothing, None, ceiling_step(ceiling_api)).await;
    ceiling.print("plain axum (ceiling)");

    let accesses: Vec<String> = sessions.iter().map(|(a, _)| a.clone()).collect();
    let mut full = run(accesses.clone(), None, me_step(api.clone())).await;
    full.print("/api/v1/me  (max)");
    let me_ratio = full.rate() / ceiling.rate();
    let mut half = run(accesses, Some(full.rate() / 2.0), me_step(api.clone())).await;
    half.print("/api/v1/me  (half load)");

    if let Some(facts) = facts.as_mut() {
        facts.reset_stats();
    }
    let refreshes: Vec<String> = sessions.iter().map(|(_, r)| r.clone()).collect();
    let mut full = run(refreshes, None, refresh_step(api.clone())).await;
    full.print("auth/refresh (max)");
    let refresh_rate = full.rate();
    let refreshes = full.requests as f64;
    let scripts = facts.as_mut().map(RedisFacts::script_totals);
    let session_bytes = facts.as_mut().map(RedisFacts::bytes_per_session);
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

    println!(
        "me / ceiling                 {:>9.1} %   (goal >= 35 %)",
        me_ratio * 100.0
    );
    if let Some(evalsha) = std::env::var("EVALSHA_RPS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        println!(
            "refresh / redis EVALSHA      {:>9.1} %   (goal >= 20 %; EVALSHA {evalsha:.0}/s)",
            refresh_rate / evalsha * 100.0
        );
    }
    if let Some((calls, usec)) = scripts {
        println!(
            "Redis scripts per refresh    {:>9.1} us in {:.1} calls (rotation + rate limit; rotation goal <= 12 us)",
            usec / refreshes,
            calls / refreshes
        );
    }
    if let Some(bytes) = session_bytes {
        println!("Redis memory per session     {bytes:>9.0} B   (record + history; goal <= 1024)");
    }
}
