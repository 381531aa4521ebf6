//! Email addresses that have been checked: once an [`Email`] exists it is valid and
//! normalised, and it knows the digest that keys its links and user record.

use super::tokens::sha256_hex;

/// A normalised (trimmed, lower-case) and validated email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest accepted address (RFC 5321).
    pub const MAX_LEN: usize = 254;

    /// Validates and normalises `raw`; the error says what is wrong, for the person.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
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
        Ok(Self(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digest that keys this address in the store (the address itself is not a key).
    pub fn key(&self) -> String {
        sha256_hex(self.0.as_bytes())[..32].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
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
