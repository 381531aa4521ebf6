//! The server's public status, asked once the page runs in the browser: the home page
//! shows it, and the sign-in page reads whether the development outbox is open.

use crate::auth::{actions, CallError, ServerStatus};
use leptos::{prelude::*, task::spawn_local};

/// What the status call answered; `None` until it has (and always on the server, so the
/// server-rendered page holds the waiting text).
///
/// A signal set by one task rather than a `LocalResource`: the page needs nothing a
/// resource adds here, and each resource type costs the bundle kilobytes.
pub fn server_status() -> ReadSignal<Option<Result<ServerStatus, CallError>>> {
    let (status, set_status) = signal(None);
    // Effects run in the browser only, after hydration; this one tracks nothing, so once.
    Effect::new(move |_| {
        spawn_local(async move { set_status.set(Some(actions::server_status().await)) });
    });
    status
}
