//! Access tokens: short-lived HS256 JWTs (`typ: at+jwt`, key id in the header).
//!
//! Validation is strict on purpose: a token's header must be exactly the one this
//! server writes for one of its keys (so `alg`, `typ` and `kid` are pinned, and no
//! algorithm can be swapped in), every claim is required, `iss` and `aud` are checked,
//! `iat` may not lie in the future, the leeway is small and explicit, and oversized
//! tokens are refused before any decoding.
//!
//! The cryptography is `jsonwebtoken`'s (`crypto::sign` and `crypto::verify`, HS256 on
//! aws-lc); the framing around it is ours, because every protected call checks a token
//! and every refresh signs one: each key's header segment is written once and compared
//! whole instead of parsed, and the claims are parsed once. `jsonwebtoken::decode` parsed
//! the header twice and the claims twice (see ARCHITECTURE, "Access tokens"). The tests
//! check our tokens against `jsonwebtoken::encode` and `decode`, byte for byte.

use super::crypto::{random_id, sha256_hex};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{crypto, Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The JWT `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The default `iss` of access tokens (`AuthConfig::issuer`).
pub const ISSUER: &str = "stay-signed-in";
/// The default `aud` of access tokens, the API (`AuthConfig::audience`).
pub const AUDIENCE: &str = "stay-signed-in/api";
/// Clock tolerance between servers, in seconds.
pub const LEEWAY_SECS: u64 = 5;
/// Longest `Authorization` header (and token) looked at.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims of an access token. Every field is required when decoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer, `AuthConfig::issuer`.
    pub iss: String,
    /// Audience, `AuthConfig::audience`.
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
    /// Not before (seconds): never set on our tokens, honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Why an access token was refused (all map to 401 `unauthorized`; kept for the log).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Longer than [`MAX_TOKEN_BYTES`].
    #[error("token too large")]
    TooLarge,
    /// Not three parts, or a header other than ours: wrong `alg`, `typ` or `kid`.
    #[error("bad header: {0}")]
    Header(String),
    /// Signature, claims or expiry check failed.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// `iat` lies in the future.
    #[error("issued in the future")]
    FromTheFuture,
}

/// One key: the exact header segment its tokens carry, and its secret as `jsonwebtoken`
/// signs and checks with it.
struct Key {
    header: String,
    signing: EncodingKey,
    checking: DecodingKey,
}

/// Signs access tokens with the current HMAC key and checks them with it or with one
/// of the previous keys, chosen by the token's `kid`: a rotated `JWT_SECRET` (or a
/// rolling deploy with mixed secrets) leaves the tokens in flight valid.
pub struct JwtKeys {
    /// The current key (the one that signs) first, then the previous ones.
    keys: Vec<Key>,
    ttl: Duration,
    issuer: String,
    audience: String,
}

/// The key id of a secret: derived from it, so a new secret gets a new `kid` and servers
/// sharing a secret agree on it without being told.
fn key_id(secret: &[u8]) -> String {
    sha256_hex(secret)[..16].to_string()
}

/// The header segment of every access token signed with the key `kid`: base64url of
/// its JSON, written as `jsonwebtoken` writes it (the order of its fields), so tokens of
/// earlier builds that signed with it still match.
fn header_segment(kid: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        r#"{{"typ":"{ACCESS_TOKEN_TYPE}","alg":"HS256","kid":"{kid}"}}"#
    ))
}

impl Key {
    fn new(secret: &[u8]) -> Self {
        Self {
            header: header_segment(&key_id(secret)),
            signing: EncodingKey::from_secret(secret),
            checking: DecodingKey::from_secret(secret),
        }
    }
}

impl JwtKeys {
    /// Keys that sign with `secret` and also accept tokens of `previous` secrets; tokens
    /// live `ttl`.
    pub fn new(secret: &[u8], previous: &[Vec<u8>], ttl: Duration) -> Self {
        let keys = std::iter::once(secret)
            .chain(previous.iter().map(Vec::as_slice))
            .map(Key::new)
            .collect();
        Self {
            keys,
            ttl,
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
        }
    }

    /// The same keys, issuing and accepting only tokens of `issuer` for `audience`
    /// (two apps sharing a secret still do not take each other's tokens).
    pub fn named(self, issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ..self
        }
    }

    /// A new token for `user_id` in session `sid`, issued at `now_ms` (Unix ms). JWT
    /// times are whole seconds: `exp` rounds up, so the token lives at least its whole
    /// lifetime and the `expires_in` derived from it is the configured one.
    pub fn issue(&self, user_id: &str, sid: &str, now_ms: u64) -> (String, AccessClaims) {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.into(),
            sid: sid.into(),
            iat: now_ms / 1000,
            exp: (now_ms + self.ttl.as_millis() as u64).div_ceil(1000),
            jti: random_id(),
            nbf: None,
        };
        let key = &self.keys[0];
        let payload = serde_json::to_vec(&claims).expect("claims of strings and numbers serialise");
        let mut token = String::with_capacity(key.header.len() + 2 * payload.len() + 48);
        token.push_str(&key.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = crypto::sign(token.as_bytes(), &key.signing, Algorithm::HS256)
            .expect("HS256 signs with a secret of any length");
        token.push('.');
        token.push_str(&signature);
        (token, claims)
    }

    /// Checks a presented token at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<AccessClaims, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::TooLarge);
        }
        let invalid = |what: &str| JwtError::Invalid(what.into());
        let (signed, signature) = token
            .rsplit_once('.')
            .ok_or_else(|| JwtError::Header("not a JWT".into()))?;
        let (header, payload) = signed
            .split_once('.')
            .ok_or_else(|| JwtError::Header("not a JWT".into()))?;
        let key = self
            .keys
            .iter()
            .find(|key| key.header == header)
            .ok_or_else(|| JwtError::Header("not ours: alg, typ or kid".into()))?;
        // Constant-time comparison.
        let genuine = crypto::verify(
            signature,
            signed.as_bytes(),
            &key.checking,
            Algorithm::HS256,
        )
        .map_err(|_| invalid("signature encoding"))?;
        if !genuine {
            return Err(invalid("signature"));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid("payload encoding"))?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| invalid("claims"))?;
        if claims.iss != self.issuer || claims.aud != self.audience {
            return Err(invalid("issuer or audience"));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now_secs.saturating_add(LEEWAY_SECS))
        {
            return Err(invalid("not yet valid"));
        }
        if claims.iat > now_secs.saturating_add(LEEWAY_SECS) {
            return Err(JwtError::FromTheFuture);
        }
        if claims.exp.saturating_add(LEEWAY_SECS) <= now_secs {
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
    fn the_leeway_is_exactly_leeway_secs_on_both_edges() {
        let keys = keys();
        let (token, claims) = keys.issue("u1", "u1-s1", 1_000_000_000);
        let expired = Err(JwtError::Invalid("expired".into()));
        // Expiry: honoured until LEEWAY_SECS after `exp`, not a second longer.
        assert!(keys.verify(&token, claims.exp).is_ok());
        assert!(keys.verify(&token, claims.exp + LEEWAY_SECS - 1).is_ok());
        assert_eq!(keys.verify(&token, claims.exp + LEEWAY_SECS), expired);
        // Issue time: a clock up to LEEWAY_SECS behind the signer's is fine, not more.
        assert!(keys.verify(&token, claims.iat - LEEWAY_SECS).is_ok());
        assert_eq!(
            keys.verify(&token, claims.iat - LEEWAY_SECS - 1),
            Err(JwtError::FromTheFuture)
        );
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
    fn malformed_tokens_are_refused_without_panicking() {
        let keys = keys();
        let (token, _) = keys.issue("u1", "u1-s1", now() * 1000);
        let (header, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        for bad in [
            String::new(),
            ".".into(),
            "..".into(),
            "a.b.c".into(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.{signature}"),
            format!("{header}.{payload}.*{signature}"),
            format!("{header}.%%%.{signature}"),
        ] {
            assert!(keys.verify(&bad, now()).is_err(), "{bad}");
        }
        assert!(keys.verify(&token, now()).is_ok());
    }

    #[test]
    fn only_our_exact_header_is_accepted_even_when_correctly_signed() {
        let keys = keys();
        let (token, _) = keys.issue("u1", "u1-s1", now() * 1000);
        let payload = token.split('.').nth(1).unwrap();
        let sign = |header: String| {
            use hmac::{Hmac, Mac};
            use sha2::Sha256;
            let header = URL_SAFE_NO_PAD.encode(header);
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
            mac.update(format!("{header}.{payload}").as_bytes());
            let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            format!("{header}.{payload}.{signature}")
        };
        let kid = key_id(SECRET);
        let ours = format!(r#"{{"typ":"at+jwt","alg":"HS256","kid":"{kid}"}}"#);
        assert_eq!(sign(ours).as_str(), token, "the test signs like the server");
        for header in [
            format!(r#"{{"typ":"at+jwt", "alg":"HS256","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{kid}"}}"#),
            format!(r#"{{"typ":"at+jwt","alg":"HS384","kid":"{kid}"}}"#),
            format!(r#"{{"typ":"JWT","alg":"HS256","kid":"{kid}"}}"#),
            r#"{"typ":"at+jwt","alg":"HS256"}"#.to_string(),
        ] {
            assert!(
                matches!(
                    keys.verify(&sign(header.clone()), now()),
                    Err(JwtError::Header(_))
                ),
                "{header}"
            );
        }
    }

    #[test]
    fn tokens_are_signed_byte_for_byte_as_jsonwebtoken_signs_them() {
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let (token, claims) = keys().issue("u1", "u1-s1", now() * 1000);
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(key_id(SECRET));
        let theirs =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
        assert_eq!(token, theirs);
    }

    #[test]
    fn jsonwebtoken_accepts_our_tokens() {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation};
        let (token, claims) = keys().issue("u1", "u1-s1", now() * 1000);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        let decoded = jsonwebtoken::decode::<AccessClaims>(
            &token,
            &DecodingKey::from_secret(SECRET),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.header.typ.as_deref(), Some(ACCESS_TOKEN_TYPE));
    }

    #[test]
    fn tokens_of_another_issuer_or_audience_are_refused_even_with_the_same_key() {
        let ours = keys().named("notes-app", "notes-app/api");
        let (token, claims) = ours.issue("u1", "u1-s1", now() * 1000);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("notes-app", "notes-app/api")
        );
        assert!(ours.verify(&token, now()).is_ok());
        for theirs in [
            keys(),
            keys().named("notes-app", "other/api"),
            keys().named("other", "notes-app/api"),
        ] {
            assert_eq!(
                theirs.verify(&token, now()),
                Err(JwtError::Invalid("issuer or audience".into()))
            );
        }
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(keys().verify(&big, now()), Err(JwtError::TooLarge));
    }
}
