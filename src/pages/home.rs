//! `/`: the landing page for visitors, the dashboard for signed-in people, and a
//! neutral loading state while the browser checks (never a flash of "signed out").

use crate::{
    auth::{
        actions::authed,
        api,
        state::{use_auth, AuthStatus},
    },
    components::{
        guard::Checking, notes::Notes, server_status::server_status, session_panel::SessionPanel,
    },
};
use leptos::{
    either::{Either, EitherOf3},
    prelude::*,
};

/// Landing or dashboard, depending on the session.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        {move || match auth.status.get() {
            AuthStatus::Checking => EitherOf3::A(view! { <Checking /> }),
            AuthStatus::SignedIn => EitherOf3::B(view! { <Dashboard /> }),
            AuthStatus::SignedOut { .. } => EitherOf3::C(view! { <Landing /> }),
        }}
    }
}

/// What a visitor sees.
#[component]
fn Landing() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Sign in once. Stay signed in."</h1>
            <p class="lead">
                "A magic link signs you in. After that, short-lived access tokens renew "
                "quietly before they expire — across tabs, flaky networks and server restarts."
            </p>
            <a href="/login" class="button button-large">"Sign in with email"</a>
        </section>
        <ServerCheck />
        <section class="features">
            <article class="card">
                <h2>"Refreshed before expiry"</h2>
                <p>"Tokens renew five minutes early, never after a failed request."</p>
            </article>
            <article class="card">
                <h2>"One refresh for everything"</h2>
                <p>"Many requests and many tabs share a single refresh."</p>
            </article>
            <article class="card">
                <h2>"Calm on bad networks"</h2>
                <p>"Lost connections mean “reconnecting”, never “signed out”."</p>
            </article>
        </section>
    }
}

/// Calls the public status function after hydration: proof the browser↔server path works.
#[component]
fn ServerCheck() -> impl IntoView {
    let status = server_status();
    view! {
        <p class="server-status" data-testid="server-status" aria-live="polite">
            {move || match status.get() {
                None => "Checking the server…".to_string(),
                Some(Ok(s)) if s.store_ok => format!("Server connected · session store: {}", s.store),
                Some(Ok(s)) => format!("Server connected · session store {} unavailable", s.store),
                Some(Err(_)) => "Server unreachable".to_string(),
            }}
        </p>
    }
}

/// What a signed-in person sees.
#[component]
fn Dashboard() -> impl IntoView {
    let auth = use_auth();
    let retries = RwSignal::new(0u32);
    // Loads again when the server is back after "reconnecting", or on "Try again".
    let profile = LocalResource::new(move || {
        auth.reconnected.track();
        retries.track();
        authed(api::me)
    });
    view! {
        <Suspense fallback=|| view! { <Checking /> }>
            {move || profile.get().map(|result| match result {
                Ok(me) => Either::Left(view! {
                    <section class="welcome">
                        <h1>"Welcome back"</h1>
                        <p class="lead">
                            "Signed in as " <strong data-testid="user-email">{me.user.email.clone()}</strong>
                        </p>
                    </section>
                    <div class="grid">
                        <Notes />
                        <SessionPanel me=me />
                    </div>
                }),
                Err(error) => Either::Right(view! {
                    <section class="card">
                        <h1>"Welcome back"</h1>
                        <p class="muted" data-testid="profile-error">
                            {if error.is_transient() {
                                "The server is not answering right now. You are still signed in; we keep trying."
                            } else {
                                "We could not confirm your sign-in just now."
                            }}
                        </p>
                        {(!error.is_transient()).then(|| view! {
                            <button
                                class="button"
                                data-testid="profile-retry"
                                on:click=move |_| retries.update(|n| *n += 1)
                            >
                                "Try again"
                            </button>
                        })}
                    </section>
                }),
            })}
        </Suspense>
    }
}
