//! Ready-made pieces for an app's pages: [`provide_auth`] once in the app's root, then
//! [`SignInForm`], [`FinishSignIn`] (the page a sign-in link opens) and
//! [`SignOutButton`] where they belong. Their text is plain English and their markup
//! unstyled (classes `ssi-*`); an app that wants its own words builds the same from
//! [`actions`] and [`api`], as this repository's app does.
//!
//! They work once the page is hydrated: until then the buttons are disabled (a click
//! can never be lost silently).

use crate::{actions, api, state::AuthState, AuthError, CallError};
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};

/// Creates the sign-in state, provides it as context (read it with
/// [`use_auth`](crate::state::use_auth)) and starts the browser client once the page
/// is hydrated. Call it once, in the app's root component.
pub fn provide_auth() -> AuthState {
    provide_auth_named(crate::client::names::DEFAULT_APP_NAME)
}

/// [`provide_auth`] for an app that names itself: the browser keeps its tokens, its
/// lock, its tab channel and its DPoP key under `app_name`, so two apps on one origin
/// (or a new app on an origin an older one used) keep their sign-ins apart. Keep the
/// name once chosen: a new name starts everyone signed out.
pub fn provide_auth_named(app_name: &str) -> AuthState {
    #[cfg(feature = "hydrate")]
    crate::client::names::set_app_name(app_name);
    #[cfg(not(feature = "hydrate"))]
    let _ = app_name;
    let auth = AuthState::new();
    provide_context(auth);
    // Effects run only in the browser, after hydration: tokens are read there.
    Effect::new(move |_| actions::start(auth));
    auth
}

/// True once the page is hydrated (effects only run in the browser).
fn hydrated() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}

/// What a person can do about a failed call, in a sentence.
fn failure_text(error: &CallError) -> &'static str {
    match error.answer() {
        Some(AuthError::BadRequest { .. }) => "Enter your email address, like name@example.com.",
        Some(AuthError::LinkInvalid) => {
            "This sign-in link has expired, was already used, or a newer link replaced it."
        }
        Some(AuthError::RateLimited { .. }) => "Too many attempts. Please wait and try again.",
        _ => "We could not reach the server. Please try again.",
    }
}

/// An email field and a button that asks for a sign-in link. The answer is the same
/// whether or not the address has an account.
#[component]
pub fn SignInForm() -> impl IntoView {
    let ready = hydrated();
    let email = RwSignal::new(String::new());
    let (pending, set_pending) = signal(false);
    let (answer, set_answer) = signal(None::<Result<(), CallError>>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        set_pending.set(true);
        spawn_local(async move {
            let result = api::magic_link(email.get_untracked()).await.map(|_| ());
            set_pending.set(false);
            set_answer.set(Some(result));
        });
    };
    view! {
        <form class="ssi-sign-in" on:submit=submit>
            <label>
                "Email "
                <input type="email" name="email" required autocomplete="email" bind:value=email />
            </label>
            <button type="submit" disabled=move || pending.get() || !ready.get()>
                "Email me a sign-in link"
            </button>
            {move || answer.get().map(|answer| match answer {
                Ok(()) => view! {
                    <p class="ssi-sent" role="status">"Check your email for a sign-in link."</p>
                }.into_any(),
                Err(error) => view! {
                    <p class="ssi-error" role="alert">{failure_text(&error)}</p>
                }.into_any(),
            })}
        </form>
    }
}

/// The page a sign-in link opens (`AuthConfig::link_path`, default `/auth/verify`):
/// a button that signs in with the link's `?token=`, then opens `then` (default `/`).
/// Opening the link only shows the button, because mail scanners open links too.
#[component]
pub fn FinishSignIn(
    /// Where to go once signed in.
    #[prop(into, default = "/".into())]
    then: String,
) -> impl IntoView {
    let ready = hydrated();
    let (pending, set_pending) = signal(false);
    let (failed, set_failed) = signal(None::<CallError>);
    let sign_in = move |_| {
        let then = then.clone();
        set_pending.set(true);
        spawn_local(async move {
            let result = actions::verify(link_token()).await;
            set_pending.set(false);
            match result {
                Ok(pair) => {
                    actions::signed_in(&pair);
                    open(&then);
                }
                Err(error) => set_failed.set(Some(error)),
            }
        });
    };
    view! {
        <div class="ssi-finish-sign-in">
            <button on:click=sign_in disabled=move || pending.get() || !ready.get()>
                "Sign in"
            </button>
            {move || failed.get().map(|error| view! {
                <p class="ssi-error" role="alert">{failure_text(&error)}</p>
            })}
        </div>
    }
}

/// Signs this browser out (every tab of it) and ends the session on the server.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let ready = hydrated();
    view! {
        <button class="ssi-sign-out" disabled=move || !ready.get() on:click=move |_| spawn_local(actions::sign_out())>
            "Sign out"
        </button>
    }
}

/// The `token` of the page's address (only read in the browser, when the button is
/// pressed).
fn link_token() -> String {
    #[cfg(feature = "hydrate")]
    {
        let search = web_sys::window()
            .and_then(|window| window.location().search().ok())
            .unwrap_or_default();
        search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .and_then(|token| js_sys::decode_uri_component(token).ok())
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Opens `path` in place of the link's page, which holds a spent token and should not
/// stay in the history.
fn open(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
