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
//!   value stays within 64 bytes, so Redis keeps the hash as a compact listpack: about
//!   900 bytes per session, plus the person's index (about 170 bytes with one session).

use super::{
    breaker::{Breaker, CircuitOpen},
    oldest_first, FixedWindow, MagicLinkRecord, Millis, RateCount, RotateOutcome, Rotation,
    SessionRecord, SessionStore, StoreError, UserRecord, HISTORY_LEN, LINK_NETWORKS, MAX_NOTES,
    TOMBSTONE_MS, USER_TTL_MS,
};
use crate::auth::{
    server::{
        crypto::{from_hex, hex},
        dpop::PROOF_LIFETIME_MS,
        session_id::SessionId,
    },
    EndReason, Note,
};
use async_trait::async_trait;
use redis::{
    aio::{ConnectionLike, ConnectionManager},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo},
    AsyncCommands, IntoConnectionInfo, ProtocolVersion, Script,
};
use std::{
    future::Future,
    sync::LazyLock,
    time::{Duration, Instant},
};
use thread_local::ThreadLocal;
use tokio::sync::OnceCell;

/// Sessions one script call lists or ends: a person with many sessions is served in
/// several short calls (about half a millisecond each) instead of one that holds Redis.
pub const SESSIONS_PER_CALL: usize = 100;

/// Upper bound for any single store call, connection included.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(1000);

macro_rules! script {
    ($name:ident, $file:literal) => {
        static $name: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!($file)));
    };
}
script!(ROTATE, "rotation.lua");
script!(CREATE_SESSION, "lua/create_session.lua");
script!(END_SESSION, "lua/end_session.lua");
script!(END_ALL_SESSIONS, "lua/end_all_sessions.lua");
script!(END_LEAST_ACTIVE, "lua/end_least_active.lua");
script!(LIST_SESSIONS, "lua/list_sessions.lua");
script!(FIND_LINK, "lua/find_link.lua");
script!(FIND_OR_CREATE_USER, "lua/find_or_create_user.lua");
script!(RATE_LIMIT, "lua/rate_limit.lua");
script!(SAVE_LINK, "lua/save_link.lua");
script!(ADD_NOTE, "lua/add_note.lua");

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

/// Where the store connects.
enum Target {
    Single(redis::Client),
    Cluster(ClusterClient),
}

