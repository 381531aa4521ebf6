//! The notes' server functions: under the same `/api/v1` as auth's and protected by its
//! bearer token, like any protected function an app adds. Each asks auth for the
//! caller's session first ([`authenticated`](crate::auth::server::caller::authenticated)),
//! so a call refused with 401 changed nothing.

use super::Note;
use crate::auth::{api::BearerClient, CallError};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// `POST /api/v1/notes` (bearer): the caller's notes, oldest first.
#[server(prefix = "/api/v1", endpoint = "notes", input = Json, client = BearerClient)]
pub async fn notes() -> Result<Vec<Note>, CallError> {
    let caller = crate::auth::server::caller::authenticated().await?;
    ssr::notes()?
        .list(&caller.session.user.id)
        .await
        .map_err(ssr::answer)
}

/// `POST /api/v1/notes/add {text}` (bearer): adds a note; returns it.
#[server(prefix = "/api/v1", endpoint = "notes/add", input = Json, client = BearerClient)]
pub async fn add_note(text: String) -> Result<Note, CallError> {
    let caller = crate::auth::server::caller::authenticated().await?;
    ssr::notes()?
        .add(&caller.session.user.id, &text)
        .await
        .map_err(ssr::answer)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::{
        auth::{
            server::failure::{self, ServiceError},
            CallError,
        },
        notes::server::Notes,
    };
    use std::sync::Arc;

    /// The notes the server provided to the server functions.
    pub fn notes() -> Result<Arc<Notes>, CallError> {
        leptos::prelude::use_context::<Arc<Notes>>()
            .ok_or_else(|| failure::internal("notes missing from the context").into())
    }

    /// The wire answer for a failure: where a fault is logged, once.
    pub fn answer(error: ServiceError) -> CallError {
        error.into_answer().into()
    }
}
