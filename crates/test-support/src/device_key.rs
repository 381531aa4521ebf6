//! A device's P-256 key, as the browser keeps one, signing DPoP proofs (RFC 9449) the way
//! WebCrypto signs them: for the HTTP tests of bound sessions and the bench's bound
//! refresh runs.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use p256::{ecdsa::SigningKey, pkcs8::EncodePrivateKey};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// A device's P-256 key.
pub struct DeviceKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl Default for DeviceKey {
    fn default() -> Self {
        Self::new()
    }
}

impl DeviceKey {
    /// A new random key.
    pub fn new() -> Self {
        let signing = SigningKey::from_bytes(&random::<32>().into()).expect("a P-256 key");
        let point = signing.verifying_key().to_encoded_point(false);
        Self {
            encoding: EncodingKey::from_ec_der(signing.to_pkcs8_der().expect("PKCS#8").as_bytes()),
            jwk: json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(point.x().expect("an uncompressed point")),
                "y": URL_SAFE_NO_PAD.encode(point.y().expect("an uncompressed point")),
            }),
        }
    }

    /// A fresh proof for `POST htu`, with the server's `nonce` when there is one.
    pub fn proof(&self, htu: &str, nonce: Option<&str>) -> String {
        let extra = nonce.map_or_else(|| json!({}), |nonce| json!({ "nonce": nonce }));
        self.proof_with(htu, extra)
    }

    /// A fresh proof for `POST htu` with `extra` claims laid over the usual ones (`htm`,
    /// `htu`, `iat` now, a random `jti`): how tests make a proof that breaks one rule.
    pub fn proof_with(&self, htu: &str, extra: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).expect("a JWK"));
        let mut claims = json!({
            "htm": "POST",
            "htu": htu,
            "iat": SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs(),
            "jti": URL_SAFE_NO_PAD.encode(random::<16>()),
        });
        if let Some(extra) = extra.as_object() {
            for (key, value) in extra {
                claims[key] = value.clone();
            }
        }
        encode(&header, &claims, &self.encoding).expect("an ES256 signature")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes
}
