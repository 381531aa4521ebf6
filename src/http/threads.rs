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

use std::{future::Future, io, net::SocketAddr, num::NonZeroUsize};

use axum::Router;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listener` from the calling task and `threads - 1` threads of its
/// own, until `shutdown` completes. Then every thread stops accepting and finishes its
/// requests in flight, and `drain` runs on each extra thread (work its requests spawned,
/// such as sign-in mails, lives on its runtime). No thread's runtime ends before all
/// threads are done, so no request loses a task that another runtime runs.
pub(super) async fn serve<D, DF>(
    listener: tokio::net::TcpListener,
    router: Router,
    threads: NonZeroUsize,
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
    let mut finished = Vec::with_capacity(threads.get() - 1);
    for number in 1..threads.get() {
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
                    let served = serve_one(listener, router, stop.cancelled_owned()).await;
                    drain().await;
                    let _ = done.send(served);
                    release.cancelled().await;
                });
            })?;
        finished.push(outcome);
    }
    let signal = stop.clone();
    let mut served = serve_one(listener, router, async move {
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

/// One thread's share: accepts on `listener` until `stop`, then finishes its requests.
async fn serve_one(
    listener: std::net::TcpListener,
    router: Router,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}
