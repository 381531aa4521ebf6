//! Opaque secrets (refresh tokens, magic-link tokens): their formats, their digests for
//! storage, and sealing the successor pair. The primitives underneath are in
//! [`super::crypto`].
//!
//! Token types are newtypes with a redacted `Debug` and no `Serialize`: they leave the
//! server only inside a [`crate::TokenPair`] or an email.

use super::{crypto::random_bytes, session_id::SessionId};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit},
    ChaCha20Poly1305, Key, Nonce,
};
use sha2::{Digest, Sha256};

/// Bytes of OS randomness in every secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// The SHA-256 digest of a token's secret: the only form in which a token is stored or
/// compared. Each store encodes it once, its own way (raw bytes in Redis' session
/// hashes, hex in its link records). Equality is constant-time.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The digest of `secret`.
    pub fn of(secret: &[u8]) -> Self {
        Self(Sha256::digest(secret).into())
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A digest read back from storage; `None` unless it is 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for TokenHash {}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({}…)", super::crypto::hex(&self.0[..4]))
    }
}

fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<SECRET_BYTES>())
}

/// Splits `<id>.<secret>`, checking the secret looks like one of ours.
fn split_token(raw: &str) -> Option<(&str, &str)> {
    let (id, secret) = raw.trim().split_once('.')?;
    let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
    (decoded.len() == SECRET_BYTES && !id.is_empty() && id.len() <= 128).then_some((id, secret))
}

/// The refresh token: `<session id>.<secret>`. Lookup is one key (the session); the
/// store keeps only [`RefreshToken::hash`].
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    sid: SessionId,
    secret: String,
}

impl RefreshToken {
    /// A new token for session `sid`.
    pub fn generate(sid: &SessionId) -> Self {
        Self {
            sid: sid.clone(),
            secret: new_secret(),
        }
    }

    /// Reads a presented token; `None` when it cannot be one of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let (sid, secret) = split_token(raw)?;
        Some(Self {
            sid: SessionId::parse(sid)?,
            secret: secret.to_string(),
        })
    }

    /// The session this token belongs to.
    pub fn session_id(&self) -> &SessionId {
        &self.sid
    }

    /// What the store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.secret.as_bytes())
    }

    /// The string handed to the client.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.sid, self.secret)
    }

    /// Seals `successor` (a token of the same session) so that only a holder of this
    /// token can open it: the store keeps the successor for replays of this token
    /// without ever holding a usable token. Raw bytes, 60 of them (nonce, the successor's
    /// 32-byte secret, tag): small enough for Redis to keep the session hash compact.
    pub fn seal_successor(&self, successor: &RefreshToken) -> Vec<u8> {
        let secret = URL_SAFE_NO_PAD
            .decode(&successor.secret)
            .expect("a token's secret is the base64url it was made from");
        let nonce = random_bytes::<12>();
        let mut out = nonce.to_vec();
        // Encryption with a fresh key and nonce cannot fail for in-memory data.
        out.extend(
            self.cipher()
                .encrypt(Nonce::from_slice(&nonce), secret.as_slice())
                .expect("in-memory AEAD encryption"),
        );
        out
    }

    /// Opens what [`RefreshToken::seal_successor`] produced with the same token.
    pub fn open_successor(&self, sealed: &[u8]) -> Option<RefreshToken> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let secret = self
            .cipher()
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .ok()?;
        (secret.len() == SECRET_BYTES).then(|| RefreshToken {
            sid: self.sid.clone(),
            secret: URL_SAFE_NO_PAD.encode(secret),
        })
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        let key = Sha256::new()
            .chain_update(b"stay-signed-in successor v1\0")
            .chain_update(self.secret.as_bytes())
            .finalize();
        ChaCha20Poly1305::new(Key::from_slice(&key))
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefreshToken({}.[redacted])", self.sid)
    }
}

/// The magic-link token: `<email key>.<secret>`. One live link per email (the key), so
/// a newer link replaces older ones; the store keeps only the secret's hash.
#[derive(Clone, PartialEq, Eq)]
pub struct MagicLinkToken {
    email_key: String,
    secret: String,
}

impl MagicLinkToken {
    /// A new link token for the email with key `email_key`.
    pub fn generate(email_key: &str) -> Self {
        Self {
            email_key: email_key.to_string(),
            secret: new_secret(),
        }
    }

    /// Reads a presented token; `None` when it cannot be one of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let (email_key, secret) = split_token(raw)?;
        if !email_key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self {
            email_key: email_key.to_string(),
            secret: secret.to_string(),
        })
    }

    /// The store key part (digest of the email).
    pub fn email_key(&self) -> &str {
        &self.email_key
    }

    /// What the store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.secret.as_bytes())
    }

    /// The string put into the link.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.email_key, self.secret)
    }
}

impl std::fmt::Debug for MagicLinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MagicLinkToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_hide_their_secret() {
        let sid = SessionId::parse("ab12-cd34").unwrap();
        let token = RefreshToken::generate(&sid);
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.session_id(), &sid);
        assert!(!format!("{token:?}").contains(&token.secret));
        assert_ne!(token.hash(), RefreshToken::generate(&sid).hash());
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for raw in [
            "",
            ".",
            "ab12-cd34",
            "ab12-cd34.short",
            "nohex.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        ] {
            assert!(RefreshToken::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn only_the_same_token_opens_a_seal() {
        let sid = SessionId::parse("ab-cd").unwrap();
        let token = RefreshToken::generate(&sid);
        let successor = RefreshToken::generate(&sid);
        let sealed = token.seal_successor(&successor);
        assert!(sealed.len() <= 64, "{} bytes", sealed.len());
        assert_eq!(token.open_successor(&sealed).unwrap(), successor);
        assert!(RefreshToken::generate(&sid)
            .open_successor(&sealed)
            .is_none());
        assert!(token.open_successor(b"garbage").is_none());
    }

    #[test]
    fn magic_tokens_round_trip() {
        let token = MagicLinkToken::generate("00ff");
        assert_eq!(MagicLinkToken::parse(&token.expose()).unwrap(), token);
        assert!(MagicLinkToken::parse("zz.abc").is_none());
    }
}
