//! Everything the performance budget asks, in one run, against the release server binary
//! and a real Redis (or a Redis Cluster), over real HTTP:
//!
//! - the HTTP ceiling of this machine: a plain axum handler returning fixed JSON, served
//!   by this very binary in a child process (`--ceiling-server PORT`);
//! - `POST /api/v1/me` (JWT check in memory + one Redis round trip) and
//!   `POST /api/v1/auth/refresh` (one rotate script), flat out with wrk, and the server
//!   CPU a request costs (`/proc/<pid>/stat`);
//! - both at half of their maximum rate, paced, latency counted from when each request
//!   was *due* (so queueing shows: no coordinated omission);
//! - with one Redis: the rotate script's time inside Redis (`INFO commandstats`: during
//!   the refresh runs, and alone under `redis-benchmark`), memory
//!   per session (`MEMORY USAGE`), throughput with 1k, 100k and 1M sessions stored, and
//!   how long listing and ending 1,000 sessions of one person holds Redis.
//!
//! Absolute numbers drift between machines, so the table ends with ratios to the
//! ceilings of the same run; `./scripts/bench` adds Redis' own scripting ceiling
//! (`redis-benchmark` EVALSHA, passed as `EVALSHA_RPS`). The load generator shares the
//! machine's cores with the server, so the numbers are a floor.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features ssr` (or with
//! `REDIS_CLUSTER_NODES`; `PACED_RATE=N` paces the half-load phases at N requests/s); `./scripts/bench` starts a Redis and a Cluster of its own. The
//! sweep starts three more Redis servers (`redis-server` from the PATH) and a server on
//! each, and writes up to a million filler sessions (about 1 GB) into one of them.

use serde_json::{json, Value};
#[path = "support/cpu.rs"]
mod cpu;
#[path = "../tests/support/free_port.rs"]
mod free_port;
#[path = "support/redis_facts.rs"]
mod redis_facts;
#[path = "support/wrk.rs"]
mod wrk;

use free_port::free_port;
use redis_facts::RedisFacts;
use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

