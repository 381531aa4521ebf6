//! The app's own feature: a person's notes, the protected data the demo works against.
//! Not part of auth: its server functions ask auth whose session is calling, and it
//! keeps its data in a store of its own ([`server::NoteStore`]), in the same Redis as
//! the sessions or in memory.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;

use serde::{Deserialize, Serialize};

/// One entry of a person's notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Random id, unique within the person's notes.
    pub id: String,
    /// What the person wrote (1..=[`MAX_NOTE_CHARS`] characters).
    pub text: String,
    /// Unix milliseconds.
    pub created_at: u64,
}

/// Longest note accepted, in characters (the API's schema says so too).
pub const MAX_NOTE_CHARS: usize = 500;
