//! `/sessions`: the person's devices, the current one marked, others revocable.

use crate::{
    auth::{
        api::{list_sessions, revoke_session},
        session::authed,
        SessionInfo,
    },
    components::{format::date_time, guard::RequireSignIn},
};
use leptos::prelude::*;

/// Devices page (protected).
#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <Devices />
        </RequireSignIn>
    }
}

#[component]
fn Devices() -> impl IntoView {
    let sessions = LocalResource::new(|| authed(list_sessions));
    let revoke = Action::new_local(|id: &String| {
        let id = id.clone();
        async move { authed(|| revoke_session(id.clone())).await }
    });
    Effect::new(move |_| {
        if revoke.value().get().is_some() {
            sessions.refetch();
        }
    });
    view! {
        <section class="card">
            <h1>"Your devices"</h1>
            <p class="muted">"Every place you are signed in. Revoke any you do not recognise."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) => view! {
                        <ul class="session-list" data-testid="sessions">
                            {list.into_iter().map(|s| view! { <SessionRow session=s revoke=revoke /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(_) => view! { <p class="error">"Could not load your devices. Try again shortly."</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SessionRow(
    session: SessionInfo,
    revoke: Action<String, Result<crate::auth::Done, crate::auth::AuthError>>,
) -> impl IntoView {
    let id = session.id.clone();
    view! {
        <li class="session" class:current=session.current>
            <div>
                <strong>{session.device.clone()}</strong>
                {session.current.then(|| view! { <span class="badge">"This device"</span> })}
                <p class="muted small">
                    "Signed in " {date_time(session.created_at as f64)}
                    " · last active " {date_time(session.last_activity as f64)}
                </p>
            </div>
            {(!session.current).then(|| view! {
                <button class="button button-quiet" on:click=move |_| { revoke.dispatch(id.clone()); }>
                    "Revoke"
                </button>
            })}
        </li>
    }
}
