//! The top bar: brand, navigation, the quiet "reconnecting" indicator, sign-out.

use crate::{
    auth::{
        actions,
        state::{use_auth, AuthStatus, Connection},
    },
    components::wording,
    nav::use_location,
};
use leptos::{either::EitherOf3, prelude::*, task::spawn_local};

/// Header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let sign_out = move |_| spawn_local(actions::sign_out());
    let location = use_location();
    let current = move |path: &'static str| move || (location.path.get() == path).then_some("page");
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <div class="topbar-inner">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true">"●"</span>
                    " stay-signed-in"
                </a>
                {move || (auth.connection.get() == Connection::Reconnecting).then(|| view! {
                    <span class="reconnecting" role="status" data-testid="reconnecting">
                        "Reconnecting…"
                    </span>
                })}
                <nav aria-label="Main">
                    {move || match auth.status.get() {
                        AuthStatus::SignedIn => EitherOf3::A(view! {
                            <a href="/" class="nav-link" aria-current=current("/")>"Dashboard"</a>
                            <a href="/sessions" class="nav-link" aria-current=current("/sessions")>"Devices"</a>
                            <button class="button button-quiet" on:click=sign_out data-testid="sign-out">
                                "Sign out"
                            </button>
                        }),
                        AuthStatus::SignedOut { .. } => EitherOf3::B(view! {
                            <a href="/login" class="nav-link">"Sign in"</a>
                        }),
                        AuthStatus::Checking => EitherOf3::C(()),
                    }}
                </nav>
            </div>
        </header>
        {move || auth.notice.get().map(|notice| view! {
            <p class="storage-notice" role="status" data-testid="storage-notice">{wording::notice(notice)}</p>
        })}
    }
}
