//! The notes list with its add form: the protected resource the app works against.

use crate::auth::{
    api::{add_note, list_notes},
    session::authed,
    AuthError, Note,
};
use leptos::{html, prelude::*};

fn explain(error: &AuthError) -> String {
    match error {
        AuthError::BadRequest { message } => message.clone(),
        AuthError::RateLimited { retry_after } => {
            format!("Too many requests; try again in {retry_after} s.")
        }
        AuthError::SessionEnded { .. } => "Your session ended.".into(),
        _ => "Could not reach the server. Your note was not saved; try again.".into(),
    }
}

/// Notes of the signed-in person.
#[component]
pub fn Notes() -> impl IntoView {
    let notes = LocalResource::new(|| authed(list_notes));
    let (added, set_added) = signal(Vec::<Note>::new());
    let (error, set_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    let add = Action::new_local(|text: &String| {
        let text = text.clone();
        async move { authed(|| add_note(text.clone())).await }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(note)) => {
            set_error.set(None);
            set_added.update(|list| list.push(note));
            if let Some(input) = input.get() {
                input.set_value("");
            }
        }
        Some(Err(e)) => set_error.set(Some(explain(&e))),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = input.get().map(|i| i.value()).unwrap_or_default();
        if text.trim().is_empty() {
            set_error.set(Some("Write something first.".into()));
            return;
        }
        add.dispatch(text);
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
                <button class="button" type="submit" disabled=move || add.pending().get()>
                    "Add"
                </button>
            </form>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <Suspense fallback=|| view! { <p class="muted">"Loading notes…"</p> }>
                {move || match notes.get() {
                    Some(Err(e)) => view! { <p class="error">{explain(&e)}</p> }.into_any(),
                    _ => view! {
                        <ul class="note-list" data-testid="notes">
                            <For each=all key=|note| note.id.clone() let:note>
                                <li class="note">{note.text}</li>
                            </For>
                        </ul>
                        <Show when=move || all().is_empty()>
                            <p class="muted">"No notes yet."</p>
                        </Show>
                    }.into_any(),
                }}
            </Suspense>
        </section>
    }
}
