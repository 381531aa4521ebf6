//! The notes list with its add form: the protected resource the app works against.

use crate::{
    auth::{actions::authed, state::use_auth, AuthError, CallError},
    notes::{api, Note},
};
use leptos::{either::EitherOf3, html, prelude::*, task::spawn_local};

fn explain(error: &CallError) -> String {
    match error.answer() {
        Some(AuthError::BadRequest { message }) => message.clone(),
        Some(AuthError::RateLimited { retry_after }) => {
            format!("Too many requests; try again in {retry_after} s.")
        }
        Some(AuthError::SessionEnded { .. }) => "Your session ended.".into(),
        _ => "Could not reach the server. Your note was not saved; try again.".into(),
    }
}

/// Notes of the signed-in person.
#[component]
pub fn Notes() -> impl IntoView {
    let auth = use_auth();
    // Loads again when the server is back after "reconnecting".
    let notes = LocalResource::new(move || {
        auth.reconnected.track();
        authed(api::notes)
    });
    let (added, set_added) = signal(Vec::<Note>::new());
    let (error, set_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    let (pending, set_pending) = signal(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = input.get().map(|i| i.value()).unwrap_or_default();
        if text.trim().is_empty() {
            set_error.set(Some("Write something first.".into()));
            return;
        }
        set_pending.set(true);
        spawn_local(async move {
            let result = authed(|| api::add_note(text.clone())).await;
            set_pending.set(false);
            match result {
                Ok(note) => {
                    set_error.set(None);
                    set_added.update(|list| list.push(note));
                    if let Some(input) = input.get_untracked() {
                        input.set_value("");
                    }
                }
                Err(e) => set_error.set(Some(explain(&e))),
            }
        });
    };
    let all = move || {
        let mut list = match notes.get() {
            Some(Ok(list)) => list,
            _ => Vec::new(),
        };
        for note in added.get() {
            if !list.iter().any(|n| n.id == note.id) {
                list.push(note);
            }
        }
        list
    };
    view! {
        <section class="card notes" aria-labelledby="notes-title">
            <h2 id="notes-title">"Notes"</h2>
            <form class="inline-form" on:submit=submit>
                <label for="note-text" class="visually-hidden">"New note"</label>
                <input
                    id="note-text"
                    name="text"
                    node_ref=input
                    maxlength="500"
                    placeholder="Write a note…"
                    autocomplete="off"
                />
                <button class="button" type="submit" disabled=move || pending.get()>
                    "Add"
                </button>
            </form>
            {move || error.get().map(|text| view! { <p class="error" role="alert">{text}</p> })}
            {move || match notes.get() {
                None => EitherOf3::A(view! { <p class="muted">"Loading notes…"</p> }),
                Some(Err(e)) => EitherOf3::B(view! { <p class="error">{explain(&e)}</p> }),
                Some(Ok(_)) => EitherOf3::C(view! {
                    <ul class="note-list" data-testid="notes">
                        <For each=all key=|note| note.id.clone() let:note>
                            <li class="note">{note.text}</li>
                        </For>
                    </ul>
                    {move || all().is_empty().then(|| view! { <p class="muted">"No notes yet."</p> })}
                }),
            }}
        </section>
    }
}
