//! `/login`: ask for a sign-in link. Shows why a session ended (`?reason=`), remembers
//! where to return (`?next=`), and explains rate limits in plain words.
//!
//! The form is a real HTML form (`POST /login`, see `http/login_form.rs`), so it works
//! before the wasm has loaded; the server's answer comes back as `?sent=1` or
//! `?error=…`. Once hydrated, the page sends the same request itself.

use crate::{
    auth::{api, AuthError, EndReason},
    components::{guard::safe_next, server_status::server_status, wording},
    nav::use_location,
};
use leptos::{either::Either, html, prelude::*, task::spawn_local};

/// localStorage key of the page to open after signing in (localStorage, not
/// sessionStorage: the emailed link usually opens in a new tab).
pub const NEXT_KEY: &str = "stay-signed-in.next";

fn remember_next(next: &str) {
    #[cfg(feature = "hydrate")]
    {
        crate::auth::local_storage::set(NEXT_KEY, next);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = next;
}

#[derive(Clone, PartialEq)]
enum Stage {
    Form,
    /// The link was requested; for this address when the page knows it.
    Sent(Option<String>),
}

/// The message for a problem the server reported to the form without JavaScript.
fn form_error(code: &str, retry_after: Option<u64>) -> String {
    match code {
        "email" => "Enter your email address, like name@example.com.".into(),
        "rate_limited" => format!(
            "Too many sign-in requests. Please try again in {}.",
            human_wait(retry_after.unwrap_or(60))
        ),
        _ => "We could not reach the server. Please try again in a moment.".into(),
    }
}

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let location = use_location();
    let reason = move || {
        location
            .param("reason")
            .and_then(|code| EndReason::from_code(&code))
    };
    let next = move || safe_next(location.param("next"));
    let answered = (
        location.param_untracked("sent"),
        location.param_untracked("error"),
        location.param_untracked("retry_after"),
    );
    let (stage, set_stage) = signal(if answered.0.is_some() {
        Stage::Sent(None)
    } else {
        Stage::Form
    });
    let (error, set_error) = signal(
        answered
            .1
            .map(|code| form_error(&code, answered.2.and_then(|n| n.parse().ok()))),
    );
    // Answered without JavaScript: remember where to go once the link is opened.
    Effect::new(move |_| {
        if stage.get_untracked() != Stage::Form {
            remember_next(&next());
        }
    });
    let input = NodeRef::<html::Input>::new();
    let (pending, set_pending) = signal(false);
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
        set_pending.set(true);
        spawn_local(async move {
            let result = api::magic_link(email.clone()).await;
            set_pending.set(false);
            match result {
                Ok(_) => {
                    set_error.set(None);
                    set_stage.set(Stage::Sent(Some(email)));
                }
                Err(e) => set_error.set(Some(match e.answer() {
                    Some(AuthError::BadRequest { message }) => capitalise(message),
                    Some(AuthError::RateLimited { retry_after }) => format!(
                        "Too many sign-in requests. Please try again in {}.",
                        human_wait(*retry_after)
                    ),
                    _ => "We could not reach the server. Please try again in a moment.".into(),
                })),
            }
        });
    };
    let dev_outbox = server_status();
    view! {
        <section class="card narrow">
            {move || reason().map(|reason| view! {
                <p class="notice" role="status" data-testid="end-reason">{wording::end_reason(reason)}</p>
            })}
            {move || match stage.get() {
                Stage::Form => Either::Left(view! {
                    <h1>"Sign in"</h1>
                    <p class="muted">"We will email you a link that signs you in. No password needed."</p>
                    <form method="post" action="/login" on:submit=submit novalidate>
                        <input type="hidden" name="next" value=next />
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
                        <button class="button button-large" type="submit" disabled=move || pending.get()>
                            {move || if pending.get() { "Sending…" } else { "Email me a sign-in link" }}
                        </button>
                    </form>
                }),
                Stage::Sent(email) => Either::Right(view! {
                    <h1>"Check your email"</h1>
                    <p data-testid="check-email">
                        {match email {
                            Some(email) => Either::Left(view! {
                                "If " <strong>{email}</strong> " can sign in, a link is on its way. "
                            }),
                            None => Either::Right("If your address can sign in, a link is on its way. "),
                        }}
                        "It works once and expires in a few minutes."
                    </p>
                    <button class="button button-quiet" on:click=move |_| set_stage.set(Stage::Form)>
                        "Use another address"
                    </button>
                    {move || matches!(dev_outbox.get(), Some(Ok(ref s)) if s.dev_outbox).then(|| view! {
                        <p class="muted dev-hint">
                            "Development: the email is in the server log and at "
                            <a href="/dev/outbox" target="_blank">"/dev/outbox"</a>"."
                        </p>
                    })}
                }),
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
