//! `/sessions`: the person's devices, the current one marked, others revocable.

use crate::{
    auth::{actions::authed, api, state::use_auth, SessionInfo},
    components::{format::date_time, guard::RequireSignIn},
};
use leptos::{either::EitherOf3, prelude::*, task::spawn_local};

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
    let auth = use_auth();
    // Loads again when the server is back after "reconnecting".
    let sessions = LocalResource::new(move || {
        auth.reconnected.track();
        authed(api::sessions)
    });
    let revoke = move |id: String| {
        spawn_local(async move {
            // Whatever the outcome, show the list as the server now has it.
            let _ = authed(|| api::revoke_session(id.clone())).await;
            sessions.refetch();
        });
    };
    view! {
        <section class="card">
            <h1>"Your devices"</h1>
            <p class="muted">"Every place you are signed in. Revoke any you do not recognise."</p>
            {move || match sessions.get() {
                None => EitherOf3::A(view! { <p class="muted">"Loading…"</p> }),
                Some(Ok(list)) => EitherOf3::B(view! {
                    <ul class="session-list" data-testid="sessions">
                        {list.into_iter().map(|s| view! { <SessionRow session=s revoke=revoke /> }).collect_view()}
                    </ul>
                }),
                Some(Err(_)) => EitherOf3::C(view! { <p class="error">"Could not load your devices. Try again shortly."</p> }),
            }}
        </section>
    }
}

#[component]
fn SessionRow(
    session: SessionInfo,
    revoke: impl Fn(String) + Copy + Send + Sync + 'static,
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
                <button class="button button-quiet" on:click=move |_| revoke(id.clone())>
                    "Revoke"
                </button>
            })}
        </li>
    }
}
