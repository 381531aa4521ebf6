//! The top bar: brand, navigation, the quiet "reconnecting" indicator, sign-out.

use crate::auth::{
    session,
    state::{use_auth, AuthStatus, Connection},
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

/// Header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let signed_in = move || auth.status.get() == AuthStatus::SignedIn;
    let sign_out = move |_| spawn_local(session::sign_out());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <div class="topbar-inner">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"●"</span>
                    " stay-signed-in"
                </A>
                <Show when=move || auth.connection.get() == Connection::Reconnecting>
                    <span class="reconnecting" role="status" data-testid="reconnecting">
                        "Reconnecting…"
                    </span>
                </Show>
                <nav aria-label="Main">
                    <Show
                        when=signed_in
                        fallback=move || {
                            view! {
                                <Show when=move || {
                                    matches!(auth.status.get(), AuthStatus::SignedOut { .. })
                                }>
                                    <A href="/login" attr:class="nav-link">"Sign in"</A>
                                </Show>
                            }
                        }
                    >
                        <A href="/" attr:class="nav-link">"Dashboard"</A>
                        <A href="/sessions" attr:class="nav-link">"Devices"</A>
                        <button class="button button-quiet" on:click=sign_out data-testid="sign-out">
                            "Sign out"
                        </button>
                    </Show>
                </nav>
            </div>
        </header>
    }
}
