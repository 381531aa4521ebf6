//! The small panel that makes the session visible: signed in since, next refresh,
//! valid until, and the two sign-out buttons.

use crate::{
    auth::{actions, state::use_auth, Me},
    components::format::{date_time, time_of_day},
};
use leptos::{prelude::*, task::spawn_local};

/// Session facts for the dashboard.
#[component]
pub fn SessionPanel(me: Me) -> impl IntoView {
    let auth = use_auth();
    let (error, set_error) = signal(None::<String>);
    let refresh_at = move || {
        auth.times
            .get()
            .map(|t| time_of_day(t.refresh_due_at))
            .unwrap_or_default()
    };
    let valid_until = move || {
        auth.times
            .get()
            .map(|t| date_time(t.session_expires_at))
            .unwrap_or_default()
    };
    let everywhere = move |_| {
        spawn_local(async move {
            if let Err(e) = actions::sign_out_everywhere().await {
                set_error.set(Some(format!("Could not sign out everywhere: {e}")));
            }
        })
    };
    let sign_out = move |_| spawn_local(actions::sign_out());
    view! {
        <section class="card session-panel" aria-labelledby="session-title">
            <h2 id="session-title">"This session"</h2>
            <dl class="facts">
                <dt>"Device"</dt>
                <dd>{me.session.device.clone()}</dd>
                <dt>"Signed in since"</dt>
                <dd>{date_time(me.session.created_at as f64)}</dd>
                <dt>"Access token refreshes at"</dt>
                <dd data-testid="refresh-at">{refresh_at}</dd>
                <dt>"Session valid until"</dt>
                <dd data-testid="valid-until">{valid_until}</dd>
            </dl>
            <div class="actions">
                <button class="button" on:click=sign_out>"Sign out"</button>
                <button class="button button-danger" on:click=everywhere data-testid="sign-out-everywhere">
                    "Sign out everywhere"
                </button>
            </div>
            {move || error.get().map(|text| view! { <p class="error" role="alert">{text}</p> })}
        </section>
    }
}
