//! Where everything lives in Redis. Every key of a user starts with the user's hash tag
//! `{<user id>}`, so each script touches a single Cluster slot.

use crate::server::session_id::SessionId;

/// Key layout. `prefix` namespaces everything (tests use a random one each).
pub(super) struct Keys {
    pub(super) prefix: String,
}

impl Keys {
    /// `<p>:{<uid>}:` followed by `parts`: the user's hash tag starts every per-user key.
    /// Built by hand rather than with nested `format!`s: `me` builds one on every call.
    pub(super) fn in_user_space(&self, user_id: &str, parts: &[&str]) -> String {
        let length =
            self.prefix.len() + user_id.len() + 4 + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut key = String::with_capacity(length);
        for part in [self.prefix.as_str(), ":{", user_id, "}:"]
            .into_iter()
            .chain(parts.iter().copied())
        {
            key.push_str(part);
        }
        key
    }
    pub(super) fn user_space(&self, user_id: &str) -> String {
        self.in_user_space(user_id, &[])
    }
    pub(super) fn session(&self, sid: &SessionId) -> String {
        self.in_user_space(sid.user_id(), &["session:", sid.within_user()])
    }
    pub(super) fn index(&self, user_id: &str) -> String {
        self.in_user_space(user_id, &["sessions"])
    }
    pub(super) fn tombstone(&self, sid: &SessionId) -> String {
        self.in_user_space(sid.user_id(), &["ended:", sid.within_user()])
    }
    /// A used DPoP proof of session `sid` (by the digest of its `jti`), kept while the
    /// proof could be fresh so it is used once.
    pub(super) fn used_proof(&self, sid: &SessionId, jti_hash: &str) -> String {
        self.in_user_space(sid.user_id(), &["proof:", jti_hash])
    }
    pub(super) fn user(&self, email_key: &str) -> String {
        format!("{}:user:{email_key}", self.prefix)
    }
    pub(super) fn link(&self, email_key: &str) -> String {
        format!("{}:link:{email_key}", self.prefix)
    }
    pub(super) fn rate(&self, key: &str, window: u64) -> String {
        format!("{}:rate:{key}:{window}", self.prefix)
    }
}
