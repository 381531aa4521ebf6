//! The notes on the server: the rules (length, trimming, ids, time) over a
//! [`NoteStore`].

mod store;

pub use store::{MemoryNotes, NoteStore, RedisNotes, MAX_NOTES};

use super::{Note, MAX_NOTE_CHARS};
use crate::auth::{
    server::{failure::ServiceError, random_id, Clock},
    AuthError,
};
use std::sync::Arc;

/// What the notes' server functions call: the rules of a note, over its store.
pub struct Notes {
    store: Arc<dyn NoteStore>,
    clock: Arc<dyn Clock>,
}

impl Notes {
    /// Notes kept in `store`, stamped with the time `clock` reads.
    pub fn new(store: Arc<dyn NoteStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The person's notes, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Note>, ServiceError> {
        Ok(self.store.list(user_id).await?)
    }

    /// Adds a note for the person. The limit is on the text as sent (the API's schema
    /// says so), the note is stored trimmed.
    pub async fn add(&self, user_id: &str, text: &str) -> Result<Note, ServiceError> {
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(AuthError::bad_request(format!(
                "a note has at most {MAX_NOTE_CHARS} characters"
            ))
            .into());
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(AuthError::bad_request("a note needs some text").into());
        }
        let note = Note {
            id: random_id(),
            text: text.to_string(),
            created_at: self.clock.now(),
        };
        self.store.add(user_id, &note).await?;
        Ok(note)
    }
}
