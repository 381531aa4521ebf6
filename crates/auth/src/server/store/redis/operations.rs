//! The store's calls on Redis: each decision one Lua script (atomic, one round trip).

use super::{
    codec::{corrupt, ms, parse_reason, parse_session, session_fields, PUBLIC_FIELDS},
    connection::Kind,
    RedisStore, SESSIONS_PER_CALL,
};
use crate::{
    server::{
        crypto::hex,
        dpop::PROOF_LIFETIME_MS,
        session_id::SessionId,
        store::{
            oldest_first, FixedWindow, MagicLinkRecord, Millis, RateCount, RotateOutcome, Rotation,
            SessionRecord, SessionStore, StoreError, UserRecord, LINK_NETWORKS, TOMBSTONE_MS,
            USER_TTL_MS,
        },
        tokens::TokenHash,
    },
    EndReason,
};
use async_trait::async_trait;
#[cfg(feature = "cluster")]
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;

macro_rules! script {
    ($name:ident, $file:literal) => {
        static $name: LazyLock<Script> =
            LazyLock::new(|| Script::new(include_str!(concat!("../", $file))));
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

impl RedisStore {
    /// The email of the live link whose secret hashes to `secret_hash`, using it (and
    /// every other link of the address) when `redeem` (`find_link.lua`).
    async fn find_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
        redeem: bool,
    ) -> Result<Option<String>, StoreError> {
        let mut invocation = FIND_LINK.key(self.keys.link(email_key));
        // Links keep their hash as hex.
        invocation
            .arg(hex(secret_hash.as_bytes()))
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
                match connection.0 {
                    Kind::Single(mut c) => ask.query_async(&mut c).await,
                    // Every master keeps its own slots: each must persist them.
                    #[cfg(feature = "cluster")]
                    Kind::Cluster(mut c) => {
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
            .arg(rotation.presented_hash.as_bytes().as_slice())
            .arg(rotation.new_hash.as_bytes().as_slice())
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
            .arg(hex(link.secret_hash.as_bytes()))
            .arg(LINK_NETWORKS);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn peek_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        self.find_link(email_key, secret_hash, now, false).await
    }

    async fn redeem_magic_link(
        &self,
        email_key: &str,
        secret_hash: &TokenHash,
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
