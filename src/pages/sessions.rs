//! `/sessions`: the person's devices, the current one marked, others revocable.

use crate::{
    auth::{actions::authed, api, state::use_auth, CallError, SessionInfo, SessionsPage},
    components::{format::date_time, guard::RequireSignIn},
};

/// Sessions asked for at a time; "Show more" asks for another page.
const PAGE: u64 = 20;

/// The first `wanted` sessions (or all, if fewer), a page at a time, and whether more
/// may follow (the last page was full).
async fn load(wanted: usize) -> Result<(Vec<SessionInfo>, bool), CallError> {
    let mut list: Vec<SessionInfo> = Vec::new();
    loop {
        let request = SessionsPage {
            limit: Some(PAGE),
            after: list.last().map(SessionInfo::cursor),
        };
        let page = authed(|| api::sessions(request.clone())).await?;
        let full = page.len() == PAGE as usize;
        list.extend(page);
        if !full || list.len() >= wanted {
            return Ok((list, full));
        }
    }
}
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
    let wanted = RwSignal::new(PAGE as usize);
    // Loads again when the server is back after "reconnecting", and with more pages.
    let sessions = LocalResource::new(move || {
        auth.reconnected.track();
        load(wanted.get())
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
                Some(Ok((list, more))) => EitherOf3::B(view! {
                    <ul class="session-list" data-testid="sessions">
                        {list.into_iter().map(|s| view! { <SessionRow session=s revoke=revoke /> }).collect_view()}
                    </ul>
                    {more.then(|| view! {
                        <button class="button button-quiet" on:click=move |_| wanted.update(|n| *n += PAGE as usize)>
                            "Show more"
                        </button>
                    })}
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
                {session.bound.then(|| view! {
                    <span class="badge" title="Only this device's own key can keep it signed in or sign it out">"Key-bound"</span>
                })}
                <p class="muted small">
                    "Signed in " {date_time(session.created_at as f64)}
                    " · last active " {date_time(session.last_activity as f64)}
                    {(!session.last_address.is_empty()).then(|| format!(" from {}", session.last_address))}
                </p>
                {(!session.bound).then(|| view! {
                    <p class="muted small">
                        "Not bound to a device key (this browser or client could not keep one)."
                    </p>
                })}
            </div>
            {(!session.current).then(|| view! {
                <button class="button button-quiet" on:click=move |_| revoke(id.clone())>
                    "Revoke"
                </button>
            })}
        </li>
    }
}
