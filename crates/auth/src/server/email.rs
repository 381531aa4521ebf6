//! Email addresses that have been checked: once an [`Email`] exists it is valid and
//! normalised, and it knows the digest that keys its links and user record.

use super::crypto::sha256_hex;

/// A validated email address: normalised (trimmed, lower-case) for lookups, keys and
/// limits, and kept as typed for delivery (local parts are case-sensitive by the
/// standard, so `Real.Person@` is delivered as such).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    normalised: String,
    typed: String,
}

impl Email {
    /// Longest accepted address (RFC 5321).
    pub const MAX_LEN: usize = 254;

    /// Validates and normalises `raw`; the error says what is wrong, for the person.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let typed = raw.trim();
        let email = typed.to_lowercase();
        if email.is_empty() {
            return Err("enter your email address".into());
        }
        if email.len() > Self::MAX_LEN {
            return Err("that email address is too long".into());
        }
        let valid = email.parse::<lettre::Address>().is_ok()
            && email
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !valid {
            return Err("that does not look like an email address".into());
        }
        Ok(Self {
            normalised: email,
            typed: typed.to_string(),
        })
    }

    /// The normalised address: what identifies the person.
    pub fn as_str(&self) -> &str {
        &self.normalised
    }

    /// The address as the person typed it (trimmed): where mail goes.
    pub fn as_typed(&self) -> &str {
        &self.typed
    }

    /// Digest that keys this address in the store (the address itself is not a key).
    pub fn key(&self) -> String {
        sha256_hex(self.normalised.as_bytes())[..32].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        assert_eq!(email.as_typed(), "Ada@Example.COM");
        assert_eq!(email.key(), Email::parse("ada@example.com").unwrap().key());
    }

    #[test]
    fn bad_addresses_are_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
