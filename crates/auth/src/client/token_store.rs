//! The token pair in localStorage: one record, written in one step, so no tab ever
//! reads half an update. Expiry is computed from the server's `expires_in` and the
//! local receive time, so a wrong local clock cannot cause refresh loops.
//!
//! When storage refuses a write (quota full, blocked), the pair is kept in this tab's
//! memory instead: a rotated pair is never lost, and the page says so quietly.
//!
//! Every write is also announced to the other tabs over [`tab_channel`] (an
//! [`Announcement`] carries the pair itself), and the newest pair a tab has heard of
//! wins over an older one its own read of storage returns: a stale read (WebKit bug
//! 225344) can never send an old refresh token.

pub use super::stored_tokens::{Record, StoredTokens};
use super::state::client;
use super::tab_channel;
use crate::EndReason;
use super::local_storage;
use serde::{Deserialize, Serialize};


/// What a tab tells the others when it changes the record (the same news the
/// `storage` event brings, with the value inside, so the receiver need not read storage).
///
/// On the channel it is `{"kind": "tokens", "tokens": …}` or `{"kind": "signed_out",
/// "reason": …}`. It is read through the flat [`AnnouncementFields`] rather than serde's
/// internally tagged enums, whose buffering code costs the bundle several kilobytes.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "AnnouncementFields")]
pub enum Announcement {
    /// A new pair: a sign-in or a refresh.
    Tokens {
        /// The pair as the announcing tab stored it.
        tokens: StoredTokens,
    },
    /// Signed out; `reason` is the [`EndReason`] code when the session ended.
    SignedOut {
        /// Why the session ended, if the server ended it.
        reason: Option<String>,
    },
}

/// Every field an [`Announcement`] may carry, read in one pass.
#[derive(Deserialize)]
pub struct AnnouncementFields {
    kind: String,
    tokens: Option<StoredTokens>,
    reason: Option<String>,
}

impl TryFrom<AnnouncementFields> for Announcement {
    type Error = String;

    fn try_from(fields: AnnouncementFields) -> Result<Self, String> {
        match (fields.kind.as_str(), fields.tokens) {
            ("tokens", Some(tokens)) => Ok(Announcement::Tokens { tokens }),
            ("signed_out", _) => Ok(Announcement::SignedOut {
                reason: fields.reason,
            }),
            (kind, _) => Err(format!("not an announcement: {kind}")),
        }
    }
}

/// Reads the record (or this tab's in-memory pair when storage refused it), unless
/// another tab announced a newer pair than that read returns ([`Record::current`]).
pub fn read() -> Record {
    let kept = client().in_memory.borrow().clone();
    let announced = client().announced.borrow().clone();
    Record::current(kept, read_storage, announced)
}

fn read_storage() -> Record {
    if !storage_available() {
        return Record::Empty;
    }
    match local_storage::get_raw(&client().names.tokens) {
        Ok(Some(raw)) => match serde_json::from_str(&raw) {
            Ok(tokens) => Record::Tokens(tokens),
            Err(_) => Record::Unreadable,
        },
        Ok(None) => Record::Empty,
        Err(_) => Record::Unreadable,
    }
}

/// The current pair, if there is a readable one.
pub fn load() -> Option<StoredTokens> {
    match read() {
        Record::Tokens(tokens) => Some(tokens),
        Record::Empty | Record::Unreadable => None,
    }
}

/// Stores a pair as the newest (in one write; if storage refuses, in this tab's
/// memory), announces it to the other tabs, and returns it as stored.
pub fn save(mut tokens: StoredTokens) -> StoredTokens {
    tokens.serial = read().next_serial();
    client().announced.borrow_mut().take();
    tab_channel::post(&Announcement::Tokens {
        tokens: tokens.clone(),
    });
    if !storage_available() {
        client().in_memory.borrow_mut().replace(tokens.clone());
        return tokens;
    }
    if local_storage::set(&client().names.tokens, &tokens) {
        client().in_memory.borrow_mut().take();
    } else {
        leptos::logging::warn!("storage refused the tokens; keeping them in this tab");
        client().in_memory.borrow_mut().replace(tokens.clone());
    }
    local_storage::remove(&client().names.ended);
    tokens
}

/// Whether this page may use localStorage at all.
pub fn storage_available() -> bool {
    local_storage::available()
}

/// True while storage refuses the pair and only this tab holds it.
pub fn kept_in_memory_only() -> bool {
    client().in_memory.borrow().is_some()
}

/// Another tab wrote or removed the record: storage is the truth again.
pub fn forget_memory() {
    client().in_memory.borrow_mut().take();
}

/// Another tab announced `tokens`: kept if newer than anything this tab knows.
pub fn hear(tokens: StoredTokens) {
    if read().is_older_than(&tokens) {
        client().announced.borrow_mut().replace(tokens);
    }
}

/// Another tab signed out: forget every pair this tab held or heard of.
pub fn hear_signed_out() {
    forget_memory();
    client().announced.borrow_mut().take();
}

/// Removes the pair, remembering why (so every tab can say it), and announces it.
pub fn clear(reason: Option<EndReason>) {
    hear_signed_out();
    tab_channel::post(&Announcement::SignedOut {
        reason: reason.map(|reason| reason.code().to_owned()),
    });
    if !storage_available() {
        return;
    }
    if let Some(reason) = reason {
        local_storage::set(&client().names.ended, reason.code());
    } else {
        local_storage::remove(&client().names.ended);
    }
    local_storage::remove(&client().names.tokens);
}

/// Drops the recorded end reason once it has been shown.
pub fn forget_end_reason() {
    if storage_available() {
        local_storage::remove(&client().names.ended);
    }
}

/// Why the last session ended, as another tab recorded it.
pub fn ended_reason() -> Option<EndReason> {
    if !storage_available() {
        return None;
    }
    local_storage::get::<String>(&client().names.ended).and_then(|code| EndReason::from_code(&code))
}

/// The access token the bearer client attaches.
pub fn current_access_token() -> Option<String> {
    load().map(|tokens| tokens.access_token)
}
