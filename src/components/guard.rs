//! Protected views: a neutral placeholder while the browser checks its tokens, a
//! redirect to `/login` when signed out (remembering where to come back to, and why the
//! session ended), the content when signed in.

use crate::{
    auth::state::{use_auth, AuthStatus},
    nav::use_location,
};
use leptos::{either::Either, prelude::*};

/// The `/login` URL for a signed-out visitor of `path`.
pub fn login_url(path: &str, reason: Option<&str>) -> String {
    let mut url = format!("/login?next={}", urlencode(path));
    if let Some(reason) = reason {
        url.push_str("&reason=");
        url.push_str(reason);
    }
    url
}

/// Percent-encodes `text` for a query value (letters, digits, `-_./` stay).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Paths that need a session (their visitors are sent to `/login?next=`).
const PROTECTED: [&str; 1] = ["/sessions"];

/// The one place that moves people when their session state changes:
/// - signed out on a protected page, or a session that *ended* (not a deliberate
///   sign-out) anywhere: to `/login`, with the way back and the reason;
/// - signed in on `/login`: on to the page they wanted.
#[component]
pub fn AuthRedirects() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    Effect::new(move |_| {
        let status = auth.status.get();
        let path = location.path.get_untracked();
        match status {
            AuthStatus::SignedOut { reason } if needs_sign_in(&path, reason.is_some()) => {
                let url = login_url(&path, reason.map(|r| r.code()));
                location.navigate(&url);
            }
            AuthStatus::SignedIn if path == "/login" => {
                location.navigate(&safe_next(location.param_untracked("next")));
            }
            _ => {}
        }
    });
}

/// Whether a signed-out visitor of `path` goes to `/login`: on protected pages, and
/// anywhere (but the sign-in pages) when a session has just ended.
fn needs_sign_in(path: &str, session_ended: bool) -> bool {
    let signing_in = path == "/login" || path.starts_with("/auth/");
    !signing_in && (session_ended || PROTECTED.contains(&path))
}

/// Only same-site paths are followed after sign-in: a single leading `/`, and nothing a
/// URL parser could turn into another origin (`//host`, `/\host`, control characters).
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into())
}

fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        for good in ["/", "/sessions", "/sessions?x=1"] {
            assert_eq!(safe_next(Some(good.into())), good);
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "/\t/evil.com",
            "https://evil.com",
            "evil.com",
            "/\n/evil.com",
            "",
        ] {
            assert_eq!(safe_next(Some(bad.into())), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

/// Shows `children` only to signed-in people (the redirect is [`AuthRedirects`]' job).
#[component]
pub fn RequireSignIn<C>(children: TypedChildrenFn<C>) -> impl IntoView
where
    C: IntoView + 'static,
{
    let auth = use_auth();
    let children = children.into_inner();
    move || {
        if auth.status.get() == AuthStatus::SignedIn {
            Either::Left(children())
        } else {
            Either::Right(view! { <Checking /> })
        }
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
