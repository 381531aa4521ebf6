//! Serving one listener from several threads, each running a single-threaded tokio
//! runtime of its own (`SERVER_THREADS`, one per CPU by default).
//!
//! Why not tokio's multi-threaded runtime: its idle worker is woken to look for work
//! whenever a task becomes runnable, and a request's few short polls (read, Redis,
//! answer) kept waking it, spinning and parking again. On single-threaded runtimes a
//! connection stays on the thread that accepted it. On the two-core bench machine `me`
//! went from about 46 to about 36 µs of server CPU a request (ARCHITECTURE "Request
//! path").
//!
//! All threads accept from the same listening socket; the kernel hands each new
//! connection to one of them.

use std::{future::Future, io, num::NonZeroUsize, time::Duration};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Serves `router` on `listener` from the calling task and `threads - 1` threads of its
/// own, until `shutdown` completes. Then every thread stops accepting and finishes its
/// requests in flight, and `drain` runs on each extra thread (work its requests spawned,
/// such as sign-in mails, lives on its runtime). No thread's runtime ends before all
/// threads are done, so no request loses a task that another runtime runs.
pub(super) async fn serve<D, DF>(
    listener: tokio::net::TcpListener,
    router: Router,
    serving: Serving,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: D,
) -> io::Result<()>
where
    D: Fn() -> DF + Clone + Send + 'static,
    DF: Future<Output = ()>,
{
    let stop = CancellationToken::new();
    let release = CancellationToken::new();
    // Dropped unfinished (a test's runtime ending), this still ends the other threads.
    let _stop_if_dropped = (stop.clone().drop_guard(), release.clone().drop_guard());
    let listener = listener.into_std()?;
    let mut finished = Vec::with_capacity(serving.threads.get() - 1);
    for number in 1..serving.threads.get() {
        let (done, outcome) = oneshot::channel();
        let (listener, router, stop, release, drain) = (
            listener.try_clone()?,
            router.clone(),
            stop.clone(),
            release.clone(),
            drain.clone(),
        );
        std::thread::Builder::new()
            .name(format!("http-{number}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = done.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let served =
                        serve_one(listener, router, &serving, stop.cancelled_owned()).await;
                    drain().await;
                    let _ = done.send(served);
                    release.cancelled().await;
                });
            })?;
        finished.push(outcome);
    }
    let signal = stop.clone();
    let mut served = serve_one(listener, router, &serving, async move {
        shutdown.await;
        signal.cancel();
    })
    .await;
    // Whichever way this thread stopped, the others stop too.
    stop.cancel();
    for outcome in finished {
        let thread = outcome
            .await
            .unwrap_or_else(|_| Err(io::Error::other("a server thread panicked")));
        served = served.and(thread);
    }
    served
}

/// How every thread serves its connections.
#[derive(Clone, Copy)]
pub(super) struct Serving {
    /// How many threads serve (`SERVER_THREADS`).
    pub threads: NonZeroUsize,
    /// How long a client may take to send a request's headers, which is also how long a
    /// kept-alive connection may sit idle (`HEADER_READ_TIMEOUT`): a connection that
    /// sends nothing is closed instead of being held forever. A proxy in front must
    /// close its idle upstream connections sooner (`keepalive_timeout` in
    /// `deploy/nginx.conf`).
    pub header_read_timeout: Duration,
}

/// One thread's share: accepts on `listener` until `stop`, then finishes its requests.
/// (`axum::serve`, plus the header-read timeout it has no setting for.)
async fn serve_one(
    listener: std::net::TcpListener,
    router: Router,
    serving: &Serving,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_read_timeout);
    let connections = GracefulShutdown::new();
    let closing = CancellationToken::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // What `into_make_service_with_connect_info` did: the peer in every request.
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let (builder, watcher) = (builder.clone(), connections.watcher());
        let (first_byte_within, closing) = (serving.header_read_timeout, closing.clone());
        tokio::spawn(async move {
            // Telling HTTP/1 from HTTP/2 waits for the first bytes, and hyper's header
            // timer only starts after that: a connection that sends nothing at all must
            // be timed here (and let go at once when the server stops).
            let mut first = [0u8; 1];
            let sent = tokio::select! {
                sent = tokio::time::timeout(first_byte_within, stream.peek(&mut first)) => {
                    matches!(sent, Ok(Ok(1..)))
                }
                () = closing.cancelled() => false,
            };
            if !sent {
                return;
            }
            let connection = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            // A client that goes away or sends garbage ends only its own connection.
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    closing.cancel();
    // Idle connections close now, busy ones after their request in flight.
    connections.shutdown().await;
    Ok(())
}

/// After a failed `accept`: a refused or reset connection is the client's business;
/// anything else (out of file descriptors) waits a second so the loop does not spin.
async fn wait_after_accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::error!(%error, "cannot accept connections; trying again in a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
