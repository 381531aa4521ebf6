//! The signed-in part of the home page: everything here exists for sign-in.

use leptos::prelude::*;
use stay_signed_in_auth::{api, authed, use_auth, AuthStatus, SignInForm, SignOutButton};

/// The sign-in form, or who is signed in and a way out.
#[component]
pub fn Account() -> impl IntoView {
    let auth = use_auth();
    move || match auth.status.get() {
        AuthStatus::SignedIn => view! { <Me/> <SignOutButton/> }.into_any(),
        AuthStatus::SignedOut { .. } => view! { <SignInForm/> }.into_any(),
        AuthStatus::Checking => ().into_any(),
    }
}

/// Who is signed in, from a protected server function: `authed` sends the access
/// token, refreshed first when it is due.
#[component]
fn Me() -> impl IntoView {
    let me = LocalResource::new(|| authed(api::me));
    let email = move || me.get().and_then(Result::ok).map(|me| me.user.email);
    view! {
        <p>"Signed in as " <strong data-testid="email">{email}</strong></p>
        <button on:click=move |_| me.refetch()>"Check again"</button>
    }
}
