//! Where notes are kept: in memory (development, tests), or in the sessions' Redis
//! beside the person's sessions, through the connection auth's store lends to an app's
//! own data ([`RedisStore::run`], [`RedisStore::user_key`]).

use crate::{
    auth::server::store::{RedisStore, StoreError, USER_TTL_MS},
    notes::Note,
};
use async_trait::async_trait;
use redis::{AsyncCommands, Script};
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

/// The newest notes a person keeps; older ones drop off.
pub const MAX_NOTES: usize = 100;

/// Storage of each person's notes. Both kinds answer alike (`tests/store_contract.rs`).
#[async_trait]
pub trait NoteStore: Send + Sync + 'static {
    /// Appends a note to the person's list, keeping the newest [`MAX_NOTES`].
    async fn add(&self, user_id: &str, note: &Note) -> Result<(), StoreError>;

    /// The person's notes, oldest first.
    async fn list(&self, user_id: &str) -> Result<Vec<Note>, StoreError>;
}

/// Notes in this process' memory: gone with it, like the memory session store.
#[derive(Default)]
pub struct MemoryNotes {
    notes: Mutex<HashMap<String, Vec<Note>>>,
}

impl MemoryNotes {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Note>>> {
        // A panic while holding the lock leaves whole lists behind: still usable.
        self.notes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl NoteStore for MemoryNotes {
    async fn add(&self, user_id: &str, note: &Note) -> Result<(), StoreError> {
        let mut notes = self.lock();
        let list = notes.entry(user_id.to_string()).or_default();
        list.push(note.clone());
        let excess = list.len().saturating_sub(MAX_NOTES);
        list.drain(..excess);
        Ok(())
    }

    async fn list(&self, user_id: &str) -> Result<Vec<Note>, StoreError> {
        Ok(self.lock().get(user_id).cloned().unwrap_or_default())
    }
}

/// Appends a note and keeps the newest ones, in one round trip.
static ADD_NOTE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("add_note.lua")));

/// Notes in Redis: one list per person (`<prefix>:{<user id>}:notes`, in the person's
/// Cluster slot), each note as JSON, living as long as the person's records.
pub struct RedisNotes {
    redis: std::sync::Arc<RedisStore>,
}

impl RedisNotes {
    /// Notes in the Redis (or Cluster) of `redis`, under its key prefix.
    pub fn new(redis: std::sync::Arc<RedisStore>) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl NoteStore for RedisNotes {
    async fn add(&self, user_id: &str, note: &Note) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(note).map_err(|e| StoreError::corrupt_because("note", e))?;
        let mut invocation = ADD_NOTE.key(self.redis.user_key(user_id, "notes"));
        invocation.arg(json).arg(MAX_NOTES).arg(USER_TTL_MS);
        self.redis
            .run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn list(&self, user_id: &str) -> Result<Vec<Note>, StoreError> {
        let key = self.redis.user_key(user_id, "notes");
        let rows: Vec<String> = self
            .redis
            .run(|mut c| async move { c.lrange(key, 0, -1).await })
            .await?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(row).map_err(|e| StoreError::corrupt_because("note", e))
            })
            .collect()
    }
}
