//! What the app tells a person about their sign-in: the page text for an ended session
//! and for the quiet notices. The auth code only names the events ([`EndReason`],
//! [`Notice`]); the words are the app's.

use crate::auth::{state::Notice, EndReason};

/// One line for the sign-in page, saying why the last session ended.
pub fn end_reason(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Expired => "Your session expired. Please sign in again.",
        EndReason::Revoked => "You were signed out (from this or another device).",
        EndReason::Reused => {
            "For your safety we ended this session: an old sign-in token was used again."
        }
        EndReason::Invalid => "Your sign-in is no longer valid. Please sign in again.",
    }
}

/// One line for a quiet notice about how the sign-in is kept.
pub fn notice(notice: Notice) -> &'static str {
    match notice {
        Notice::KeptInThisTabOnly => {
            "This browser is not saving your sign-in (storage is full or blocked): it lasts while this tab is open."
        }
        Notice::SavedSignInUnreadable => {
            "Your saved sign-in could not be read (it may come from another version). Please sign in again."
        }
        Notice::SignOutPending => {
            "You are signed out on this device. The server could not be reached to end the session there; this browser will finish when it can."
        }
    }
}
