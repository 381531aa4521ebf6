//! Where the page is, and moving between pages without reloading: the app's whole
//! router. Four flat pages need no route tree: [`crate::app::Page`] picks the page from
//! the path, and this module keeps the path and query in signals, follows same-site
//! link clicks and the back and forward buttons, and navigates on request.
//!
//! It stands in for `leptos_router`, whose own code and an erased view per route with
//! async hydration made a large share of the bundle; see ARCHITECTURE, "Bundle size".

use leptos::prelude::*;

/// The current address, as signals: on the server from the request, in the browser from
/// `window.location` (kept current by [`follow_links`] and [`Location::navigate`]).
#[derive(Clone, Copy)]
pub struct Location {
    /// The path, such as `/sessions`.
    pub path: RwSignal<String>,
    /// The query string without its `?`.
    pub query: RwSignal<String>,
}

impl Location {
    /// The address of this request (server) or of this page (browser).
    pub fn current() -> Self {
        let (path, query) = current_address();
        Self {
            path: RwSignal::new(path),
            query: RwSignal::new(query),
        }
    }

    /// A query parameter, decoded; tracked, so a view reading it follows navigation.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.with(|query| query_param(query, key))
    }

    /// A query parameter, decoded, without tracking.
    pub fn param_untracked(&self, key: &str) -> Option<String> {
        self.query.with_untracked(|query| query_param(query, key))
    }

    /// Goes to a same-site `address` (`/path?query`): a new history entry, the page
    /// picked anew, scrolled to the top. Where the history API refuses, the browser loads
    /// the address instead. (A method, not a lookup in the reactive context: it is
    /// called from tasks that finish after an `await`, where there is no owner.)
    pub fn navigate(&self, address: &str) {
        if browser::push_history(address) {
            let (path, query) = split_address(address);
            self.set(path, query);
            browser::scroll_to_top();
        }
    }

    /// Moves to `path` and `query`, notifying only what changed: a new query keeps the
    /// page, a new path picks the page anew. The query goes first, so a page built for
    /// the new path reads its own query from the start.
    fn set(&self, path: &str, query: &str) {
        if self.query.with_untracked(|current| current != query) {
            self.query.set(query.to_owned());
        }
        if self.path.with_untracked(|current| current != path) {
            self.path.set(path.to_owned());
        }
    }
}

/// The [`Location`] the app provided.
pub fn use_location() -> Location {
    expect_context()
}

/// Follows clicks on this app's links and the back and forward buttons without
/// reloading the page (browser only; nothing happens on the server).
pub fn follow_links(location: Location) {
    browser::follow_links(location);
}

/// The value of `key` in a query string (`a=1&next=%2Fsessions`), decoded; the first
/// one when the key repeats.
pub fn query_param(query: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

/// `/path?query#hash` → (`/path`, `query`); the hash is dropped.
pub fn split_address(address: &str) -> (&str, &str) {
    let address = address
        .split_once('#')
        .map_or(address, |(before, _)| before);
    address.split_once('?').unwrap_or((address, ""))
}

/// Whether a link's `href` is an address this page can show itself: a path on this
/// site (one leading `/`), without a hash (a hash link is the browser's to scroll to).
pub fn is_app_address(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && !href.contains(['#', '\\'])
}

#[cfg(feature = "ssr")]
fn current_address() -> (String, String) {
    use_context::<http::request::Parts>()
        .map(|parts| {
            let uri = &parts.uri;
            (uri.path().to_owned(), uri.query().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| ("/".into(), String::new()))
}

#[cfg(not(feature = "ssr"))]
fn current_address() -> (String, String) {
    let location = window().location();
    let path = location.pathname().unwrap_or_else(|_| "/".into());
    let search = location.search().unwrap_or_default();
    (path, search.trim_start_matches('?').to_owned())
}

/// The browser's side: history, scrolling, and the listeners.
#[cfg(feature = "hydrate")]
mod browser {
    use super::{current_address, is_app_address, Location};
    use leptos::{ev, prelude::*};
    use wasm_bindgen::{JsCast, JsValue};

    /// Adds `address` to the history; false (after asking the browser to load the
    /// address) when the history API refuses.
    pub fn push_history(address: &str) -> bool {
        let pushed = window()
            .history()
            .and_then(|history| history.push_state_with_url(&JsValue::NULL, "", Some(address)));
        if pushed.is_err() {
            let _ = window().location().set_href(address);
        }
        pushed.is_ok()
    }

    pub fn scroll_to_top() {
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Plain left clicks on this app's links only: a click with a modifier key, or on a
    /// link with a `target` or `download`, is left to the browser.
    pub fn follow_links(location: Location) {
        let _ = window_event_listener(ev::popstate, move |_| {
            let (path, query) = current_address();
            location.set(&path, &query);
        });
        let _ = window_event_listener(ev::click, move |event| {
            if event.default_prevented()
                || event.button() != 0
                || event.meta_key()
                || event.alt_key()
                || event.ctrl_key()
                || event.shift_key()
            {
                return;
            }
            let Some(link) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .and_then(|element| element.closest("a[href]").ok().flatten())
            else {
                return;
            };
            if link.has_attribute("target") || link.has_attribute("download") {
                return;
            }
            let href = link.get_attribute("href").unwrap_or_default();
            if is_app_address(&href) {
                event.prevent_default();
                location.navigate(&href);
            }
        });
    }
}

/// The server renders one address per request: there is nothing to follow.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::Location;

    pub fn push_history(_address: &str) -> bool {
        false
    }

    pub fn scroll_to_top() {}

    pub fn follow_links(_location: Location) {}
}

#[cfg(test)]
mod tests {
    use super::{is_app_address, query_param, split_address};

    #[test]
    fn query_parameters_are_decoded() {
        let query = "next=%2Fsessions%3Fa%3D1&reason=session_expired&e=a+b&next=%2Fother";
        assert_eq!(query_param(query, "next").as_deref(), Some("/sessions?a=1"));
        assert_eq!(
            query_param(query, "reason").as_deref(),
            Some("session_expired")
        );
        assert_eq!(query_param(query, "e").as_deref(), Some("a b"));
        assert_eq!(query_param(query, "missing"), None);
        assert_eq!(query_param("", "next"), None);
        assert_eq!(query_param("token", "token").as_deref(), Some(""));
    }

    #[test]
    fn addresses_split_into_path_and_query() {
        assert_eq!(split_address("/login?next=%2F#top"), ("/login", "next=%2F"));
        assert_eq!(split_address("/sessions"), ("/sessions", ""));
        assert_eq!(split_address("/#main"), ("/", ""));
    }

    #[test]
    fn only_this_sites_paths_are_followed() {
        for followed in ["/", "/sessions", "/login?next=%2Fsessions"] {
            assert!(is_app_address(followed), "{followed}");
        }
        for left in [
            "#main",
            "//evil.example/",
            "/\\evil.example",
            "https://x.example/",
            "/#main",
            "mailto:a@b",
        ] {
            assert!(!is_app_address(left), "{left}");
        }
    }
}
