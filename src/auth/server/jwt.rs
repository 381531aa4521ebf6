//! Access tokens: short-lived HS256 JWTs (`typ: at+jwt`, key id in the header).
//!
//! Validation is strict on purpose: algorithm pinned, every claim required, `typ`,
//! `kid`, `iss` and `aud` checked, `iat` not in the future, a small explicit leeway, and
//! oversized tokens rejected before any decoding.

use super::tokens::{random_id, sha256_hex};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
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

/// Signs access tokens with the current HMAC key and checks them with it or with one
/// of the previous keys, chosen by the token's `kid`: a rotated `JWT_SECRET` (or a
/// rolling deploy with mixed secrets) leaves the tokens in flight valid.
pub struct JwtKeys {
    encoding: EncodingKey,
    kid: String,
    /// The current key first, then the previous ones, each with its key id.
    verifying: Vec<(String, DecodingKey)>,
    /// The claim rules, built once (a protected call checks a token every time).
    validation: Validation,
    ttl: Duration,
}

/// The claim rules every access token must meet (the time rules are checked against
/// the service's clock in [`JwtKeys::verify`]).
fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    // Expiry is checked in `verify` against `now_secs` (time is a parameter).
    validation.validate_exp = false;
    validation.validate_nbf = true;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation
}

/// The key id of a secret: derived from it, so a new secret gets a new `kid` and servers
/// sharing a secret agree on it without being told.
fn key_id(secret: &[u8]) -> String {
    sha256_hex(secret)[..16].to_string()
}

impl JwtKeys {
    /// Keys that sign with `secret` and also accept tokens of `previous` secrets; tokens
    /// live `ttl`.
    pub fn new(secret: &[u8], previous: &[Vec<u8>], ttl: Duration) -> Self {
        let verifying = std::iter::once(secret)
            .chain(previous.iter().map(Vec::as_slice))
            .map(|secret| (key_id(secret), DecodingKey::from_secret(secret)))
            .collect();
        Self {
            encoding: EncodingKey::from_secret(secret),
            kid: key_id(secret),
            verifying,
            validation: validation(),
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
        let decoding = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifying.iter().find(|(known, _)| known == kid))
            .map(|(_, key)| key)
            .ok_or_else(|| JwtError::Header("kid".into()))?;
        let data = decode::<AccessClaims>(token, decoding, &self.validation)
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

    const SECRET: &[u8] = b"Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeU";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, &[], Duration::from_secs(1800))
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
            &[],
            Duration::from_secs(60),
        );
        assert!(other.verify(&token, now()).is_err());
    }

    #[test]
    fn previous_secrets_still_verify_and_only_the_current_one_signs() {
        let (old_token, _) = keys().issue("u1", "u1-s1", now() * 1000);
        let rotated = JwtKeys::new(
            b"the-next-secret-the-next-secret-00",
            &[SECRET.to_vec()],
            Duration::from_secs(60),
        );
        assert!(rotated.verify(&old_token, now()).is_ok());
        let (new_token, _) = rotated.issue("u1", "u1-s1", now() * 1000);
        assert!(keys().verify(&new_token, now()).is_err());
        let retired = JwtKeys::new(
            b"the-next-secret-the-next-secret-00",
            &[],
            Duration::from_secs(60),
        );
        assert!(retired.verify(&old_token, now()).is_err());
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(keys().verify(&big, now()), Err(JwtError::TooLarge));
    }
}
