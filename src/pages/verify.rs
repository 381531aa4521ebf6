//! `/auth/verify?token=…`: the interstitial. Opening the link only shows a button (mail
//! scanners prefetch links; a GET must not consume the token); the button signs in.

use crate::{
    auth::{actions, api, AuthError, CallError},
    components::guard::safe_next,
    nav::use_location,
    pages::login::NEXT_KEY,
};
use leptos::{either::Either, prelude::*, task::spawn_local};

fn take_next() -> String {
    #[cfg(feature = "hydrate")]
    {
        use crate::auth::local_storage;
        let next = local_storage::get::<String>(NEXT_KEY);
        local_storage::remove(NEXT_KEY);
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
    let location = use_location();
    let token = move || location.param("token").unwrap_or_default();
    let (pending, set_pending) = signal(false);
    let (failed, set_failed) = signal(None::<CallError>);
    // Effects run only in the browser, after hydration: until then the button is inert
    // and says so, so a click can never be lost silently.
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    let sign_in = move |_| {
        set_pending.set(true);
        spawn_local(async move {
            let result = actions::verify(token()).await;
            set_pending.set(false);
            match result {
                Ok(pair) => {
                    actions::signed_in(&pair);
                    location.navigate(&take_next());
                }
                Err(error) => set_failed.set(Some(error)),
            }
        });
    };
    // Whose link this is, read (not used) once the page runs: a person handed someone
    // else's link sees whose account it opens before pressing the button.
    let account = LocalResource::new(move || {
        let token = token();
        async move {
            if token.is_empty() {
                return None;
            }
            Some(api::link_account(token).await)
        }
    });
    Effect::new(move |_| {
        if let Some(Some(Err(CallError::Answer(AuthError::LinkInvalid)))) = account.get() {
            set_failed.set(Some(AuthError::LinkInvalid.into()));
        }
    });
    let failure = move || match failed.get().as_ref().map(CallError::answer) {
        Some(Some(AuthError::LinkInvalid)) => {
            Some("This sign-in link has expired, was already used, or a newer link replaced it.")
        }
        Some(Some(AuthError::RateLimited { .. })) => {
            Some("Too many attempts. Please wait a minute and try again.")
        }
        Some(_) => Some("We could not reach the server. Please try again."),
        _ => None,
    };
    view! {
        <section class="card narrow">
            <h1>"Sign in to stay-signed-in"</h1>
            {move || if token().is_empty() {
                Either::Left(view! {
                    <p class="error">"This link is incomplete."</p>
                    <a href="/login" class="button">"Request a new link"</a>
                })
            } else {
                Either::Right(view! {
                    {move || match account.get() {
                        Some(Some(Ok(account))) => Either::Left(view! {
                            <p>
                                "This link signs in as "
                                <strong data-testid="link-account">{account.email}</strong>
                                ". If that is not you, close this page."
                            </p>
                        }),
                        _ => Either::Right(()),
                    }}
                    <p class="muted">"Press the button to finish signing in on this device."</p>
                    <button
                        class="button button-large"
                        data-testid="confirm-sign-in"
                        disabled=move || pending.get() || !ready.get()
                        aria-busy=move || (!ready.get()).to_string()
                        on:click=sign_in
                    >
                        {move || if !ready.get() {
                            "Getting ready…"
                        } else if pending.get() {
                            "Signing in…"
                        } else {
                            "Sign in"
                        }}
                    </button>
                    {move || failure().map(|text| view! {
                        <p class="error" role="alert" data-testid="verify-error">{text}</p>
                        <a href="/login" class="button button-quiet">"Request a new link"</a>
                    })}
                })
            }}
        </section>
    }
}