/// A thread's connection: every call goes through it the same way, whichever it is.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
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
        match self {
            Connection::Single(c) => Box::pin(async move {
                match c.req_packed_command(cmd).await {
                    Err(error) if error.is_connection_refusal() => c.req_packed_command(cmd).await,
                    answer => answer,
                }
            }),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Connection::Single(c) => Box::pin(async move {
                match c.req_packed_commands(cmd, offset, count).await {
                    Err(error) if error.is_connection_refusal() => {
                        c.req_packed_commands(cmd, offset, count).await
                    }
                    answer => answer,
                }
            }),
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// Key layout. `prefix` namespaces everything (tests use a random one each).
struct Keys {
    prefix: String,
}

impl Keys {
    /// `<p>:{<uid>}:` followed by `parts`: the user's hash tag starts every per-user key.
    /// Built by hand rather than with nested `format!`s: `me` builds one on every call.
    fn in_user_space(&self, user_id: &str, parts: &[&str]) -> String {
        let length =
            self.prefix.len() + user_id.len() + 4 + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut key = String::with_capacity(length);
        for part in [self.prefix.as_str(), ":{", user_id, "}:"]
            .into_iter()
            .chain(parts.iter().copied())
        {
            key.push_str(part);
        }
        key
    }
    fn user_space(&self, user_id: &str) -> String {
        self.in_user_space(user_id, &[])
    }
    fn session(&self, sid: &SessionId) -> String {
        self.in_user_space(sid.user_id(), &["session:", sid.within_user()])
    }
    fn index(&self, user_id: &str) -> String {
        self.in_user_space(user_id, &["sessions"])
    }
    fn tombstone(&self, sid: &SessionId) -> String {
        self.in_user_space(sid.user_id(), &["ended:", sid.within_user()])
    }
    /// A used DPoP proof of session `sid` (by the digest of its `jti`), kept while the
    /// proof could be fresh so it is used once.
    fn used_proof(&self, sid: &SessionId, jti_hash: &str) -> String {
        self.in_user_space(sid.user_id(), &["proof:", jti_hash])
    }
    fn notes(&self, user_id: &str) -> String {
        self.in_user_space(user_id, &["notes"])
    }
    fn user(&self, email_key: &str) -> String {
        format!("{}:user:{email_key}", self.prefix)
    }
    fn link(&self, email_key: &str) -> String {
        format!("{}:link:{email_key}", self.prefix)
    }
    fn rate(&self, key: &str, window: u64) -> String {
        format!("{}:rate:{key}:{window}", self.prefix)
    }
}

/// Trust only `ca` (PEM) for `rediss://`; no client certificate.
fn tls_roots(ca: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.to_vec()),
    }
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
    /// touches a single slot. Does not connect yet.
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
                        .map(Connection::Single)
                        .map_err(unavailable)
                }
                Target::Cluster(client) => client
                    .get_async_connection()
                    .await
                    .map(Connection::Cluster)
                    .map_err(unavailable),
            }
        };
        let manager = with_timeout(cell.get_or_try_init(connect)).await?;
        Ok(manager.clone())
    }

    /// The email of the live link whose secret hashes to `secret_hash`, using it (and
    /// every other link of the address) when `redeem` (`find_link.lua`).
    async fn find_link(
        &self,
        email_key: &str,
        secret_hash: &str,
        now: Millis,
        redeem: bool,
    ) -> Result<Option<String>, StoreError> {
        let mut invocation = FIND_LINK.key(self.keys.link(email_key));
        invocation
            .arg(secret_hash)
            .arg(ms(now))
            .arg(u8::from(redeem));
        self.run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await
    }

    /// The index entries of a user's sessions (`SessionId::within_user` of each).
    async fn index_members(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let key = self.keys.index(user_id);
        self.run(|mut c| async move { c.zrange(key, 0, -1).await })
            .await
    }

    /// Runs one store call under the timeout, unless the breaker is open.
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, StoreError>
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

/// Whether every `appendonly` setting in a `CONFIG GET appendonly` reply (one server's,
/// or a map of every Cluster master's replies) is `yes`.
fn appendonly_everywhere(reply: &redis::Value) -> bool {
    fn strings(value: &redis::Value, into: &mut Vec<String>) {
        match value {
            redis::Value::BulkString(bytes) => into.push(String::from_utf8_lossy(bytes).into()),
            redis::Value::SimpleString(text) => into.push(text.clone()),
            redis::Value::Array(items) | redis::Value::Set(items) => {
                items.iter().for_each(|item| strings(item, into))
            }
            redis::Value::Map(pairs) => pairs.iter().for_each(|(key, value)| {
                strings(key, into);
                strings(value, into);
            }),
            _ => {}
        }
    }
    let mut all = Vec::new();
    strings(reply, &mut all);
    let settings: Vec<&str> = all
        .windows(2)
        .filter(|pair| pair[0].eq_ignore_ascii_case("appendonly"))
        .map(|pair| pair[1].as_str())
        .collect();
    !settings.is_empty() && settings.iter().all(|setting| *setting == "yes")
}

async fn with_timeout<T>(
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(COMMAND_TIMEOUT, call)
        .await
        .unwrap_or(Err(StoreError::TimedOut))
}

fn unavailable(error: redis::RedisError) -> StoreError {
    if error.is_timeout() {
        StoreError::TimedOut
    } else {
        StoreError::Unavailable(Box::new(error))
    }
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::corrupt(what)
}

