//! Each thread's connection to Redis (a `ConnectionManager` for one Redis, a Cluster
//! connection for a Cluster), opened on the thread's first call, and how every call runs
//! through it: under [`COMMAND_TIMEOUT`], unless the breaker is open.

use super::{RedisStore, COMMAND_TIMEOUT};
use crate::server::store::{breaker::CircuitOpen, StoreError};
use redis::aio::{ConnectionLike, ConnectionManager};
#[cfg(feature = "cluster")]
use redis::{cluster::ClusterClient, cluster_async::ClusterConnection};
use std::{future::Future, time::Instant};

/// Where the store connects.
pub(super) enum Target {
    Single(redis::Client),
    #[cfg(feature = "cluster")]
    Cluster(ClusterClient),
}

/// A thread's connection: every call goes through it the same way, whichever kind it
/// is. [`RedisStore::run`] lends it to an app's own data too: any command or script
/// runs on it (it is a [`ConnectionLike`]).
#[derive(Clone)]
pub struct Connection(pub(super) Kind);

/// The kinds of connection behind a [`Connection`].
#[derive(Clone)]
pub(super) enum Kind {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(ClusterConnection),
}

/// A single Redis' commands are tried a second time when the first was refused before
/// it was sent: after an outage, a `ConnectionManager` answers its first call with the
/// failure of its last attempt to reconnect (made while Redis was down), and only then
/// reconnects. Every thread has a connection of its own, so without this each would
/// fail one request after Redis is back, while `/healthz` already says it is. A refused
/// connection sent nothing, so the second try cannot run anything twice. (The Cluster
/// connection retries by itself.)
impl ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match &mut self.0 {
            Kind::Single(c) => Box::pin(async move {
                match c.req_packed_command(cmd).await {
                    Err(error) if error.is_connection_refusal() => c.req_packed_command(cmd).await,
                    answer => answer,
                }
            }),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match &mut self.0 {
            Kind::Single(c) => Box::pin(async move {
                match c.req_packed_commands(cmd, offset, count).await {
                    Err(error) if error.is_connection_refusal() => {
                        c.req_packed_commands(cmd, offset, count).await
                    }
                    answer => answer,
                }
            }),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Kind::Single(c) => c.get_db(),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.get_db(),
        }
    }
}

/// Trust only `ca` (PEM) for `rediss://`; no client certificate.
pub(super) fn tls_roots(ca: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.to_vec()),
    }
}

impl RedisStore {
    /// This thread's connection, opened on its first use.
    async fn connection(&self) -> Result<Connection, StoreError> {
        let cell = self.connections.get_or_default();
        // The usual case first, without building the (large) future that would connect.
        if let Some(connection) = cell.get() {
            return Ok(connection.clone());
        }
        let connect = || async {
            match &self.target {
                Target::Single(client) => {
                    // No response timeout here: `run` bounds every call already, and a
                    // second timer a call made the runtime wake itself about once more a
                    // request (the connection timeout covers the handshake too). One
                    // attempt a reconnect, no back-off: the next call starts another,
                    // and a call retried after a refusal (`Connection`) waits for it.
                    let config = redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(COMMAND_TIMEOUT)
                        .set_number_of_retries(0);
                    ConnectionManager::new_with_config(client.clone(), config)
                        .await
                        .map(|c| Connection(Kind::Single(c)))
                        .map_err(unavailable)
                }
                #[cfg(feature = "cluster")]
                Target::Cluster(client) => client
                    .get_async_connection()
                    .await
                    .map(|c| Connection(Kind::Cluster(c)))
                    .map_err(unavailable),
            }
        };
        let manager = with_timeout(cell.get_or_try_init(connect)).await?;
        Ok(manager.clone())
    }

    /// Runs one call on this thread's connection under the store's timeout, unless the
    /// breaker is open. Every store call goes through here, and so can an app's own
    /// data in the same Redis (under keys from [`RedisStore::user_key`]): it gets the
    /// same reconnects, timeout and 503s.
    pub async fn run<T, F, Fut>(&self, call: F) -> Result<T, StoreError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allows(Instant::now) {
            return Err(StoreError::Unavailable(Box::new(CircuitOpen)));
        }
        let result = match self.connection().await {
            Ok(connection) => {
                with_timeout(async { call(connection).await.map_err(unavailable) }).await
            }
            Err(error) => Err(error),
        };
        match &result {
            Err(StoreError::TimedOut) => self.breaker.timed_out(Instant::now()),
            // Refused at once (Redis down, not hung): no answer, and no wait either.
            Err(StoreError::Unavailable(_)) => {}
            Ok(_) | Err(StoreError::Corrupt { .. }) => self.breaker.answered(),
        }
        result
    }
}

async fn with_timeout<T>(
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(COMMAND_TIMEOUT, call)
        .await
        .unwrap_or(Err(StoreError::TimedOut))
}

pub(super) fn unavailable(error: redis::RedisError) -> StoreError {
    if error.is_timeout() {
        StoreError::TimedOut
    } else {
        StoreError::Unavailable(Box::new(error))
    }
}
