//! Everything the performance budget asks, in one run, against the release server binary
//! and a real Redis (or a Redis Cluster), over real HTTP:
//!
//! - the HTTP ceiling of this machine: a plain axum handler returning fixed JSON, served
//!   by this very binary in a child process (`--ceiling-server PORT`);
//! - `POST /api/v1/me` (JWT check in memory + one Redis round trip) and
//!   `POST /api/v1/auth/refresh` (one rotate script), flat out with wrk, and the server
//!   CPU a request costs (`/proc/<pid>/stat`);
//! - both at half of their maximum rate, paced, latency counted from when each request
//!   was *due* (so queueing shows: no coordinated omission), by a lean client of the
//!   bench's own (`support/paced.rs`);
//! - these phases three times over ([`ROUNDS`]), the goals reading the medians;
//! - with `BASELINE_BIN` (an older build's server, which `./scripts/bench` builds from
//!   `BASELINE`): that build's `me` and refresh flat out in every round, in turns with
//!   this one's, for the ratio of their CPU a request ([`Baseline`]);
//! - with one Redis: the rotate script's time inside Redis (`INFO commandstats`: during
//!   the refresh runs, and alone under `redis-benchmark`), memory
//!   per session (`MEMORY USAGE`), throughput with 1k, 100k and 1M sessions stored, and
//!   how long listing and ending 1,000 sessions of one person holds Redis.
//!
//! Absolute numbers drift between machines, so the table ends with ratios to the
//! ceilings of the same run: the plain axum handler, and with one Redis its own
//! scripting ceiling (`redis-benchmark` EVALSHA), measured beside each refresh run. The
//! load generator shares the machine's cores with the server, so the numbers are a
//! floor.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features ssr` (or with
//! `REDIS_CLUSTER_NODES`; `PACED_RATE=N` paces the half-load phases at N requests/s);
//! `./scripts/bench` starts a Redis and a Cluster of its own. The sweep starts three
//! more Redis servers (`redis-server` from the PATH) and a server on each, and writes
//! up to a million filler sessions (about 1 GB) into one of them.

use serde_json::{json, Value};
#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/paced.rs"]
mod paced;
#[path = "support/redis_facts.rs"]
mod redis_facts;
#[path = "support/wrk.rs"]
mod wrk;

use bytes::Bytes;
use paced::{Connection, Step};
use redis_facts::RedisFacts;
use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use test_support::{device_key::DeviceKey, free_port::free_port};

const CONNECTIONS: usize = 32;
const PHASE: Duration = Duration::from_secs(8);
/// The unmeasured run that warms a fresh server up.
const WARM_UP: Duration = Duration::from_secs(3);
/// Shorter phases for the session-count sweep (thirty runs).
const SWEEP_PHASE: Duration = Duration::from_secs(4);
/// Sessions signed in for a flat-out run: more than connections, so the refresh queue
/// never runs dry.
const SESSIONS: usize = 2 * CONNECTIONS;

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
    /// The port of `base`, for the paced client's own connections.
    port: u16,
}