fn ms(value: Millis) -> String {
    value.to_string()
}

/// The session fields a read returns (not the rotation bookkeeping). `email` first: every
/// stored session has it, so its absence means "no such session".
const PUBLIC_FIELDS: [&str; 12] = [
    "email",
    "user_created_at",
    "device",
    "created_at",
    "last_activity",
    "expires_at",
    "absolute_expires_at",
    "refresh_hash",
    "previous_hash",
    "jkt",
    "rotated_at",
    "last_address",
];

/// A hash as stored: the raw bytes of its hex (half the size).
fn stored_hash(hex_text: &str) -> Result<Vec<u8>, StoreError> {
    from_hex(hex_text).ok_or_else(|| corrupt("a token hash that is not hex"))
}

/// Field/value pairs of a new session's hash, with no previous token, successor or
/// history yet. The id and the owner's id are in the key; the rest is stored as text or
/// raw hash bytes. The order is the order Redis keeps them in: `rotation.lua`'s fields
/// first, in the order it reads them, since Redis finds a field by scanning from the
/// front (the empty ones are filled by the first rotations).
fn session_fields(s: &SessionRecord) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
    let text = |value: &str| value.as_bytes().to_vec();
    Ok(vec![
        ("refresh_hash", stored_hash(&s.refresh_hash)?),
        ("previous_hash", Vec::new()),
        ("expires_at", text(&ms(s.expires_at))),
        ("absolute_expires_at", text(&ms(s.absolute_expires_at))),
        ("history:1", Vec::new()),
        ("history:2", Vec::new()),
        ("history:3", Vec::new()),
        ("history:4", Vec::new()),
        ("jkt", text(s.jkt.as_deref().unwrap_or_default())),
        ("rotated_at", text(&ms(s.rotated_at))),
        ("successor", Vec::new()),
        ("last_activity", text(&ms(s.last_activity))),
        ("email", text(&s.user.email)),
        ("user_created_at", text(&ms(s.user.created_at))),
        ("device", text(&s.device)),
        ("last_address", text(&s.last_address)),
        ("created_at", text(&ms(s.created_at))),
    ])
}

/// Reads the [`PUBLIC_FIELDS`] of session `sid` back; `None` when it is not stored. The
/// values are moved into the record, not copied: this runs on every authenticated call.
fn parse_session(
    sid: SessionId,
    values: Vec<Option<Vec<u8>>>,
) -> Result<Option<SessionRecord>, StoreError> {
    if values.first().is_none_or(Option::is_none) {
        return Ok(None);
    }
    let count = values.len();
    // The same order as `PUBLIC_FIELDS`.
    let Ok(
        [email, user_created_at, device, created_at, last_activity, expires_at, absolute_expires_at, refresh_hash, previous_hash, jkt, rotated_at, last_address],
    ) = <[Option<Vec<u8>>; PUBLIC_FIELDS.len()]>::try_from(values)
    else {
        return Err(corrupt(format!("a session read returned {count} fields")));
    };
    let present = |value: Option<Vec<u8>>, name: &str| {
        value.ok_or_else(|| corrupt(format!("session without `{name}`")))
    };
    let text = |value: Option<Vec<u8>>, name: &str| {
        String::from_utf8(present(value, name)?)
            .map_err(|_| corrupt(format!("session field `{name}` is not text")))
    };
    let number = |value: Option<Vec<u8>>, name: &str| -> Result<Millis, StoreError> {
        std::str::from_utf8(&present(value, name)?)
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| corrupt(format!("session field `{name}` is not a number")))
    };
    Ok(Some(SessionRecord {
        user: UserRecord {
            id: sid.user_id().to_string(),
            email: text(email, "email")?,
            created_at: number(user_created_at, "user_created_at")?,
        },
        device: text(device, "device")?,
        // Sessions stored before these fields existed: no address yet, and the grace
        // window counts from their last activity, as it did then.
        last_address: match last_address {
            Some(_) => text(last_address, "last_address")?,
            None => String::new(),
        },
        rotated_at: match rotated_at {
            Some(_) => number(rotated_at, "rotated_at")?,
            None => number(last_activity.clone(), "last_activity")?,
        },
        created_at: number(created_at, "created_at")?,
        last_activity: number(last_activity, "last_activity")?,
        expires_at: number(expires_at, "expires_at")?,
        absolute_expires_at: number(absolute_expires_at, "absolute_expires_at")?,
        refresh_hash: hex(&present(refresh_hash, "refresh_hash")?),
        previous_hash: previous_hash.filter(|h| !h.is_empty()).map(|h| hex(&h)),
        // Sessions stored before binding existed have no field: unbound.
        jkt: match jkt.filter(|k| !k.is_empty()) {
            Some(jkt) => Some(
                String::from_utf8(jkt).map_err(|_| corrupt("session field `jkt` is not text"))?,
            ),
            None => None,
        },
        sid,
    }))
}

