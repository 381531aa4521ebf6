//! `/auth/verify?token=…`: the interstitial. Opening the link only shows a button (mail
//! scanners prefetch links; a GET must not consume the token); the button signs in.

use crate::{
    auth::{api::verify_magic_link, session, AuthError},
    pages::login::{safe_next, NEXT_KEY},
};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, hooks::use_query_map, NavigateOptions};

fn take_next() -> String {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{SessionStorage, Storage};
        let next = SessionStorage::get::<String>(NEXT_KEY).ok();
        SessionStorage::delete(NEXT_KEY);
        safe_next(next)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = NEXT_KEY;
        safe_next(None)
    }
}

/// The "Sign in" button page.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let token = move || query.read().get("token").unwrap_or_default();
    let verify = Action::new_local(|token: &String| {
        let token = token.clone();
        async move { verify_magic_link(token).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(pair)) = verify.value().get() {
            session::signed_in(&pair);
            navigate(&take_next(), NavigateOptions::default());
        }
    });
    let failure = move || match verify.value().get() {
        Some(Err(AuthError::LinkInvalid)) => {
            Some("This sign-in link has expired, was already used, or a newer link replaced it.")
        }
        Some(Err(AuthError::RateLimited { .. })) => {
            Some("Too many attempts. Please wait a minute and try again.")
        }
        Some(Err(_)) => Some("We could not reach the server. Please try again."),
        _ => None,
    };
    view! {
        <section class="card narrow">
            <h1>"Sign in to stay-signed-in"</h1>
            <Show
                when=move || !token().is_empty()
                fallback=|| view! {
                    <p class="error">"This link is incomplete."</p>
                    <A href="/login" attr:class="button">"Request a new link"</A>
                }
            >
                <p class="muted">"Press the button to finish signing in on this device."</p>
                <button
                    class="button button-large"
                    data-testid="confirm-sign-in"
                    disabled=move || verify.pending().get()
                    on:click=move |_| { verify.dispatch(token()); }
                >
                    {move || if verify.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
                <Show when=move || failure().is_some()>
                    <p class="error" role="alert" data-testid="verify-error">{failure}</p>
                    <A href="/login" attr:class="button button-quiet">"Request a new link"</A>
                </Show>
            </Show>
        </section>
    }
}