impl Api {
    async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// The newest sign-in link token in the outbox for `email`, if any.
    async fn newest_link(&self, email: &str) -> Option<String> {
        let outbox: Vec<Value> = self
            .client
            .get(format!("{}/dev/outbox?to={email}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Some(outbox.last()?["token"].as_str()?.to_string())
    }

    /// Signs `email` in (again): a new link, then verify. Returns (access, refresh).
    async fn sign_in(&self, email: &str) -> (String, String) {
        let (pair, _) = self.sign_in_with(email, None).await;
        (
            pair["access_token"].as_str().unwrap().to_string(),
            pair["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// Signs `email` in, with a DPoP proof by `key` when given (a bound session): the
    /// token pair and the answer's `DPoP-Nonce`.
    async fn sign_in_with(&self, email: &str, key: Option<&DeviceKey>) -> (Value, Option<String>) {
        let before = self.newest_link(email).await;
        self.post("/api/v1/auth/magic-link", json!({ "email": email }), None)
            .await;
        let token = loop {
            match self.newest_link(email).await {
                Some(token) if Some(&token) != before.as_ref() => break token,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        };
        let url = format!("{}/api/v1/auth/verify", self.base);
        let mut request = self.client.post(&url).json(&json!({ "token": token }));
        if let Some(key) = key {
            request = request.header("DPoP", key.proof(&url, None));
        }
        let response = request.send().await.expect("request");
        let nonce = response
            .headers()
            .get("dpop-nonce")
            .and_then(|value| Some(value.to_str().ok()?.to_string()));
        let pair: Value = response.json().await.unwrap();
        assert!(pair["refresh_token"].is_string(), "sign-in failed: {pair}");
        (pair, nonce)
    }

    /// `count` new people signed in on sessions bound to `key`: their refresh tokens,
    /// and the server's newest nonce.
    async fn sign_in_many_bound(
        &self,
        label: &str,
        count: usize,
        key: &DeviceKey,
    ) -> (Vec<String>, String) {
        let mut refreshes = Vec::new();
        let mut nonce = None;
        for i in 0..count {
            let (pair, answered) = self
                .sign_in_with(&format!("{label}{i}@example.com"), Some(key))
                .await;
            refreshes.push(pair["refresh_token"].as_str().unwrap().to_string());
            nonce = answered.or(nonce);
        }
        (refreshes, nonce.expect("verify answers a DPoP-Nonce"))
    }

    /// `count` new people, signed in: their (access, refresh) tokens.
    async fn sign_in_many(&self, label: &str, count: usize) -> (Vec<String>, Vec<String>) {
        let mut pairs = (Vec::new(), Vec::new());
        for i in 0..count {
            let (access, refresh) = self.sign_in(&format!("{label}{i}@example.com")).await;
            pairs.0.push(access);
            pairs.1.push(refresh);
        }
        pairs
    }
}

/// An older build's release server (`BASELINE_BIN`, built by `./scripts/bench` from the
/// commit `BASELINE`), on the same store and measured in the same rounds as this build:
/// the "twice today's throughput on the same machine" as one ratio that the
/// VM's drift between minutes does not move.
struct Baseline {
    server: Server,
    api: Api,
    accesses: Vec<String>,
    /// The commit, or the binary's path when it was given directly.
    label: String,
}

impl Baseline {
    async fn start(binary: &str, store: (&str, &str), prefix: &str) -> Self {
        let (server, api) = start_app(binary, store, &format!("{prefix}-baseline")).await;
        let (accesses, _) = api.sign_in_many("baseline", SESSIONS).await;
        let label = std::env::var("BASELINE").unwrap_or_else(|_| binary.to_string());
        Baseline {
            server,
            api,
            accesses,
            label,
        }
    }

    fn me_url(&self) -> String {
        format!("{}/api/v1/me", self.api.base)
    }

    /// An unmeasured run, as for this build.
    fn warm_up(&self) {
        let url = self.me_url();
        wrk::run(&url, wrk::POST_WITH_BEARERS, &self.accesses, WARM_UP);
    }

    fn measure_me(&self) -> Measured {
        let url = self.me_url();
        measure(
            self.server.0.id(),
            &url,
            wrk::POST_WITH_BEARERS,
            &self.accesses,
            PHASE,
        )
    }

    /// The baseline's refresh flat out, on sessions of its own signed in for `round`
    /// (a flat-out run rotates its tokens away).
    async fn measure_refresh(&self, round: usize) -> Measured {
        let (_, refreshes) = self
            .api
            .sign_in_many(&format!("baseline-{round}-"), SESSIONS)
            .await;
        let url = format!("{}/api/v1/auth/refresh", self.api.base);
        measure(
            self.server.0.id(),
            &url,
            wrk::REFRESH_ROTATING,
            &refreshes,
            PHASE,
        )
    }
}

/// The rate of a paced phase: half of the flat-out rate `max_rate`, or `PACED_RATE`
/// (requests/s) when set, to compare two builds at the same rate.
fn paced_rate(max_rate: f64) -> f64 {
    std::env::var("PACED_RATE")
        .ok()
        .and_then(|rate| rate.parse().ok())
        .unwrap_or(max_rate / 2.0)
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

/// This build's release server.
const APP: &str = env!("CARGO_BIN_EXE_stay-signed-in");

/// The release server `binary` on `store` (the variable that names it, and its value),
/// with its keys under `prefix`, once it answers; and a client for it.
async fn start_app(binary: &str, store: (&str, &str), prefix: &str) -> (Server, Api) {
    let port = free_port();
    let server = Server(
        Command::new(binary)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "stay-signed-in")
            // DPoP proofs name it.
            .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env(store.0, store.1)
            .env("REDIS_KEY_PREFIX", prefix)
            .env("MAIL_BUDGET", "100000000/1h")
            .env("RATE_LIMIT_IP", "100000000/1m")
            .env("RATE_LIMIT_EMAIL", "100000000/1m")
            .env("RATE_LIMIT_REFRESH_IP", "100000000/1m")
            .env("RATE_LIMIT_SESSION", "100000000/1m")
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
        port,
    };
    wait_for(&api.client, &format!("{}/livez", api.base)).await;
    (server, api)
}

/// A Redis of the bench's own on `port`, without persistence, once it answers.
fn start_redis(port: u16) -> Server {
    let redis = Server(
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server"),
    );
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get_connection()
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "redis-server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    redis
}

/// Waits until `GET <base><path>` answers at all.
async fn wait_for(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A call to the plain axum handler: paced like the app, it shows the latency floor of
/// this client on this machine.
fn ceiling_step(connection: Connection, state: String) -> Step {
    empty_post(connection, "/ceiling", state, false)
}

fn me_step(connection: Connection, access: String) -> Step {
    empty_post(connection, "/api/v1/me", access, true)
}

/// `POST path` with `{}`, with `token` as the bearer when `bearer`; succeeds on a 200.
fn empty_post(mut connection: Connection, path: &'static str, token: String, bearer: bool) -> Step {
    Box::pin(async move {
        let bearer = bearer.then_some(token.as_str());
        let answer = connection
            .post(path, Bytes::from_static(b"{}"), bearer)
            .await;
        let ok = matches!(answer, Some((200, _)));
        (connection, token, ok)
    })
}

fn refresh_step(mut connection: Connection, refresh: String) -> Step {
    Box::pin(async move {
        let body = serde_json::to_vec(&json!({ "refresh_token": refresh })).unwrap();
        let next = match connection
            .post("/api/v1/auth/refresh", body.into(), None)
            .await
        {
            Some((200, body)) => serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|pair| Some(pair["refresh_token"].as_str()?.to_string())),
            _ => None,
        };
        match next {
            Some(next) => (connection, next, true),
            None => (connection, refresh, false),
        }
    })
}

/// A flat-out wrk run and the CPU the measured server used for it.
struct Measured {
    run: wrk::WrkRun,
    cpu_us_per_request: f64,
}

/// Runs wrk against `url` while reading the CPU of process `pid` around it.
fn measure(pid: u32, url: &str, script: &str, tokens: &[String], phase: Duration) -> Measured {
    let before = cpu::seconds(pid);
    let run = wrk::run(url, script, tokens, phase);
    let used = cpu::seconds(pid) - before;
    Measured {
        cpu_us_per_request: used * 1e6 / run.requests.max(1) as f64,
        run,
    }
}

fn print_measured(name: &str, m: &Measured) {
    println!(
        "{name:<30} {:>9.0} req/s   p99 {:>6.2} ms   {:>5.1} us CPU/request   failed {}",
        m.run.rate, m.run.p99_ms, m.cpu_us_per_request, m.run.failed
    );
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Rounds of the flat-out and paced phases.
const ROUNDS: usize = 3;

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Rounds of the session-count sweep.
const SWEEP_ROUNDS: usize = 5;

/// One size of the sweep: a Redis holding `total` sessions, the app on it, and the
/// rates it reached, one a round.
struct SweepSize {
    total: u64,
    redis: Server,
    server: Server,
    api: Api,
    facts: RedisFacts,
    accesses: Vec<String>,
    me: Vec<f64>,
    refresh: Vec<f64>,
    /// CPU of the server and of its Redis over all `me` runs, and over all refresh runs.
    me_cpu: CpuTally,
    refresh_cpu: CpuTally,
    failed: u64,
}

/// CPU seconds two processes used over some runs, and the requests served in them.
#[derive(Default)]
struct CpuTally {
    server: f64,
    redis: f64,
    requests: u64,
}

impl CpuTally {
    /// Runs `run` (which returns its wrk result) and adds what the server `server_pid`
    /// and Redis `redis_pid` used during it.
    fn add(
        &mut self,
        server_pid: u32,
        redis_pid: u32,
        run: impl FnOnce() -> wrk::WrkRun,
    ) -> wrk::WrkRun {
        let (server, redis) = (cpu::seconds(server_pid), cpu::seconds(redis_pid));
        let result = run();
        self.server += cpu::seconds(server_pid) - server;
        self.redis += cpu::seconds(redis_pid) - redis;
        self.requests += result.requests;
        result
    }

    /// µs a request: (server, Redis).
    fn per_request_us(&self) -> (f64, f64) {
        let requests = self.requests.max(1) as f64;
        (self.server * 1e6 / requests, self.redis * 1e6 / requests)
    }
}

/// Throughput of `me` and refresh with 1k, 100k and 1M sessions stored, as each size's
/// share of the round's mean (1.0 = average). Each size gets a Redis and a server of
/// its own, filled once; then the sizes take turns, one short run each, for
/// [`SWEEP_ROUNDS`] rounds (each round started by another size). Taking turns is the
/// point: this machine's speed wanders by tens of percent over minutes, and measured
/// one size after the other that drift read as a difference between the sizes. So each
/// run is compared with the other sizes' runs of the same round, and a size's share is
/// the median over the rounds (a best-of-rounds rate, as this bench took before,
/// still rewarded whichever size happened to run in a fast minute).
async fn session_sweep() -> Vec<(u64, f64, f64)> {
    let mut sizes = Vec::new();
    for total in [1_000u64, 100_000, 1_000_000] {
        let redis_port = free_port();
        let redis = start_redis(redis_port);
        let url = format!("redis://127.0.0.1:{redis_port}/");
        let prefix = format!("sweep-{redis_port}");
        let (server, api) = start_app(APP, ("REDIS_URL", &url), &prefix).await;
        let mut facts = RedisFacts::new(&url, &prefix);
        facts.fill_to(total, now_ms());
        let (accesses, _) = api.sign_in_many("sweep-", SESSIONS).await;
        // Unmeasured: lets Redis finish growing its key table after the fill.
        wrk::run(
            &format!("{}/api/v1/me", api.base),
            wrk::POST_WITH_BEARERS,
            &accesses,
            WARM_UP,
        );
        facts.reset_stats();
        sizes.push(SweepSize {
            total,
            redis,
            server,
            api,
            facts,
            accesses,
            me: Vec::new(),
            refresh: Vec::new(),
            me_cpu: CpuTally::default(),
            refresh_cpu: CpuTally::default(),
            failed: 0,
        });
    }
    for round in 0..SWEEP_ROUNDS {
        // Each round starts with another size, so no size always runs first or last.
        sizes.rotate_left(1);
        for size in &mut sizes {
            let url = format!("{}/api/v1/me", size.api.base);
            let pids = (size.server.0.id(), size.redis.0.id());
            let run = size.me_cpu.add(pids.0, pids.1, || {
                wrk::run(&url, wrk::POST_WITH_BEARERS, &size.accesses, SWEEP_PHASE)
            });
            size.me.push(run.rate);
            size.failed += run.failed;
        }
        for size in &mut sizes {
            // Each refresh run spends its tokens: fresh sessions for every run.
            let label = format!("sweep-{round}-");
            let (_, refreshes) = size.api.sign_in_many(&label, SESSIONS).await;
            let url = format!("{}/api/v1/auth/refresh", size.api.base);
            let pids = (size.server.0.id(), size.redis.0.id());
            let run = size.refresh_cpu.add(pids.0, pids.1, || {
                wrk::run(&url, wrk::REFRESH_ROTATING, &refreshes, SWEEP_PHASE)
            });
            size.refresh.push(run.rate);
            size.failed += run.failed;
        }
    }
    sizes.sort_by_key(|size| size.total);
    let shares = |rates: &dyn Fn(&SweepSize) -> &Vec<f64>| -> Vec<f64> {
        let round_means: Vec<f64> = (0..SWEEP_ROUNDS)
            .map(|round| {
                sizes.iter().map(|size| rates(size)[round]).sum::<f64>() / sizes.len() as f64
            })
            .collect();
        sizes
            .iter()
            .map(|size| {
                median(
                    rates(size)
                        .iter()
                        .zip(&round_means)
                        .map(|(rate, mean)| rate / mean)
                        .collect(),
                )
            })
            .collect()
    };
    let me_shares = shares(&|size| &size.me);
    let refresh_shares = shares(&|size| &size.refresh);
    let mut rows = Vec::new();
    for (i, size) in sizes.iter_mut().enumerate() {
        // Time inside Redis per call over all rounds: what the session count could
        // change, without the HTTP side's noise (commandstats also counts the sign-ins'
        // scripts, a few hundred among tens of thousands of rotations).
        let per_call = |(calls, usec): (f64, f64)| usec / calls.max(1.0);
        let hmget = per_call(size.facts.command_totals(&["hmget"]));
        let scripts = per_call(size.facts.script_totals());
        let listed = |rates: &[f64]| {
            let rates: Vec<String> = rates
                .iter()
                .map(|r| format!("{:.1}k", r / 1000.0))
                .collect();
            rates.join(" ")
        };
        let (me_server, me_redis) = size.me_cpu.per_request_us();
        let (refresh_server, refresh_redis) = size.refresh_cpu.per_request_us();
        println!(
            "{:>9} sessions stored ({} keys)   me share {:.3} [{}]   refresh share {:.3} [{}]   \
             in Redis: HMGET {hmget:.1} us, scripts {scripts:.1} us   \
             CPU a request (server + Redis): me {me_server:.1} + {me_redis:.1} us, \
             refresh {refresh_server:.1} + {refresh_redis:.1} us   failed {}",
            size.total,
            size.facts.keys(),
            me_shares[i],
            listed(&size.me),
            refresh_shares[i],
            listed(&size.refresh),
            size.failed,
        );
        rows.push((size.total, me_shares[i], refresh_shares[i]));
    }
    rows
}

/// How long one call holds Redis: script calls, their mean time (ms) and the
/// whole request over HTTP (ms).
struct Holding {
    calls: f64,
    per_call_ms: f64,
    http_ms: f64,
}

/// One person with 1,000 sessions: how long listing them and signing out everywhere
/// hold Redis (script time in `commandstats`), and take over HTTP.
async fn thousand_sessions(api: &Api, facts: &mut RedisFacts) -> (Holding, Holding) {
    let email = "many-sessions@example.com";
    let mut access = String::new();
    for _ in 0..1000 {
        access = api.sign_in(email).await.0;
    }
    let mut timed = async |path: &'static str| {
        facts.reset_stats();
        let started = Instant::now();
        let status = api.post(path, json!({}), Some(&access)).await.status();
        assert_eq!(status, 200, "{path}");
        let http_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (calls, usec) = facts.script_totals();
        Holding {
            calls,
            per_call_ms: usec / calls.max(1.0) / 1000.0,
            http_ms,
        }
    };
    let list = timed("/api/v1/sessions").await;
    let end = timed("/api/v1/auth/logout-all").await;
    (list, end)
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
    let prefix = format!("bench-{}", std::process::id());
    let (server, api) = start_app(APP, (store.0, &store.1), &prefix).await;
    let ceiling_port = free_port();
    let ceiling_server = Server(
        Command::new(std::env::current_exe().unwrap())
            .args(["--ceiling-server", &ceiling_port.to_string()])
            .spawn()
            .expect("the ceiling server"),
    );
    let ceiling_url = format!("http://127.0.0.1:{ceiling_port}/ceiling");
    while api.client.post(&ceiling_url).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut facts = (store.0 == "REDIS_URL")
        .then(|| RedisFacts::new(&std::env::var("REDIS_URL").unwrap(), &prefix));
    let pid = server.0.id();

    let (accesses, refreshes) = api.sign_in_many("bench", SESSIONS).await;
    let baseline = match std::env::var("BASELINE_BIN") {
        Ok(binary) if !binary.is_empty() => {
            Some(Baseline::start(&binary, (store.0, &store.1), &prefix).await)
        }
        _ => None,
    };
    println!(
        "wrk: 1 thread, {CONNECTIONS} connections, {} s per phase",
        PHASE.as_secs()
    );

    // A short unmeasured run first: the first seconds of a fresh server are slower
    // (connections, allocator and caches warming up).
    if let Some(baseline) = &baseline {
        baseline.warm_up();
    }
    for url in [ceiling_url.clone(), format!("{}/api/v1/me", api.base)] {
        wrk::run(&url, wrk::POST_WITH_BEARERS, &accesses, WARM_UP);
    }
    // The flat-out and paced phases run ROUNDS times, and the goals read their medians:
    // one 8 s sample of this VM can be a third faster or slower than the next.
    let me_url = format!("{}/api/v1/me", api.base);
    let mut me_rounds = Vec::new();
    // The baseline's `me` run of each round, beside `me_rounds`.
    let mut baseline_rounds: Vec<Measured> = Vec::new();
    for round in 1..=ROUNDS {
        println!("round {round} of {ROUNDS}");
        let ceiling = measure(
            ceiling_server.0.id(),
            &ceiling_url,
            wrk::POST_WITH_BEARERS,
            &[],
            PHASE,
        );
        print_measured("plain axum (ceiling)", &ceiling);
        // This build and the baseline take turns at going first.
        let baseline_first = round % 2 == 0;
        let measure_baseline = |baseline: &Baseline| {
            let run = baseline.measure_me();
            print_measured("/api/v1/me  baseline (max)", &run);
            run
        };
        let before = baseline
            .as_ref()
            .filter(|_| baseline_first)
            .map(measure_baseline);
        let me = measure(pid, &me_url, wrk::POST_WITH_BEARERS, &accesses, PHASE);
        print_measured("/api/v1/me  (max)", &me);
        let after = baseline
            .as_ref()
            .filter(|_| !baseline_first)
            .map(measure_baseline);
        baseline_rounds.extend(before.or(after));
        let paced = accesses[..CONNECTIONS].to_vec();
        let half = paced::run(api.port, paced, paced_rate(me.run.rate), PHASE, me_step);
        half.print("/api/v1/me  (half load, paced)");
        let nothing = vec![String::new(); CONNECTIONS];
        let floor = paced::run(
            ceiling_port,
            nothing,
            paced_rate(me.run.rate),
            PHASE,
            ceiling_step,
        );
        floor.print("plain axum (same pace)");
        me_rounds.push((ceiling, me, half, floor));
    }

    let refresh_url = format!("{}/api/v1/auth/refresh", api.base);
    let mut refresh_rounds = Vec::new();
    // The bound refresh of each round, beside `refresh_rounds`.
    let mut bound_rounds: Vec<Measured> = Vec::new();
    // The baseline's refresh of each round, beside `refresh_rounds`.
    let mut baseline_refresh_rounds: Vec<Measured> = Vec::new();
    // Script calls and their time inside Redis, flat out and at half load, all rounds.
    let (mut scripts, mut scripts_half) = (None::<(f64, f64)>, None::<(f64, f64)>);
    let add = |total: &mut Option<(f64, f64)>, (calls, usec): (f64, f64)| {
        let (all_calls, all_usec) = total.get_or_insert((0.0, 0.0));
        *all_calls += calls;
        *all_usec += usec;
    };
    // With one Redis: its EVALSHA rate at each refresh run (the ratio's other side).
    let mut evalsha_rounds = Vec::new();
    let mut refreshes = refreshes;
    for round in 1..=ROUNDS {
        println!("round {round} of {ROUNDS}");
        if round > 1 {
            // A flat-out run rotates its tokens away: fresh sessions for every run.
            refreshes = api
                .sign_in_many(&format!("bench-{round}-"), SESSIONS)
                .await
                .1;
        }
        if let Some(facts) = facts.as_mut() {
            evalsha_rounds.push(facts.evalsha_rate(&store.1));
            facts.reset_stats();
        }
        // This build and the baseline take turns at going first, as for `me`.
        let baseline_first = round % 2 == 0;
        if let Some(baseline) = baseline.as_ref().filter(|_| baseline_first) {
            let run = baseline.measure_refresh(round).await;
            print_measured("auth/refresh baseline (max)", &run);
            baseline_refresh_rounds.push(run);
            if let Some(facts) = facts.as_mut() {
                facts.reset_stats();
            }
        }
        let refresh = measure(pid, &refresh_url, wrk::REFRESH_ROTATING, &refreshes, PHASE);
        print_measured("auth/refresh (max)", &refresh);
        if let Some(facts) = facts.as_mut() {
            add(&mut scripts, facts.script_totals());
        }
        if let Some(baseline) = baseline.as_ref().filter(|_| !baseline_first) {
            let run = baseline.measure_refresh(round).await;
            print_measured("auth/refresh baseline (max)", &run);
            baseline_refresh_rounds.push(run);
        }
        let (_, fresh) = api
            .sign_in_many(&format!("bench-half-{round}-"), CONNECTIONS)
            .await;
        if let Some(facts) = facts.as_mut() {
            facts.reset_stats();
        }
        let half = paced::run(
            api.port,
            fresh,
            paced_rate(refresh.run.rate),
            PHASE,
            refresh_step,
        );
        half.print("auth/refresh (half, paced)");
        if let Some(facts) = facts.as_mut() {
            add(&mut scripts_half, facts.script_totals());
        }
        // Bound sessions: the same rotation plus a DPoP proof checked (ES256) and its
        // `jti` claimed inside the script. Proofs are signed before the run, enough for
        // this round's bearer rate, which a bound refresh does not exceed.
        let key = DeviceKey::new();
        let (bound_tokens, nonce) = api
            .sign_in_many_bound(&format!("bench-bound-{round}-"), SESSIONS, &key)
            .await;
        let wanted = (refresh.run.rate * PHASE.as_secs_f64() * 1.2) as usize + 1_000;
        let proofs: Vec<String> = (0..wanted)
            .map(|_| key.proof(&refresh_url, Some(&nonce)))
            .collect();
        let before = cpu::seconds(pid);
        let run = wrk::run_with_files(
            &refresh_url,
            wrk::REFRESH_ROTATING_BOUND,
            &[&bound_tokens, &proofs],
            PHASE,
        );
        let bound = Measured {
            cpu_us_per_request: (cpu::seconds(pid) - before) * 1e6 / run.requests.max(1) as f64,
            run,
        };
        print_measured("auth/refresh bound (max)", &bound);
        refresh_rounds.push((refresh, half));
        bound_rounds.push(bound);
    }
    let session_bytes = facts.as_mut().map(RedisFacts::bytes_per_session);
    let script_alone = facts
        .as_mut()
        .map(|facts| facts.rotate_script_alone(&std::env::var("REDIS_URL").unwrap(), now_ms()));

    let extras = match facts.as_mut() {
        Some(facts) => Some((session_sweep().await, thousand_sessions(&api, facts).await)),
        None => None,
    };

    println!();
    println!(
        "ratios and goals (this run: medians of {ROUNDS} rounds, each round's value in brackets)"
    );
    let rounds = |values: Vec<f64>, unit: &str| {
        let listed: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
        format!("{:>8.1} {unit:<3} [{}]", median(values), listed.join(", "))
    };
    let me_rate = |(_, me, _, _): &(Measured, Measured, paced::Report, paced::Report)| me.run.rate;
    println!(
        "me / ceiling                  {}  (goal >= 35 %)",
        rounds(
            me_rounds
                .iter()
                .map(|(ceiling, me, _, _)| me.run.rate / ceiling.run.rate * 100.0)
                .collect(),
            "%"
        )
    );
    println!(
        "me server CPU                 {}  (goal <= 25 us; ceiling {:.1} us)",
        rounds(
            me_rounds
                .iter()
                .map(|(_, me, _, _)| me.cpu_us_per_request)
                .collect(),
            "us"
        ),
        median(
            me_rounds
                .iter()
                .map(|(ceiling, _, _, _)| ceiling.cpu_us_per_request)
                .collect()
        )
    );
    println!(
        "me flat out                   {}",
        rounds(me_rounds.iter().map(me_rate).collect(), "/s")
    );
    if let Some(baseline) = &baseline {
        println!(
            "me CPU, baseline / this build {}  (goal >= 2: twice the throughput of {}, \
             measured in turns with this build; baseline {:.1} us)",
            rounds(
                baseline_rounds
                    .iter()
                    .zip(&me_rounds)
                    .map(|(base, (_, me, _, _))| base.cpu_us_per_request / me.cpu_us_per_request)
                    .collect(),
                "x"
            ),
            baseline.label,
            median(
                baseline_rounds
                    .iter()
                    .map(|base| base.cpu_us_per_request)
                    .collect()
            )
        );
        println!(
            "me CPU, this / baseline       {}  (goal <= 110 % of the commit before a change)",
            rounds(
                baseline_rounds
                    .iter()
                    .zip(&me_rounds)
                    .map(|(base, (_, me, _, _))| {
                        me.cpu_us_per_request / base.cpu_us_per_request * 100.0
                    })
                    .collect(),
                "%"
            )
        );
        println!(
            "me flat out, this / baseline  {}  (wrk and Redis share the cores, so less than the CPU ratio)",
            rounds(
                baseline_rounds
                    .iter()
                    .zip(&me_rounds)
                    .map(|(base, (_, me, _, _))| me.run.rate / base.run.rate)
                    .collect(),
                "x"
            )
        );
    }
    println!(
        "p99 at half load, me          {}  (goal < 5 ms, from the due time)",
        rounds(
            me_rounds
                .iter()
                .map(|(_, _, half, _)| half.percentile_ms(0.99))
                .collect(),
            "ms"
        )
    );
    println!(
        "p99 at half load, refresh     {}  (goal < 5 ms)",
        rounds(
            refresh_rounds
                .iter()
                .map(|(_, half)| half.percentile_ms(0.99))
                .collect(),
            "ms"
        )
    );
    println!(
        "this client's floor           {}  (p99 against plain axum at me's pace)",
        rounds(
            me_rounds
                .iter()
                .map(|(_, _, _, floor)| floor.percentile_ms(0.99))
                .collect(),
            "ms"
        )
    );
    let refresh_rates: Vec<f64> = refresh_rounds.iter().map(|(r, _)| r.run.rate).collect();
    println!(
        "refresh flat out              {}  ({} us CPU a request)",
        rounds(refresh_rates.clone(), "/s"),
        rounds(
            refresh_rounds
                .iter()
                .map(|(r, _)| r.cpu_us_per_request)
                .collect(),
            "us"
        )
        .trim_start()
    );
    if !evalsha_rounds.is_empty() {
        println!(
            "refresh / redis EVALSHA       {}  (goal >= 20 %; EVALSHA {}, each beside its round's refresh run)",
            rounds(
                refresh_rates
                    .iter()
                    .zip(&evalsha_rounds)
                    .map(|(rate, evalsha)| rate / evalsha * 100.0)
                    .collect(),
                "%"
            ),
            rounds(evalsha_rounds.clone(), "/s").trim_start()
        );
    }
    if let Some(baseline) = &baseline {
        println!(
            "refresh CPU, this / baseline  {}  (goal <= 110 % of the commit before a change; \
             measured in turns with {}, baseline {:.1} us)",
            rounds(
                baseline_refresh_rounds
                    .iter()
                    .zip(&refresh_rounds)
                    .map(
                        |(base, (this, _))| this.cpu_us_per_request / base.cpu_us_per_request
                            * 100.0
                    )
                    .collect(),
                "%"
            ),
            baseline.label,
            median(
                baseline_refresh_rounds
                    .iter()
                    .map(|base| base.cpu_us_per_request)
                    .collect()
            )
        );
    }
    let bound_rates: Vec<f64> = bound_rounds.iter().map(|b| b.run.rate).collect();
    println!(
        "bound refresh flat out        {}  ({} us CPU a request; DPoP proof checked)",
        rounds(bound_rates.clone(), "/s"),
        rounds(
            bound_rounds.iter().map(|b| b.cpu_us_per_request).collect(),
            "us"
        )
        .trim_start()
    );
    if !evalsha_rounds.is_empty() {
        println!(
            "bound refresh / EVALSHA       {}  (goal >= 10 %)",
            rounds(
                bound_rates
                    .iter()
                    .zip(&evalsha_rounds)
                    .map(|(rate, evalsha)| rate / evalsha * 100.0)
                    .collect(),
                "%"
            )
        );
    }
    let refresh_requests: u64 = refresh_rounds.iter().map(|(r, _)| r.run.requests).sum();
    if let (Some((calls, usec)), Some((calls_half, usec_half))) = (scripts, scripts_half) {
        println!(
            "rotate script in Redis        {:>8.1} us  (goal <= 12 us; {:.2} script calls a refresh) \
             flat out, where Redis shares the cores with wrk and the server",
            usec / calls.max(1.0),
            calls / refresh_requests.max(1) as f64
        );
        println!(
            "rotate script in Redis        {:>8.1} us  at half load",
            usec_half / calls_half.max(1.0)
        );
    }
    if let Some(alone) = script_alone {
        println!(
            "rotate script in Redis        {alone:>8.1} us  alone (redis-benchmark, 8 clients, best of 3, \
             nothing else running)"
        );
    }
    if let Some((session, index)) = session_bytes {
        println!(
            "Redis memory per session      {:>8.0} B   (goal <= 1024: session hash {session:.0} B + index share {index:.0} B)",
            session + index
        );
    }
    if let Some((sweep, (list, end))) = extras {
        let spread = |pick: fn(&(u64, f64, f64)) -> f64| {
            let rates: Vec<f64> = sweep.iter().map(pick).collect();
            let max = rates.iter().cloned().fold(f64::MIN, f64::max);
            let min = rates.iter().cloned().fold(f64::MAX, f64::min);
            (max - min) / max * 100.0
        };
        println!(
            "1k..1M sessions: spread       me {:.1} %, refresh {:.1} %   (goal within 10 %; of the shares above)",
            spread(|row| row.1),
            spread(|row| row.2)
        );
        for (name, held) in [("list", list), ("sign out everywhere", end)] {
            println!(
                "1,000 sessions, {name:<19} {:.0} script calls of {:.2} ms each in Redis ({:.1} ms over HTTP)",
                held.calls, held.per_call_ms, held.http_ms
            );
        }
    }
}
