//! DPoP proofs (RFC 9449): how a browser shows it holds the key its session is bound to.
//!
//! A proof is a small JWT the browser signs with a non-extractable P-256 key for one
//! request: header `typ: dpop+jwt`, `alg: ES256` and the public key as `jwk`; claims
//! `htm` and `htu` (the request's method and URL), `iat`, a unique `jti` and, when the
//! server asked for one, its `nonce`. [`check_proof`] verifies all of it with
//! `jsonwebtoken` and answers the key's RFC 7638 thumbprint (`jkt`), which the session
//! stores at sign-in and compares on every refresh and sign-out. Single use of the `jti`
//! is the caller's part (it needs the store, in the same round trip as the rotation).
//!
//! Freshness without trusting the device's clock: a proof is fresh when it carries a
//! nonce this service issued in the last [`NONCE_WINDOW_MS`] to twice that
//! ([`NonceKey`]: stateless, an HMAC of the time window, so every instance sharing
//! `JWT_SECRET` agrees), or, without one, when its `iat` is within [`IAT_WINDOW_MS`] of
//! the server's time. Anything else is [`ProofError::UseNonce`]: the answer carries a
//! fresh `DPoP-Nonce` and the client signs again once (§8).

use super::crypto::sha256_hex;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash},
    Algorithm, DecodingKey, Header, Validation,
};
use serde::Deserialize;
use sha2::Sha256;
use std::sync::Mutex;

/// The request header that carries a proof.
pub const DPOP_HEADER: &str = "DPoP";
/// The answer header that carries the nonce for the next proof.
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";
/// The `typ` every proof must declare.
pub const PROOF_TYPE: &str = "dpop+jwt";
/// Longest proof looked at (a P-256 proof is about 600 bytes).
pub const MAX_PROOF_BYTES: usize = 4 * 1024;
/// Longest `jti` accepted (it is stored until the proof could no longer be fresh).
pub const MAX_JTI_BYTES: usize = 128;
/// How far a nonce-less proof's `iat` may be from the server's time.
pub const IAT_WINDOW_MS: u64 = 60_000;
/// Nonces are issued per window of this length and accepted in it and the next.
pub const NONCE_WINDOW_MS: u64 = 5 * 60_000;
/// How long a proof can be fresh at most: how long its `jti` must be remembered.
pub const PROOF_LIFETIME_MS: u64 = 2 * NONCE_WINDOW_MS;

type Millis = u64;

/// Why a proof was refused. Each variant is a rule of RFC 9449 §4.3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a JWT, too long, or its header or claims unreadable.
    #[error("the proof is not a readable JWT")]
    Malformed,
    /// `typ` is not `dpop+jwt`.
    #[error("the proof's typ is not dpop+jwt")]
    WrongType,
    /// `alg` is not ES256 (no `none`, no HMAC, no other curve).
    #[error("the proof's alg is not ES256")]
    WrongAlgorithm,
    /// `jwk` missing, not a public P-256 key, or carrying private members.
    #[error("the proof's jwk is not a public P-256 key")]
    BadKey,
    /// The signature does not verify with the proof's own key.
    #[error("the proof's signature does not verify")]
    BadSignature,
    /// `htm` is not the request's method.
    #[error("the proof is for another method")]
    WrongMethod,
    /// `htu` is not the request's URL.
    #[error("the proof is for another URL")]
    WrongUrl,
    /// `jti` missing, empty or too long.
    #[error("the proof's jti is missing or too long")]
    BadJti,
    /// Neither a current nonce nor an `iat` near the server's time: sign again with the
    /// nonce of the answer.
    #[error("the proof needs a current nonce")]
    UseNonce,
}

/// What a verified proof tells: whose key signed it, and its id for single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the signing key, base64url.
    pub jkt: String,
    /// Digest of the proof's `jti` (what the store remembers to refuse a replay).
    pub jti_hash: String,
}

/// The request a proof must have been made for.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method, e.g. `POST`.
    pub method: &'a str,
    /// The request's URL as the browser sees it: `PUBLIC_URL` and the path, never the
    /// `Host` header (which a client chooses).
    pub url: &'a str,
    /// The server's time.
    pub now: Millis,
}

#[derive(Deserialize)]
struct ProofClaims {
    htm: String,
    htu: String,
    iat: u64,
    jti: String,
    #[serde(default)]
    nonce: Option<String>,
}

