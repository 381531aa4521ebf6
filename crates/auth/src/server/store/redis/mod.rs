//! The production store on Redis.
//!
//! - One multiplexed connection per thread, opened on the thread's first call: a
//!   [`ConnectionManager`] for a single Redis (`REDIS_URL`) or a Cluster connection
//!   (`REDIS_CLUSTER_NODES`). Each server thread runs a runtime of its own
//!   (`http/threads.rs`) and a connection's tasks run on the runtime that opened it, so
//!   each thread does its own Redis work and no request waits on another thread. Both
//!   kinds reconnect by themselves after Redis restarts (the Cluster one also follows
//!   moved slots), and the app can start while Redis is still down.
//! - Every command runs under [`COMMAND_TIMEOUT`], so a hung or stopped Redis becomes
//!   [`StoreError::Unavailable`] (HTTP 503) within about a second, never a hang; after a
//!   few timeouts in a row the breaker (`breaker.rs`) answers 503 at once for a moment.
//! - Every decision is one Lua script (atomic, one round trip). Keys of one user share the
//!   hash tag `{<user id>}`, so each script touches a single Cluster slot.
//! - A session is one hash, with its rotation bookkeeping inside: hashes and the sealed
//!   successor as raw bytes, earlier hashes as fingerprints (see `rotation.lua`). Every
//!   value stays within 64 bytes, so Redis keeps the hash as a compact listpack (its size
//!   is measured by `./scripts/bench`, docs/performance.md).
//!
//! One job per file: [`connection`] (each thread's connection, the timeout, the
//! breaker), [`keys`] (the key layout), [`codec`] (how a session is laid out in its
//! hash) and [`operations`] (the scripts and the store's calls).

use super::{breaker::Breaker, StoreError, HISTORY_LEN};
use connection::{tls_roots, unavailable, Target};

pub use connection::Connection;
use keys::Keys;
#[cfg(feature = "cluster")]
use redis::cluster::ClusterClient;
use redis::{IntoConnectionInfo, ProtocolVersion};
use std::time::{Duration, Instant};
use thread_local::ThreadLocal;
use tokio::sync::OnceCell;

mod codec;
mod connection;
mod keys;
mod operations;

/// Sessions one script call lists or ends: a person with many sessions is served in
/// several short calls (about half a millisecond each) instead of one that holds Redis.
pub const SESSIONS_PER_CALL: usize = 100;

/// Upper bound for any single store call, connection included.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(1000);

// `rotation.lua` keeps the earlier hashes in a ring of 32 8-byte fingerprints.
const _: () = assert!(
    HISTORY_LEN == 32,
    "rotation.lua remembers exactly 32 earlier hashes"
);

/// Session store on Redis (see the module docs for the guarantees).
pub struct RedisStore {
    target: Target,
    /// Each thread's connection (see the module docs).
    connections: ThreadLocal<OnceCell<Connection>>,
    keys: Keys,
    /// Fails calls at once while Redis hangs (see `breaker.rs`).
    breaker: Breaker,
}

impl RedisStore {
    /// A store for `url` whose keys all start with `prefix` (production: `"ssi"`).
    /// `rediss://` URLs use TLS, checking the server against `ca` (PEM) when given, else
    /// against the system's CAs. Does not connect yet: the first call does, and later
    /// calls reconnect as needed.
    pub fn new(url: &str, prefix: &str, ca: Option<&[u8]>) -> Result<Self, StoreError> {
        let mut info = url.into_connection_info().map_err(unavailable)?;
        // RESP3 (Redis 6 and newer): a connection that breaks while idle then tells its
        // `ConnectionManager`, which reconnects at once instead of failing the next call
        // with a broken pipe. The store's replies look the same in both protocols: its
        // scripts answer in RESP2 types, and HMGET, ZRANGE and PING are arrays or strings.
        info.redis.protocol = ProtocolVersion::RESP3;
        let client = match ca {
            Some(ca) => redis::Client::build_with_tls(info, tls_roots(ca)),
            None => redis::Client::open(info),
        }
        .map_err(unavailable)?;
        Ok(Self::with_target(Target::Single(client), prefix))
    }

    /// A store on the Redis Cluster reachable through the `seeds` (`redis://` URLs of
    /// some of its nodes). Every key of a user shares one hash tag, so each script
    /// touches a single slot. Does not connect yet. (Feature `cluster`.)
    #[cfg(feature = "cluster")]
    pub fn cluster(seeds: &[String], prefix: &str, ca: Option<&[u8]>) -> Result<Self, StoreError> {
        let mut builder = ClusterClient::builder(seeds.to_vec())
            .connection_timeout(COMMAND_TIMEOUT)
            .response_timeout(COMMAND_TIMEOUT)
            .retries(2);
        if let Some(ca) = ca {
            builder = builder.certs(tls_roots(ca));
        }
        let client = builder.build().map_err(unavailable)?;
        Ok(Self::with_target(Target::Cluster(client), prefix))
    }

    /// The key of an app's own data `name` about a person: under the store's prefix and
    /// in the person's Cluster slot, beside their sessions (`<prefix>:{<user id>}:<name>`).
    /// `name` must not be one auth uses: `sessions`, or one starting `session:`,
    /// `ended:` or `proof:`.
    pub fn user_key(&self, user_id: &str, name: &str) -> String {
        self.keys.in_user_space(user_id, &[name])
    }

    fn with_target(target: Target, prefix: &str) -> Self {
        Self {
            target,
            connections: ThreadLocal::new(),
            breaker: Breaker::new(Instant::now()),
            keys: Keys {
                prefix: prefix.to_string(),
            },
        }
    }
}