fn parse_reason(code: &str) -> Result<EndReason, StoreError> {
    EndReason::from_code(code).ok_or_else(|| corrupt(format!("unknown end reason `{code}`")))
}

#[async_trait]
impl SessionStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn persists_writes(&self) -> Result<Option<bool>, StoreError> {
        let mut ask = redis::cmd("CONFIG");
        ask.arg("GET").arg("appendonly");
        let reply: redis::Value = self
            .run(|connection| async move {
                match connection {
                    Connection::Single(mut c) => ask.query_async(&mut c).await,
                    // Every master keeps its own slots: each must persist them.
                    Connection::Cluster(mut c) => {
                        let masters =
                            RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                        c.route_command(&ask, masters).await
                    }
                }
            })
            .await?;
        Ok(Some(appendonly_everywhere(&reply)))
    }

    async fn find_or_create_user(
        &self,
        email_key: &str,
        candidate: &UserRecord,
    ) -> Result<UserRecord, StoreError> {
        let json = serde_json::to_string(candidate)
            .map_err(|e| StoreError::corrupt_because("user record", e))?;
        let key = self.keys.user(email_key);
        let stored: String = self
            .run(|mut c| async move {
                FIND_OR_CREATE_USER
                    .key(key)
                    .arg(json)
                    .arg(USER_TTL_MS)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        serde_json::from_str(&stored).map_err(|e| StoreError::corrupt_because("user record", e))
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut invocation = CREATE_SESSION.key(self.keys.session(&session.sid));
        invocation
            .key(self.keys.index(session.sid.user_id()))
            .arg(ms(session.expires_at + TOMBSTONE_MS))
            .arg(ms(session.absolute_expires_at + TOMBSTONE_MS))
            .arg(session.sid.within_user())
            .arg(ms(session.created_at));
        for (field, value) in session_fields(session)? {
            invocation.arg(field).arg(value);
        }
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn get_session(
        &self,
        sid: &SessionId,
        now: Millis,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let key = self.keys.session(sid);
        let values: Vec<Option<Vec<u8>>> = self
            .run(|mut c| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg(&PUBLIC_FIELDS)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(parse_session(sid.clone(), values)?.filter(|s| s.is_live(now)))
    }

    async fn rotate(
        &self,
        sid: &SessionId,
        rotation: &Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        let mut invocation = ROTATE.key(self.keys.session(sid));
        let proof = rotation.proof.as_ref();
        invocation
            .key(self.keys.index(sid.user_id()))
            .key(self.keys.tombstone(sid))
            .key(self.keys.used_proof(sid, proof.map_or("", |p| &p.jti_hash)))
            // A presented "hash" that is not hex cannot be one of ours: it matches nothing.
            .arg(from_hex(&rotation.presented_hash).unwrap_or_default())
            .arg(stored_hash(&rotation.new_hash)?)
            .arg(&rotation.sealed_successor)
            .arg(ms(rotation.now))
            .arg(ms(rotation.now + rotation.idle_ms))
            .arg(ms(rotation.now + rotation.idle_ms + TOMBSTONE_MS))
            .arg(ms(rotation.grace_ms))
            .arg(ms(TOMBSTONE_MS))
            .arg(sid.within_user())
            .arg(proof.map_or("", |p| &p.jkt))
            .arg(ms(PROOF_LIFETIME_MS))
            .arg(&rotation.address)
            .arg(&rotation.device);
        let reply: redis::Value = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        let number = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse::<Millis>().ok())
                .ok_or_else(|| corrupt("rotate returned a bad number"))
        };
        // The common outcome comes as the new expiry alone (see `rotation.lua`).
        if let redis::Value::BulkString(expires_at) = &reply {
            return Ok(RotateOutcome::Rotated {
                expires_at: number(expires_at)?,
            });
        }
        let reply: Vec<Vec<u8>> = redis::from_redis_value(&reply)
            .map_err(|_| corrupt("rotate returned an unexpected reply"))?;
        match reply.iter().map(Vec::as_slice).collect::<Vec<_>>()[..] {
            [b"replayed", expires_at, sealed] => Ok(RotateOutcome::Replayed {
                sealed_successor: sealed.to_vec(),
                expires_at: number(expires_at)?,
            }),
            [b"ended", reason] => Ok(RotateOutcome::Ended(parse_reason(
                std::str::from_utf8(reason).unwrap_or_default(),
            )?)),
            [b"superseded"] => Ok(RotateOutcome::Superseded),
            [b"unrecognised"] => Ok(RotateOutcome::Unrecognised),
            [b"proof_refused"] => Ok(RotateOutcome::ProofRefused),
            _ => Err(corrupt("rotate returned an unexpected reply")),
        }
    }

    async fn end_session(
        &self,
        sid: &SessionId,
        reason: EndReason,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut invocation = END_SESSION.key(self.keys.session(sid));
        invocation
            .key(self.keys.index(sid.user_id()))
            .key(self.keys.tombstone(sid))
            .arg(sid.within_user())
            .arg(reason.code())
            .arg(ms(TOMBSTONE_MS))
            .arg(ms(now));
        let live: i64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(live == 1)
    }

    async fn list_sessions(
        &self,
        user_id: &str,
        now: Millis,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let members = self.index_members(user_id).await?;
        let mut sessions = Vec::with_capacity(members.len());
        for batch in members.chunks(SESSIONS_PER_CALL) {
            let mut invocation = LIST_SESSIONS.key(self.keys.index(user_id));
            invocation
                .arg(self.keys.user_space(user_id))
                .arg(PUBLIC_FIELDS.len())
                .arg(&PUBLIC_FIELDS)
                .arg(batch);
            let rows: Vec<Vec<Option<Vec<u8>>>> = self
                .run(|mut c| async move { invocation.invoke_async(&mut c).await })
                .await?;
            for mut row in rows {
                let sid = match row.first_mut().and_then(Option::take) {
                    Some(raw) => std::str::from_utf8(&raw)
                        .ok()
                        .and_then(|within_user| SessionId::from_parts(user_id, within_user))
                        .ok_or_else(|| corrupt("a session index with a malformed id"))?,
                    None => return Err(corrupt("list_sessions returned a row without an id")),
                };
                row.remove(0);
                if let Some(session) = parse_session(sid, row)?.filter(|s| s.is_live(now)) {
                    sessions.push(session);
                }
            }
        }
        oldest_first(&mut sessions);
        Ok(sessions)
    }

    async fn end_all_sessions(
        &self,
        user_id: &str,
        reason: EndReason,
        now: Millis,
    ) -> Result<usize, StoreError> {
        let members = self.index_members(user_id).await?;
        let mut live = 0;
        for batch in members.chunks(SESSIONS_PER_CALL) {
            let mut invocation = END_ALL_SESSIONS.key(self.keys.index(user_id));
            invocation
                .arg(self.keys.user_space(user_id))
                .arg(reason.code())
                .arg(ms(TOMBSTONE_MS))
                .arg(ms(now))
                .arg(batch);
            let ended: i64 = self
                .run(|mut c| async move { invocation.invoke_async(&mut c).await })
                .await?;
            live += usize::try_from(ended).unwrap_or(0);
        }
        Ok(live)
    }

    async fn end_least_active_sessions(
        &self,
        user_id: &str,
        keep: usize,
        _now: Millis,
    ) -> Result<usize, StoreError> {
        let mut invocation = END_LEAST_ACTIVE.key(self.keys.index(user_id));
        invocation
            .arg(self.keys.user_space(user_id))
            .arg(keep)
            .arg(EndReason::Revoked.code())
            .arg(ms(TOMBSTONE_MS));
        let ended: i64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(usize::try_from(ended).unwrap_or(0))
    }

    async fn save_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError> {
        let mut invocation = SAVE_LINK.key(self.keys.link(&link.email_key));
        invocation
            .arg(ms(link.expires_at))
            .arg(&link.email)
            .arg(format!("n:{}", link.network))
            .arg(&link.secret_hash)
            .arg(LINK_NETWORKS);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn peek_magic_link(
        &self,
        email_key: &str,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        self.find_link(email_key, secret_hash, now, false).await
    }

    async fn redeem_magic_link(
        &self,
        email_key: &str,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        self.find_link(email_key, secret_hash, now, true).await
    }

    async fn hit_rate_limit(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<RateCount, StoreError> {
        let window = FixedWindow::containing(now, window_ms);
        let mut invocation = RATE_LIMIT.key(self.keys.rate(key, window.index));
        invocation.arg(ms(window.end + 1000));
        let count: u64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(window.count(count, now))
    }

    async fn add_note(&self, user_id: &str, note: &Note) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(note).map_err(|e| StoreError::corrupt_because("note", e))?;
        let mut invocation = ADD_NOTE.key(self.keys.notes(user_id));
        invocation.arg(json).arg(MAX_NOTES).arg(USER_TTL_MS);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn list_notes(&self, user_id: &str) -> Result<Vec<Note>, StoreError> {
        let key = self.keys.notes(user_id);
        let rows: Vec<String> = self
            .run(|mut c| async move { c.lrange(key, 0, -1).await })
            .await?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(row).map_err(|e| StoreError::corrupt_because("note", e))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::appendonly_everywhere;
    use redis::Value;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn one_server(setting: &str) -> Value {
        Value::Array(vec![bulk("appendonly"), bulk(setting)])
    }

    #[test]
    fn appendonly_must_be_on_for_every_server_that_answered() {
        assert!(appendonly_everywhere(&one_server("yes")));
        assert!(!appendonly_everywhere(&one_server("no")));
        // RESP3 answers a map.
        assert!(appendonly_everywhere(&Value::Map(vec![(
            bulk("appendonly"),
            bulk("yes")
        )])));
        // A Cluster: one reply per master, keyed by its address.
        let masters = |settings: &[&str]| {
            Value::Map(
                settings
                    .iter()
                    .enumerate()
                    .map(|(n, setting)| (bulk(&format!("10.0.0.{n}:6379")), one_server(setting)))
                    .collect(),
            )
        };
        assert!(appendonly_everywhere(&masters(&["yes", "yes", "yes"])));
        assert!(!appendonly_everywhere(&masters(&["yes", "no", "yes"])));
        // Nothing readable is not a yes.
        assert!(!appendonly_everywhere(&Value::Array(vec![])));
        assert!(!appendonly_everywhere(&Value::Nil));
    }
}