const CONNECTIONS: usize = 32;
const PHASE: Duration = Duration::from_secs(8);
/// Shorter phases for the session-count sweep (twelve runs).
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
        let before = self.newest_link(email).await;
        self.post("/api/v1/auth/magic-link", json!({ "email": email }), None)
            .await;
        let token = loop {
            match self.newest_link(email).await {
                Some(token) if Some(&token) != before.as_ref() => break token,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
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

    fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
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

/// One request of a connection: takes its token, gives back the token to use next and
/// whether the request succeeded.
type Step = std::pin::Pin<Box<dyn std::future::Future<Output = (String, bool)> + Send>>;

/// Runs `step` on every connection for [`PHASE`], paced to `rate` requests/s in all.
///
/// A thread of its own hands out the due times (a sleeping thread wakes within tens of
/// microseconds; tokio's timer rounds to whole milliseconds), round robin over the
/// connections. A connection still busy when its next request is due sends it late, and
/// that request's latency counts from when it was *due*: a server that falls behind
/// shows the queueing it causes (no coordinated omission).
async fn run<F>(states: Vec<String>, rate: f64, step: F) -> Report
where
    F: Fn(String) -> Step + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let started = Instant::now();
    let (senders, tasks): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|mut state| {
            let step = step.clone();
            let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let task = tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while let Some(due) = due_rx.recv().await {
                    let (new_state, ok) = step(state).await;
                    state = new_state;
                    latencies.push(due.elapsed().as_micros() as u64);
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            });
            (due_tx, task)
        })
        .unzip();
    let interval = Duration::from_secs_f64(1.0 / rate);
    std::thread::spawn(move || {
        for (i, sender) in senders.iter().cycle().enumerate() {
            let due = started + interval * i as u32;
            if due >= started + PHASE {
                break;
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let _ = sender.send(due);
        }
    });
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

/// The app's release server on `store` (the variable that names it, and its value),
/// with its keys under `prefix`, once it answers; and a client for it.
async fn start_app(store: (&str, &str), prefix: &str) -> (Server, Api) {
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_stay-signed-in"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "stay-signed-in")
            .env(store.0, store.1)
            .env("REDIS_KEY_PREFIX", prefix)
            .env("RATE_LIMIT_IP", "100000000/1m")
            .env("RATE_LIMIT_EMAIL", "100000000/1m")
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
/// Whether `response` is a 200, after reading its body to the end: the request is done
/// only then, and a connection whose answer was not read to the end is not reused (the
/// next request would pay for a new one).
async fn read_whole(response: reqwest::Response) -> bool {
    let ok = response.status() == 200;
    response.bytes().await.is_ok() && ok
}

fn ceiling_step(api: Api) -> impl Fn(String) -> Step {
    move |state: String| {
        let api = api.clone();
        Box::pin(async move {
            let ok = read_whole(api.post("/ceiling", json!({}), None).await).await;
            (state, ok)
        })
    }
}

fn me_step(api: Api) -> impl Fn(String) -> Step {
    move |access: String| {
        let api = api.clone();
        Box::pin(async move {
            let ok = read_whole(api.post("/api/v1/me", json!({}), Some(&access)).await).await;
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

/// Rounds of the session-count sweep.
const SWEEP_ROUNDS: usize = 3;

/// One size of the sweep: a Redis holding `total` sessions, the app on it, and the
/// best rates it reached.
struct SweepSize {
    total: u64,
    _redis: Server,
    _server: Server,
    api: Api,
    facts: RedisFacts,
    accesses: Vec<String>,
    me: f64,
    refresh: f64,
    failed: u64,
}

/// Throughput of `me` and refresh with 1k, 100k and 1M sessions stored. Each size gets a
/// Redis and a server of its own, filled once; then the sizes take turns, one short run
/// each, for [`SWEEP_ROUNDS`] rounds (each round started by another size), and each
/// keeps its best. Taking turns is the point:
/// this machine's speed wanders by tens of percent over minutes, and measured one size
/// after the other (as this bench did before) that drift read as a difference between
/// the sizes.
async fn session_sweep() -> Vec<(u64, f64, f64)> {
    let mut sizes = Vec::new();
    for total in [1_000u64, 100_000, 1_000_000] {
        let redis_port = free_port();
        let redis = start_redis(redis_port);
        let url = format!("redis://127.0.0.1:{redis_port}/");
        let prefix = format!("sweep-{redis_port}");
        let (server, api) = start_app(("REDIS_URL", &url), &prefix).await;
        let mut facts = RedisFacts::new(&url, &prefix);
        facts.fill_to(total, now_ms());
        let (accesses, _) = api.sign_in_many("sweep-", SESSIONS).await;
        // Unmeasured: lets Redis finish growing its key table after the fill.
        wrk::run(
            &format!("{}/api/v1/me", api.base),
            wrk::POST_WITH_BEARERS,
            &accesses,
            Duration::from_secs(3),
        );
        facts.reset_stats();
        sizes.push(SweepSize {
            total,
            _redis: redis,
            _server: server,
            api,
            facts,
            accesses,
            me: 0.0,
            refresh: 0.0,
            failed: 0,
        });
    }
    for round in 0..SWEEP_ROUNDS {
        // Each round starts with another size, so no size always runs first or last.
        sizes.rotate_left(1);
        for size in &mut sizes {
            let url = format!("{}/api/v1/me", size.api.base);
            let run = wrk::run(&url, wrk::POST_WITH_BEARERS, &size.accesses, SWEEP_PHASE);
            size.me = size.me.max(run.rate);
            size.failed += run.failed;
        }
        for size in &mut sizes {
            // Each refresh run spends its tokens: fresh sessions for every run.
            let label = format!("sweep-{round}-");
            let (_, refreshes) = size.api.sign_in_many(&label, SESSIONS).await;
            let url = format!("{}/api/v1/auth/refresh", size.api.base);
            let run = wrk::run(&url, wrk::REFRESH_ROTATING, &refreshes, SWEEP_PHASE);
            size.refresh = size.refresh.max(run.rate);
            size.failed += run.failed;
        }
    }
    sizes.sort_by_key(|size| size.total);
    let mut rows = Vec::new();
    for size in &mut sizes {
        // Time inside Redis per call over all rounds: what the session count could
        // change, without the HTTP side's noise (commandstats also counts the sign-ins'
        // scripts, a few hundred among tens of thousands of rotations).
        let per_call = |(calls, usec): (f64, f64)| usec / calls.max(1.0);
        let hmget = per_call(size.facts.command_totals(&["hmget"]));
        let scripts = per_call(size.facts.script_totals());
        println!(
            "{:>9} sessions stored ({} keys)   me {:>7.0} req/s   refresh {:>7.0} req/s   \
             in Redis: HMGET {hmget:.1} us, scripts {scripts:.1} us   failed {}",
            size.total,
            size.facts.keys(),
            size.me,
            size.refresh,
            size.failed,
        );
        rows.push((size.total, size.me, size.refresh));
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
    let (server, api) = start_app((store.0, &store.1), &prefix).await;
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
    println!(
        "wrk: 1 thread, {CONNECTIONS} connections, {} s per phase",
        PHASE.as_secs()
    );

    // A short unmeasured run first: the first seconds of a fresh server are slower
    // (connections, allocator and caches warming up).
    for url in [ceiling_url.clone(), format!("{}/api/v1/me", api.base)] {
        wrk::run(
            &url,
            wrk::POST_WITH_BEARERS,
            &accesses,
            Duration::from_secs(3),
        );
    }
    let ceiling = measure(
        ceiling_server.0.id(),
        &ceiling_url,
        wrk::POST_WITH_BEARERS,
        &[],
        PHASE,
    );
    print_measured("plain axum (ceiling)", &ceiling);

    let me = measure(
        pid,
        &format!("{}/api/v1/me", api.base),
        wrk::POST_WITH_BEARERS,
        &accesses,
        PHASE,
    );
    print_measured("/api/v1/me  (max)", &me);
    let paced = accesses[..CONNECTIONS].to_vec();
    let mut me_half = run(paced, paced_rate(me.run.rate), me_step(api.clone())).await;
    me_half.print("/api/v1/me  (half load, paced)");
    let ceiling_api = Api {
        client: api.client.clone(),
        base: Arc::new(format!("http://127.0.0.1:{ceiling_port}")),
    };
    let nothing = vec![String::new(); CONNECTIONS];
    let mut floor = run(nothing, paced_rate(me.run.rate), ceiling_step(ceiling_api)).await;
    floor.print("plain axum (same pace)");

    if let Some(facts) = facts.as_mut() {
        facts.reset_stats();
    }
    let refresh = measure(
        pid,
        &format!("{}/api/v1/auth/refresh", api.base),
        wrk::REFRESH_ROTATING,
        &refreshes,
        PHASE,
    );
    print_measured("auth/refresh (max)", &refresh);
    let scripts = facts.as_mut().map(RedisFacts::script_totals);
    let session_bytes = facts.as_mut().map(RedisFacts::bytes_per_session);
    let (_, fresh) = api.sign_in_many("bench-half", CONNECTIONS).await;
    if let Some(facts) = facts.as_mut() {
        facts.reset_stats();
    }
    let mut refresh_half = run(
        fresh,
        paced_rate(refresh.run.rate),
        refresh_step(api.clone()),
    )
    .await;
    refresh_half.print("auth/refresh (half, paced)");
    let scripts_half = facts.as_mut().map(RedisFacts::script_totals);
    let script_alone = facts
        .as_mut()
        .map(|facts| facts.rotate_script_alone(&std::env::var("REDIS_URL").unwrap(), now_ms()));

    let extras = match facts.as_mut() {
        Some(facts) => Some((session_sweep().await, thousand_sessions(&api, facts).await)),
        None => None,
    };

    println!();
    println!("ratios and goals (this run)");
    println!(
        "me / ceiling                  {:>8.1} %   (goal >= 35 %)",
        me.run.rate / ceiling.run.rate * 100.0
    );
    println!(
        "me server CPU                 {:>8.1} us  (goal <= 25 us; ceiling {:.1} us)",
        me.cpu_us_per_request, ceiling.cpu_us_per_request
    );
    println!(
        "p99 at half load: me {:.2} ms, refresh {:.2} ms (goal < 5 ms, from the due time; \
         this client's floor: {:.2} ms against plain axum at me's pace)",
        me_half.percentile_ms(0.99),
        refresh_half.percentile_ms(0.99),
        floor.percentile_ms(0.99)
    );
    if let Some(evalsha) = std::env::var("EVALSHA_RPS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        println!(
            "refresh / redis EVALSHA       {:>8.1} %   (goal >= 20 %; EVALSHA {evalsha:.0}/s)",
            refresh.run.rate / evalsha * 100.0
        );
    }
    if let (Some((calls, usec)), Some((calls_half, usec_half))) = (scripts, scripts_half) {
        println!(
            "rotate script in Redis        {:>8.1} us  (goal <= 12 us; {:.2} script calls a refresh) \
             flat out, where Redis shares the cores with wrk and the server",
            usec / calls.max(1.0),
            calls / refresh.run.requests.max(1) as f64
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
            "1k..1M sessions: spread       me {:.1} %, refresh {:.1} %   (goal within 10 %)",
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
