//! Protected views: a neutral placeholder while the browser checks its tokens, a
//! redirect to `/login` when signed out (remembering where to come back to, and why the
//! session ended), the content when signed in.

use crate::auth::state::{use_auth, AuthStatus};
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

/// The `/login` URL for a signed-out visitor of `path`.
pub fn login_url(path: &str, reason: Option<&str>) -> String {
    let mut url = format!("/login?next={}", urlencode(path));
    if let Some(reason) = reason {
        url.push_str("&reason=");
        url.push_str(reason);
    }
    url
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Shows `children` only to signed-in people.
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if let AuthStatus::SignedOut { reason } = auth.status.get() {
            let path = location.pathname.get_untracked();
            let url = login_url(&path, reason.map(|r| r.code()));
            navigate(&url, NavigateOptions::default());
        }
    });
    view! {
        <Show
            when=move || auth.status.get() == AuthStatus::SignedIn
            fallback=|| view! { <Checking /> }
        >
            {children()}
        </Show>
    }
}

/// The neutral state shown while the browser checks its tokens.
#[component]
pub fn Checking() -> impl IntoView {
    view! {
        <div class="checking" aria-busy="true" aria-live="polite" data-testid="checking">
            <span class="spinner" aria-hidden="true"></span>
            <span>"Loading…"</span>
        </div>
    }
}
