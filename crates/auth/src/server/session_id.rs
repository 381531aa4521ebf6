//! The session id, `<user id>-<random hex>`: the user id leads, so a refresh token
//! (`<session id>.<secret>`) names its owner's Cluster slot and keys without an index.
//! This type is the only code that builds or reads that format.

use super::crypto::random_id;
use std::fmt;

/// A well-formed session id; once one exists, its user id can be read without checks.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    raw: String,
    user_len: usize,
}

impl SessionId {
    /// A new random session id for `user_id` (a hex id).
    pub fn generate(user_id: &str) -> Self {
        Self {
            raw: format!("{user_id}-{}", random_id()),
            user_len: user_id.len(),
        }
    }

    /// Reads a presented id; `None` unless it is `<hex>-<hex>` of a sane length.
    pub fn parse(raw: &str) -> Option<Self> {
        let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        let (user, rest) = raw.split_once('-')?;
        (raw.len() <= 128 && hex(user) && hex(rest)).then(|| Self {
            raw: raw.to_string(),
            user_len: user.len(),
        })
    }

    /// The owner's user id (the session's hash tag in Redis).
    pub fn user_id(&self) -> &str {
        &self.raw[..self.user_len]
    }

    /// What tells this session apart from its user's others (the part after the user
    /// id): stores key a session under its user with it.
    pub fn within_user(&self) -> &str {
        &self.raw[self.user_len + 1..]
    }

    /// Rebuilds an id from its user and [`SessionId::within_user`]; `None` if malformed.
    pub fn from_parts(user_id: &str, within_user: &str) -> Option<Self> {
        Self::parse(&format!("{user_id}-{within_user}"))
    }

    /// The id as text (API answers, JWT `sid`, store keys).
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.raw)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_id_splits_into_user_and_the_rest_and_back() {
        let sid = super::SessionId::generate("ab12");
        assert_eq!(sid.user_id(), "ab12");
        assert_eq!(sid.within_user().len(), 32);
        let again = super::SessionId::from_parts("ab12", sid.within_user()).unwrap();
        assert_eq!(again, sid);
        assert!(super::SessionId::from_parts("ab12", "not hex").is_none());
    }

    use super::*;

    #[test]
    fn session_ids_carry_their_user() {
        let id = SessionId::parse("0a1b-ff00").unwrap();
        assert_eq!(id.user_id(), "0a1b");
        assert_eq!(id.as_str(), "0a1b-ff00");
        for bad in ["0a1b", "xyz-00", "00-", "-00", "0a-zz", ""] {
            assert!(SessionId::parse(bad).is_none(), "{bad}");
        }
        assert!(SessionId::parse(&format!("ab-{}", "0".repeat(200))).is_none());
    }

    #[test]
    fn generated_ids_parse_back_with_their_user() {
        let id = SessionId::generate("c0ffee");
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.user_id(), "c0ffee");
    }
}
