//! Serving one listener from several threads, each running a single-threaded tokio
//! runtime of its own (`SERVER_THREADS`, one per CPU by default).
//!
//! Why not tokio's multi-threaded runtime: its idle worker is woken to look for work
//! whenever a task becomes runnable, and a request's few short polls (read, Redis,
//! answer) kept waking it, spinning and parking again. On single-threaded runtimes a
//! connection stays on the thread that accepted it, at less CPU a request (measured in
//! docs/performance.md, "The request path, as measured").
//!
//! All threads accept from the same listening socket, but the kernel hands a burst of
//! new connections to whichever thread is awake, often all of them to one: a thread
//! that accepts while another serves fewer connections passes the connection on to the
//! least busy one ([`Balance`]), so every core gets its share of kept-alive clients.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    num::NonZeroUsize,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::sync::{mpsc, oneshot};
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
    let (balance, inboxes) = Balance::new(serving.threads.get());
    let mut inboxes = inboxes.into_iter();
    let my_inbox = inboxes.next().expect("one inbox per thread");
    let mut finished = Vec::with_capacity(serving.threads.get() - 1);
    for (number, inbox) in (1..).zip(inboxes) {
        let (done, outcome) = oneshot::channel();
        let (listener, router, stop, release, drain) = (
            listener.try_clone()?,
            router.clone(),
            stop.clone(),
            release.clone(),
            drain.clone(),
        );
        let share = Share {
            thread: number,
            balance: balance.clone(),
            inbox,
        };
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
                        serve_one(listener, share, router, &serving, stop.cancelled_owned()).await;
                    drain().await;
                    let _ = done.send(served);
                    release.cancelled().await;
                });
            })?;
        finished.push(outcome);
    }
    let signal = stop.clone();
    let share = Share {
        thread: 0,
        balance,
        inbox: my_inbox,
    };
    let mut served = serve_one(listener, share, router, &serving, async move {
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

/// A connection passed from the thread that accepted it to the one that serves it.
type Handed = (std::net::TcpStream, SocketAddr);

/// How many connections each thread serves, and the way to hand one to another thread.
#[derive(Clone)]
struct Balance {
    open: Arc<[AtomicUsize]>,
    inboxes: Arc<[mpsc::UnboundedSender<Handed>]>,
}

impl Balance {
    /// The balance of `threads` threads, and each thread's inbox, in thread order.
    fn new(threads: usize) -> (Self, Vec<mpsc::UnboundedReceiver<Handed>>) {
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
        let balance = Self {
            open: (0..threads).map(|_| AtomicUsize::new(0)).collect(),
            inboxes: senders.into(),
        };
        (balance, receivers)
    }

    /// Which thread should serve a connection `thread` just accepted, counted as open
    /// there at once (so a burst does not all go to the same other thread).
    fn assign(&self, thread: usize) -> usize {
        let counts: Vec<usize> = self
            .open
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect();
        let target = least_busy(&counts, thread);
        self.open[target].fetch_add(1, Ordering::Relaxed);
        target
    }

    /// A connection of `thread` ended.
    fn closed(&self, thread: usize) {
        self.open[thread].fetch_sub(1, Ordering::Relaxed);
    }
}

/// The thread with the fewest open connections; `mine` unless another has fewer.
fn least_busy(open: &[usize], mine: usize) -> usize {
    let fewest = open.iter().copied().min().unwrap_or(0);
    if open[mine] <= fewest {
        mine
    } else {
        open.iter().position(|&n| n == fewest).unwrap_or(mine)
    }
}

/// What one thread needs to take part in the balance.
struct Share {
    thread: usize,
    balance: Balance,
    inbox: mpsc::UnboundedReceiver<Handed>,
}

/// Counts a connection as open on its thread until the connection's task ends.
struct OpenConnection(Balance, usize);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.closed(self.1);
    }
}

/// One thread's share: accepts on `listener` (and takes connections other threads hand
/// it) until `stop`, then finishes its requests. (`axum::serve`, plus the header-read
/// timeout it has no setting for.)
async fn serve_one(
    listener: std::net::TcpListener,
    mut share: Share,
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
                Ok((stream, peer)) => match hand_over(&share, stream, peer) {
                    Some(mine) => mine,
                    None => continue,
                },
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            Some((stream, peer)) = share.inbox.recv() => {
                match tokio::net::TcpStream::from_std(stream) {
                    Ok(stream) => (stream, peer),
                    Err(_) => {
                        share.balance.closed(share.thread);
                        continue;
                    }
                }
            }
            () = &mut stop => break,
        };
        let open = OpenConnection(share.balance.clone(), share.thread);
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
            let _open = open;
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

/// A connection this thread accepted: kept (`Some`) when this thread is the least busy,
/// else passed to the thread that is. Counted as open on the thread that serves it.
fn hand_over(
    share: &Share,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    let balance = &share.balance;
    let target = balance.assign(share.thread);
    if target == share.thread {
        return Some((stream, peer));
    }
    let Ok(stream) = stream.into_std() else {
        balance.closed(target);
        return None;
    };
    let Err(mpsc::error::SendError((stream, peer))) = balance.inboxes[target].send((stream, peer))
    else {
        return None;
    };
    // That thread has stopped (its runtime failed to start, or the server is stopping):
    // this one serves the connection after all.
    balance.closed(target);
    let stream = tokio::net::TcpStream::from_std(stream).ok()?;
    balance.open[share.thread].fetch_add(1, Ordering::Relaxed);
    Some((stream, peer))
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

#[cfg(test)]
mod tests {
    use super::{least_busy, Balance};

    #[test]
    fn a_thread_keeps_a_connection_unless_another_serves_fewer() {
        assert_eq!(least_busy(&[0, 0], 0), 0);
        assert_eq!(least_busy(&[3, 3, 3], 2), 2);
        assert_eq!(least_busy(&[1, 0], 0), 1);
        assert_eq!(least_busy(&[5, 2, 1, 1], 1), 2);
    }

    #[test]
    fn a_burst_accepted_by_one_thread_is_spread_over_all() {
        let (balance, _inboxes) = Balance::new(4);
        let mut served = [0; 4];
        for _ in 0..32 {
            served[balance.assign(0)] += 1;
        }
        assert_eq!(served, [8, 8, 8, 8]);
        balance.closed(3);
        balance.closed(3);
        assert_eq!(
            balance.assign(1),
            3,
            "the thread with the fewest open takes the next"
        );
    }
}
