//! The names the client uses in the browser, all under the app's name (default
//! `stay-signed-in`): its localStorage keys, the Web Lock, the BroadcastChannel and
//! the IndexedDB database of the DPoP key. Two apps on one origin keep their sign-ins
//! apart by naming themselves differently
//! ([`provide_auth_named`](crate::components::provide_auth_named)).

use std::sync::OnceLock;

/// The app name a client has unless it is given another.
pub const DEFAULT_APP_NAME: &str = "stay-signed-in";

static APP_NAME: OnceLock<String> = OnceLock::new();

/// Names this page's client; only the first call counts, and only before any name is
/// used (names must not change while tokens are kept under them).
pub fn set_app_name(name: &str) {
    let _ = APP_NAME.set(name.to_owned());
}

/// The app's name: the IndexedDB database, and the prefix of every other name.
pub fn app() -> &'static str {
    APP_NAME.get().map_or(DEFAULT_APP_NAME, String::as_str)
}

/// Every name the client keeps its state under, made once per page from the app's name
/// (kept in the client's state).
pub struct Names {
    /// localStorage: the token pair.
    pub tokens: String,
    /// localStorage: why the last session ended, shown once.
    pub ended: String,
    /// Web Locks: the one refresh of the browser.
    pub refresh_lock: String,
    /// localStorage: the lease that stands in for Web Locks where they are missing.
    pub refresh_lease: String,
    /// localStorage: the server's newest DPoP nonce.
    pub dpop_nonce: String,
    /// BroadcastChannel: new pairs and sign-outs for the other tabs.
    pub tabs: String,
    /// localStorage: a sign-out the server has not confirmed.
    pub pending_sign_out: String,
}

impl Names {
    /// The names of the app called `app`.
    pub fn of(app: &str) -> Self {
        let named = |what: &str| {
            let mut name = String::from(app);
            name.push('.');
            name.push_str(what);
            name
        };
        Self {
            tokens: named("tokens"),
            ended: named("ended"),
            refresh_lock: named("refresh"),
            refresh_lease: named("refresh-lease"),
            dpop_nonce: named("dpop-nonce"),
            tabs: named("tabs"),
            pending_sign_out: named("pending-sign-out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default names are the ones earlier builds used: upgrading signs nobody out.
    #[test]
    fn the_default_names_are_the_ones_browsers_already_keep() {
        assert_eq!(app(), "stay-signed-in");
        let names = Names::of(app());
        assert_eq!(names.tokens, "stay-signed-in.tokens");
        assert_eq!(names.ended, "stay-signed-in.ended");
        assert_eq!(names.refresh_lock, "stay-signed-in.refresh");
        assert_eq!(names.refresh_lease, "stay-signed-in.refresh-lease");
        assert_eq!(names.dpop_nonce, "stay-signed-in.dpop-nonce");
        assert_eq!(names.tabs, "stay-signed-in.tabs");
        assert_eq!(names.pending_sign_out, "stay-signed-in.pending-sign-out");
    }
}
