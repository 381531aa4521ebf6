//! DPoP proofs (RFC 9449) for the bound refresh runs, signed ahead of each run: wrk
//! cannot sign ES256, so it is handed a file of proofs and sends one per request. Each
//! carries the server's nonce, which keeps it fresh for the nonce's window (minutes),
//! whatever its `iat`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use p256::{ecdsa::SigningKey, pkcs8::EncodePrivateKey};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// A device's P-256 key, as the browser keeps one.
pub struct DeviceKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl DeviceKey {
    /// A new random key.
    pub fn new() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let signing = SigningKey::from_bytes(&seed.into()).unwrap();
        let point = signing.verifying_key().to_encoded_point(false);
        Self {
            encoding: EncodingKey::from_ec_der(signing.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
            }),
        }
    }

    /// A proof for `POST htu`, with the server's `nonce` when there is one.
    pub fn proof(&self, htu: &str, nonce: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).unwrap();
        let mut claims = json!({
            "htm": "POST",
            "htu": htu,
            "iat": SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs(),
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        encode(&header, &claims, &self.encoding).unwrap()
    }
}
