//! The demo's protected data: a person's notes.

use super::{AuthService, Authenticated};
use crate::auth::{
    server::{crypto::random_id, failure::ServiceError},
    AuthError, Note,
};

/// Longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

impl AuthService {
    /// The caller's notes.
    pub async fn notes(&self, auth: &Authenticated) -> Result<Vec<Note>, ServiceError> {
        Ok(self.store.list_notes(&auth.session.user.id).await?)
    }

    /// Adds a note for the caller. The limit is on the text as sent (the API's schema
    /// says so), the note is stored trimmed.
    pub async fn add_note(&self, auth: &Authenticated, text: &str) -> Result<Note, ServiceError> {
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
            created_at: self.now(),
        };
        self.store.add_note(&auth.session.user.id, &note).await?;
        Ok(note)
    }
}
