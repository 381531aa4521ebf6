//! The names the client uses in the browser, all under the app's name (default
//! `stay-signed-in`): its localStorage keys, the Web Lock, the BroadcastChannel and
//! the IndexedDB database of the DPoP key. Two apps on one origin keep their sign-ins
//! apart by naming themselves differently
//! ([`provide_auth_named`](crate::components::provide_auth_named)).

use std::sync::OnceLock;

/// The app name a client has unless it is given another.
pub const DEFAULT_APP_NAME: &str = "stay-signed-in";

static APP_NAME: OnceLock<String> = OnceLock::new();

/// Names this page's client; only the first call counts (names must not change while
/// tokens are kept under them).
pub fn set_app_name(name: &str) {
    let _ = APP_NAME.set(name.to_owned());
}

/// The app's name: the IndexedDB database, and the prefix of every other name.
pub fn app() -> &'static str {
    APP_NAME.get().map_or(DEFAULT_APP_NAME, String::as_str)
}

fn named(what: &str) -> String {
    format!("{}.{what}", app())
}

/// localStorage: the token pair.
pub fn tokens() -> String {
    named("tokens")
}

/// localStorage: why the last session ended, shown once.
pub fn ended() -> String {
    named("ended")
}

/// Web Locks: the one refresh of the browser.
pub fn refresh_lock() -> String {
    named("refresh")
}

/// localStorage: the lease that stands in for Web Locks where they are missing.
pub fn refresh_lease() -> String {
    named("refresh-lease")
}

/// localStorage: the server's newest DPoP nonce.
pub fn dpop_nonce() -> String {
    named("dpop-nonce")
}

/// BroadcastChannel: new pairs and sign-outs for the other tabs.
pub fn tabs() -> String {
    named("tabs")
}

/// localStorage: a sign-out the server has not confirmed.
pub fn pending_sign_out() -> String {
    named("pending-sign-out")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default names are the ones earlier builds used: upgrading signs nobody out.
    #[test]
    fn the_default_names_are_the_ones_browsers_already_keep() {
        assert_eq!(app(), "stay-signed-in");
        assert_eq!(tokens(), "stay-signed-in.tokens");
        assert_eq!(ended(), "stay-signed-in.ended");
        assert_eq!(refresh_lock(), "stay-signed-in.refresh");
        assert_eq!(refresh_lease(), "stay-signed-in.refresh-lease");
        assert_eq!(dpop_nonce(), "stay-signed-in.dpop-nonce");
        assert_eq!(tabs(), "stay-signed-in.tabs");
        assert_eq!(pending_sign_out(), "stay-signed-in.pending-sign-out");
    }
}
