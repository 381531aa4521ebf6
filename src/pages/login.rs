//! `/login`: ask for a sign-in link. Shows why a session ended (`?reason=`), remembers
//! where to return (`?next=`), and explains rate limits in plain words.

use crate::auth::{
    api::{check_server, request_magic_link},
    state::{use_auth, AuthStatus},
    AuthError, EndReason,
};
use leptos::{html, prelude::*};
use leptos_router::{hooks::use_navigate, hooks::use_query_map, NavigateOptions};

/// sessionStorage key of the page to open after signing in.
pub const NEXT_KEY: &str = "stay-signed-in.next";

/// Only same-site paths are followed after sign-in.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| "/".into())
}

fn remember_next(next: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{SessionStorage, Storage};
        let _ = SessionStorage::set(NEXT_KEY, next);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = next;
}

#[derive(Clone, PartialEq)]
enum Stage {
    Form,
    Sent(String),
}

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let auth = use_auth();
    let navigate = use_navigate();
    let reason = move || {
        query
            .read()
            .get("reason")
            .and_then(|code| EndReason::from_code(&code))
    };
    let next = move || safe_next(query.read().get("next"));
    // Already signed in: nothing to do here.
    Effect::new(move |_| {
        if auth.status.get() == AuthStatus::SignedIn {
            navigate(&next(), NavigateOptions::default());
        }
    });
    let (stage, set_stage) = signal(Stage::Form);
    let (error, set_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    let send = Action::new_local(|email: &String| {
        let email = email.clone();
        async move { request_magic_link(email.clone()).await.map(|_| email) }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(email)) => {
            set_error.set(None);
            set_stage.set(Stage::Sent(email));
        }
        Some(Err(e)) => set_error.set(Some(match e {
            AuthError::BadRequest { message } => capitalise(&message),
            AuthError::RateLimited { retry_after } => format!(
                "Too many sign-in requests. Please try again in {}.",
                human_wait(retry_after)
            ),
            _ => "We could not reach the server. Please try again in a moment.".into(),
        })),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let email = input.get().map(|i| i.value()).unwrap_or_default();
        let email = email.trim().to_string();
        if email.is_empty() || !email.contains('@') {
            set_error.set(Some(
                "Enter your email address, like name@example.com.".into(),
            ));
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
            return;
        }
        remember_next(&next());
        send.dispatch(email);
    };
    let dev_outbox = LocalResource::new(check_server);
    view! {
        <section class="card narrow">
            <Show when=move || reason().is_some()>
                <p class="notice" role="status" data-testid="end-reason">
                    {move || reason().map(|r| r.explain())}
                </p>
            </Show>
            {move || match stage.get() {
                Stage::Form => view! {
                    <h1>"Sign in"</h1>
                    <p class="muted">"We will email you a link that signs you in. No password needed."</p>
                    <form on:submit=submit novalidate>
                        <label for="email">"Email address"</label>
                        <input
                            id="email"
                            name="email"
                            type="email"
                            node_ref=input
                            autocomplete="email"
                            required
                            placeholder="name@example.com"
                            aria-invalid=move || error.get().is_some().to_string()
                            aria-describedby="email-error"
                        />
                        <p id="email-error" class="error" role="alert">{move || error.get()}</p>
                        <button class="button button-large" type="submit" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { "Sending…" } else { "Email me a sign-in link" }}
                        </button>
                    </form>
                }.into_any(),
                Stage::Sent(email) => view! {
                    <h1>"Check your email"</h1>
                    <p data-testid="check-email">
                        "If " <strong>{email}</strong> " can sign in, a link is on its way. "
                        "It works once and expires in a few minutes."
                    </p>
                    <button class="button button-quiet" on:click=move |_| set_stage.set(Stage::Form)>
                        "Use another address"
                    </button>
                    <Show when=move || matches!(dev_outbox.get(), Some(Ok(ref s)) if s.dev_outbox)>
                        <p class="muted dev-hint">
                            "Development: the email is in the server log and at "
                            <a href="/dev/outbox" target="_blank">"/dev/outbox"</a>"."
                        </p>
                    </Show>
                }.into_any(),
            }}
        </section>
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".into(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}
