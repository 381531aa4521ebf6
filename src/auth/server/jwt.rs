//! Access tokens: short-lived HS256 JWTs (`typ: at+jwt`, key id in the header).
//!
//! Validation is strict on purpose: algorithm pinned, every claim required, `typ`,
//! `kid`, `iss` and `aud` checked, `iat` not in the future, a small explicit leeway, and
//! oversized tokens rejected before any decoding.

use super::tokens::{random_id, sha256_hex};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The JWT `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// `iss` and `aud` of our tokens.
pub const ISSUER: &str = "stay-signed-in";
/// Audience: the API.
pub const AUDIENCE: &str = "stay-signed-in/api";
/// Clock tolerance between servers, in seconds.
pub const LEEWAY_SECS: u64 = 5;
/// Longest `Authorization` header (and token) looked at.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims of an access token. Every field is required when decoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer, [`ISSUER`].
    pub iss: String,
    /// Audience, [`AUDIENCE`].
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Session id: checked against the store on every protected call.
    pub sid: String,
    /// Issued at (seconds).
    pub iat: u64,
    /// Expires at (seconds).
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
}

/// Why an access token was refused (all map to 401 `unauthorized`; kept for the log).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Longer than [`MAX_TOKEN_BYTES`].
    #[error("token too large")]
    TooLarge,
    /// Header unreadable, wrong `alg`, `typ` or `kid`.
    #[error("bad header: {0}")]
    Header(String),
    /// Signature, claims or expiry check failed.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// `iat` lies in the future.
    #[error("issued in the future")]
    FromTheFuture,
}

/// Signs and checks access tokens with one HMAC key.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys for `secret`; tokens live `ttl`. The key id is derived from the secret, so a
    /// new secret gets a new `kid`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            kid: sha256_hex(secret)[..16].to_string(),
            ttl,
        }
    }

    /// A new token for `user_id` in session `sid`, issued at `now_ms` (Unix ms). JWT
    /// times are whole seconds: `exp` rounds up, so the token lives at least its whole
    /// lifetime and the `expires_in` derived from it is the configured one.
    pub fn issue(&self, user_id: &str, sid: &str, now_ms: u64) -> (String, AccessClaims) {
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            sid: sid.into(),
            iat: now_ms / 1000,
            exp: (now_ms + self.ttl.as_millis() as u64).div_ceil(1000),
            jti: random_id(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(self.kid.clone());
        // HS256 signing of serialisable claims cannot fail.
        let token = encode(&header, &claims, &self.encoding).expect("HS256 signing");
        (token, claims)
    }

    /// Checks a presented token at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<AccessClaims, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::TooLarge);
        }
        let header = decode_header(token).map_err(|e| JwtError::Header(e.to_string()))?;
        if header.alg != Algorithm::HS256 {
            return Err(JwtError::Header("algorithm".into()));
        }
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(JwtError::Header("typ".into()));
        }
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(JwtError::Header("kid".into()));
        }
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        // Expiry is checked below against `now_secs` (time is a parameter).
        validation.validate_exp = false;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.iat > now_secs + LEEWAY_SECS {
            return Err(JwtError::FromTheFuture);
        }
        if claims.exp + LEEWAY_SECS <= now_secs {
            return Err(JwtError::Invalid("expired".into()));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(1800))
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let (token, claims) = keys.issue("u1", "u1-s1", now() * 1000);
        assert_eq!(keys.verify(&token, now()).unwrap(), claims);
    }

    #[test]
    fn a_token_lives_at_least_its_whole_lifetime() {
        let (_, claims) = keys().issue("u1", "u1-s1", 1_000_000_001);
        assert_eq!(claims.iat, 1_000_000);
        assert_eq!(claims.exp, 1_001_801);
    }

    #[test]
    fn expiry_uses_the_given_clock() {
        let keys = keys();
        let issued = now() - 3600;
        let (token, _) = keys.issue("u1", "u1-s1", issued * 1000);
        assert!(keys.verify(&token, now()).is_err());
    }

    #[test]
    fn future_tokens_are_refused() {
        let keys = keys();
        let (token, _) = keys.issue("u1", "u1-s1", (now() + 600) * 1000);
        assert_eq!(keys.verify(&token, now()), Err(JwtError::FromTheFuture));
    }

    #[test]
    fn another_secret_does_not_verify() {
        let (token, _) = keys().issue("u1", "u1-s1", now() * 1000);
        let other = JwtKeys::new(
            b"another-secret-another-secret-another",
            Duration::from_secs(60),
        );
        assert!(other.verify(&token, now()).is_err());
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(keys().verify(&big, now()), Err(JwtError::TooLarge));
    }
}
