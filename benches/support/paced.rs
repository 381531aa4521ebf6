//! The paced client of the half-load phases: requests sent at a fixed rate, each one's
//! latency counted from when it was *due*, so a server that falls behind shows the
//! queueing it causes (no coordinated omission).
//!
//! It shares the machine's two cores with the server and Redis, so it is kept lean: one
//! thread with a single-threaded runtime for all connections, one thread handing out the
//! due times, and hyper's bare HTTP/1.1 connections (no pool, no URL parsing, no
//! per-request client machinery). With reqwest on the bench's multi-threaded runtime the
//! client took about as much CPU a request as the server it measured.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{client::conn::http1::SendRequest, header, Request};
use hyper_util::rt::TokioIo;
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

/// Latencies of one paced phase.
pub struct Report {
    pub requests: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies_us: Vec<u64>,
    /// CPU the whole bench process used during the phase, per request.
    pub client_cpu_us: f64,
}

impl Report {
    /// Prints the phase's rate, p50 and p99.
    pub fn print(&self, name: &str) {
        println!(
            "{name:<28} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {}   client {:.1} us CPU/request",
            self.requests as f64 / self.elapsed.as_secs_f64(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.errors,
            self.client_cpu_us,
        );
    }

    /// The latency at fraction `p` (0.99 for the p99), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// The shortest nap of the thread handing out due times. Requests due during it go out
/// together when it ends, up to this much late, and that wait counts in their latency.
const BATCH: Duration = Duration::from_micros(200);

/// One keep-alive HTTP/1.1 connection to `127.0.0.1:port`.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: Arc<str>,
}

impl Connection {
    async fn open(port: u16) -> Self {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        Self {
            sender,
            host: format!("127.0.0.1:{port}").into(),
        }
    }

    /// `POST path` with a JSON `body` (and a bearer token): the status and the whole body
    /// of the answer, or `None` when the connection failed.
    pub async fn post(
        &mut self,
        path: &str,
        body: Bytes,
        bearer: Option<&str>,
    ) -> Option<(u16, Bytes)> {
        let mut request = Request::post(path)
            .header(header::HOST, &*self.host)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::new(body)).ok()?;
        self.sender.ready().await.ok()?;
        let response = self.sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        // Read to the end: only then is the request done and the connection free.
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, body))
    }
}

/// One request of a connection: takes the connection and its token, gives them back
/// (the token to use next) with whether the request succeeded.
pub type Step = Pin<Box<dyn Future<Output = (Connection, String, bool)> + Send>>;

/// Runs `step` on one connection to `port` per state for `phase`, paced to `rate`
/// requests/s in all, on threads of its own.
///
/// The due times are handed out round robin over the connections by a thread that
/// sleeps between them, [`BATCH`] at least (a sleeping thread wakes within tens of
/// microseconds; tokio's timer rounds to whole milliseconds). A connection still busy
/// when its next request is due sends it late, and that request's latency counts from
/// when it was due.
pub fn run<F>(port: u16, states: Vec<String>, rate: f64, phase: Duration, step: F) -> Report
where
    F: Fn(Connection, String) -> Step + Send + Sync + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(paced(port, states, rate, phase, step))
    })
    .join()
    .expect("the paced client")
}

async fn paced<F>(port: u16, states: Vec<String>, rate: f64, phase: Duration, step: F) -> Report
where
    F: Fn(Connection, String) -> Step + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let mut connections = Vec::new();
    for state in states {
        connections.push((Connection::open(port).await, state));
    }
    let cpu_before = super::cpu::seconds(std::process::id());
    let started = Instant::now();
    let (senders, tasks): (Vec<_>, Vec<_>) = connections
        .into_iter()
        .map(|(mut connection, mut state)| {
            let step = step.clone();
            let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let task = tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while let Some(due) = due_rx.recv().await {
                    let ok;
                    (connection, state, ok) = step(connection, state).await;
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
        let end = started + phase;
        let mut senders = senders.iter().cycle();
        let mut due = started;
        while due < end {
            // Everything due by now goes out at once, then a nap of at least `BATCH`:
            // one wake-up of the client's thread for several requests, not one each.
            let now = Instant::now();
            while due <= now && due < end {
                let _ = senders.next().expect("a connection").send(due);
                due += interval;
            }
            std::thread::sleep(due.saturating_duration_since(now).max(BATCH));
        }
    });
    let mut report = Report {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        client_cpu_us: 0.0,
    };
    for task in tasks {
        let (latencies, errors) = task.await.unwrap();
        report.requests += latencies.len();
        report.errors += errors;
        report.latencies_us.extend(latencies);
    }
    report.elapsed = started.elapsed();
    let cpu = super::cpu::seconds(std::process::id()) - cpu_before;
    report.client_cpu_us = cpu * 1e6 / report.requests.max(1) as f64;
    report
}