/// Members of a JWK that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// Verifies `proof` for the `expected` request with `nonces`; see the module docs.
pub fn check_proof(
    proof: &str,
    expected: Expected<'_>,
    nonces: &NonceKey,
) -> Result<Proof, ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::Malformed);
    }
    let header = read_header(proof)?;
    if header.typ.as_deref() != Some(PROOF_TYPE) {
        return Err(ProofError::WrongType);
    }
    if header.alg != Algorithm::ES256 {
        return Err(ProofError::WrongAlgorithm);
    }
    let jwk = header.jwk.as_ref().ok_or(ProofError::BadKey)?;
    let is_p256 = matches!(
        &jwk.algorithm,
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256
    );
    if !is_p256 {
        return Err(ProofError::BadKey);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| ProofError::BadKey)?;
    let claims = verify_signature(proof, &key)?;
    if claims.htm != expected.method {
        return Err(ProofError::WrongMethod);
    }
    let htu = claims.htu.split(['?', '#']).next().unwrap_or_default();
    if htu != expected.url {
        return Err(ProofError::WrongUrl);
    }
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
        return Err(ProofError::BadJti);
    }
    let fresh = match claims.nonce.as_deref() {
        Some(nonce) => nonces.accepts(nonce, expected.now),
        None => claims.iat.saturating_mul(1000).abs_diff(expected.now) <= IAT_WINDOW_MS,
    };
    if !fresh {
        return Err(ProofError::UseNonce);
    }
    Ok(Proof {
        jkt: thumbprint(jwk),
        jti_hash: sha256_hex(claims.jti.as_bytes()),
    })
}

/// The key's RFC 7638 SHA-256 thumbprint, base64url: what a bound session stores.
pub fn thumbprint(jwk: &Jwk) -> String {
    jwk.thumbprint(ThumbprintHash::SHA256)
}

/// The proof's header, refusing a `jwk` with private members (which `Jwk` would drop
/// silently when deserialising).
fn read_header(proof: &str) -> Result<Header, ProofError> {
    let segment = proof.split('.').next().ok_or(ProofError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| ProofError::Malformed)?;
    let raw: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)?;
    if let Some(jwk) = raw.get("jwk").and_then(serde_json::Value::as_object) {
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(ProofError::BadKey);
        }
    }
    match serde_json::from_value::<Header>(raw) {
        Ok(header) => Ok(header),
        // An algorithm jsonwebtoken does not know (`none`, say) is still an algorithm.
        Err(_) if alg_is_unknown(&bytes) => Err(ProofError::WrongAlgorithm),
        Err(_) => Err(ProofError::Malformed),
    }
}

/// True when the header names an `alg` that `jsonwebtoken` has no variant for.
fn alg_is_unknown(header: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct AlgOnly {
        alg: String,
    }
    serde_json::from_slice::<AlgOnly>(header)
        .ok()
        .is_some_and(|h| serde_json::from_value::<Algorithm>(h.alg.into()).is_err())
}

/// Checks the ES256 signature with the proof's own key and reads the claims; `exp` is
/// not a proof claim (freshness is the nonce's or `iat`'s).
fn verify_signature(proof: &str, key: &DecodingKey) -> Result<ProofClaims, ProofError> {
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<ProofClaims>(proof, key, &validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature
            | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat => ProofError::BadSignature,
            _ => ProofError::Malformed,
        })
}

/// Issues and checks the server's DPoP nonces: an HMAC of the time window under a key
/// derived from `JWT_SECRET`, so nothing is stored and every instance agrees.
///
/// The current window's nonce is computed once and kept: every verify and refresh hands
/// it out, and most proofs carry it.
pub struct NonceKey {
    mac: Hmac<Sha256>,
    current: Mutex<Option<(u64, String)>>,
}

/// Bytes of the tag a nonce carries (128 bits).
const NONCE_TAG_BYTES: usize = 16;

impl NonceKey {
    /// A nonce key derived from the service's signing secret.
    pub fn new(secret: &[u8]) -> Self {
        let mut derive =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        derive.update(b"stay-signed-in dpop-nonce v1");
        let key = derive.finalize().into_bytes();
        Self {
            mac: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length"),
            current: Mutex::new(None),
        }
    }

    /// The nonce to hand out at `now`.
    pub fn issue(&self, now: Millis) -> String {
        let window = now / NONCE_WINDOW_MS;
        // A poisoned lock only means a panic elsewhere mid-update: recompute.
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match &*current {
            Some((kept, nonce)) if *kept == window => nonce.clone(),
            _ => {
                let nonce = self.nonce_of(window);
                *current = Some((window, nonce.clone()));
                nonce
            }
        }
    }

    /// Whether `nonce` was issued in the current or the previous window.
    pub fn accepts(&self, nonce: &str, now: Millis) -> bool {
        use subtle::ConstantTimeEq;
        let window = now / NONCE_WINDOW_MS;
        let same = |issued: String| bool::from(issued.as_bytes().ct_eq(nonce.as_bytes()));
        same(self.issue(now)) || (window > 0 && same(self.nonce_of(window - 1)))
    }

    fn nonce_of(&self, window: u64) -> String {
        let mut mac = self.mac.clone();
        mac.update(&window.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        let mut raw = [0u8; 8 + NONCE_TAG_BYTES];
        raw[..8].copy_from_slice(&window.to_be_bytes());
        raw[8..].copy_from_slice(&tag[..NONCE_TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }
}

#[cfg(test)]
mod tests;
