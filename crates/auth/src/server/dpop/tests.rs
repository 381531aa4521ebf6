//! Every proof rule, each with a proof that breaks only that rule.

use super::*;
use jsonwebtoken::{encode, EncodingKey};
use p256::{ecdsa::SigningKey, pkcs8::EncodePrivateKey};
use serde_json::{json, Value};

const NOW: Millis = 1_800_000_000_000;
const URL: &str = "https://app.example/api/v1/auth/refresh";

/// A P-256 key as the browser holds one, with its public JWK.
struct TestKey {
    encoding: EncodingKey,
    public: Value,
}

impl TestKey {
    fn new(seed: u8) -> Self {
        let signing = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let point = signing.verifying_key().to_encoded_point(false);
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        Self {
            encoding: EncodingKey::from_ec_der(signing.to_pkcs8_der().unwrap().as_bytes()),
            public: json!({
                "kty": "EC",
                "crv": "P-256",
                "x": b64(point.x().unwrap()),
                "y": b64(point.y().unwrap()),
            }),
        }
    }

    /// A proof with `claims` and `header` laid over the correct ones.
    fn sign_with(&self, header: Value, claims: Value) -> String {
        let mut full_header = json!({ "typ": PROOF_TYPE, "alg": "ES256", "jwk": self.public });
        merge(&mut full_header, header);
        let mut full_claims = json!({
            "htm": "POST",
            "htu": URL,
            "iat": NOW / 1000,
            "jti": "3f1c8c5e-proof-1",
        });
        merge(&mut full_claims, claims);
        let header: Header = serde_json::from_value(full_header.clone()).unwrap();
        let signed = encode(&header, &full_claims, &self.encoding).unwrap();
        // Re-write the header segment as given (jsonwebtoken's `Header` would drop
        // members it does not know), keeping the signature over the original: tests
        // that change the header expect a refusal anyway.
        replace_header(&signed, &full_header, &header)
    }

    fn sign(&self, claims: Value) -> String {
        self.sign_with(json!({}), claims)
    }
}

fn merge(base: &mut Value, over: Value) {
    for (key, value) in over.as_object().unwrap() {
        if value.is_null() {
            base.as_object_mut().unwrap().remove(key);
        } else {
            base[key] = value.clone();
        }
    }
}

/// The token with its header segment replaced by `raw` when `raw` says more than the
/// `Header` type keeps (so the signature then no longer matches, which is fine).
fn replace_header(token: &str, raw: &Value, parsed: &Header) -> String {
    if serde_json::to_value(parsed).unwrap() == *raw {
        return token.to_string();
    }
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(raw.to_string()))
}

fn nonces() -> NonceKey {
    NonceKey::new(b"a test secret of enough length for HMAC")
}

fn expected() -> Expected<'static> {
    Expected {
        method: "POST",
        url: URL,
        now: NOW,
    }
}

fn check(proof: &str) -> Result<Proof, ProofError> {
    check_proof(proof, expected(), &nonces())
}

#[test]
fn a_correct_proof_names_its_keys_thumbprint() {
    let key = TestKey::new(7);
    let proof = check(&key.sign(json!({}))).unwrap();
    let jwk: Jwk = serde_json::from_value(key.public.clone()).unwrap();
    assert_eq!(proof.jkt, thumbprint(&jwk));
    assert_eq!(proof.jkt.len(), 43);
    assert_eq!(proof.jti_hash, sha256_hex(b"3f1c8c5e-proof-1"));
    // Another key, another thumbprint: a proof of another key names another session.
    let other = check(&TestKey::new(8).sign(json!({}))).unwrap();
    assert_ne!(other.jkt, proof.jkt);
}

#[test]
fn the_thumbprint_is_rfc_7638s() {
    // RFC 7638 §3.1 hashes the members in lexicographic order with no whitespace; the
    // value below is SHA-256 of exactly that text, computed independently.
    let jwk: Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    }))
    .unwrap();
    let canonical = r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    let digest = <Sha256 as sha2::Digest>::digest(canonical.as_bytes());
    assert_eq!(thumbprint(&jwk), URL_SAFE_NO_PAD.encode(digest));
}

#[test]
fn the_type_must_be_dpop_jwt() {
    let key = TestKey::new(7);
    for typ in [json!("JWT"), json!("at+jwt")] {
        let proof = key.sign_with(json!({ "typ": typ }), json!({}));
        assert_eq!(check(&proof), Err(ProofError::WrongType), "{typ}");
    }
    let untyped = key.sign_with(json!({ "typ": null }), json!({}));
    assert_eq!(check(&untyped), Err(ProofError::WrongType));
}

#[test]
fn only_es256_is_accepted() {
    let key = TestKey::new(7);
    let good = key.sign(json!({}));
    let (_, rest) = good.split_once('.').unwrap();
    for alg in ["none", "HS256", "ES384", "RS256"] {
        let header = json!({ "typ": PROOF_TYPE, "alg": alg, "jwk": key.public });
        let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
        assert_eq!(check(&forged), Err(ProofError::WrongAlgorithm), "{alg}");
    }
    // `none` with an empty signature, the classic.
    let claims = rest.split_once('.').unwrap().0;
    let header = json!({ "typ": PROOF_TYPE, "alg": "none", "jwk": key.public });
    let unsigned = format!("{}.{claims}.", URL_SAFE_NO_PAD.encode(header.to_string()));
    assert_eq!(check(&unsigned), Err(ProofError::WrongAlgorithm));
}

#[test]
fn the_key_must_be_a_public_p256_key() {
    let key = TestKey::new(7);
    let missing = key.sign_with(json!({ "jwk": null }), json!({}));
    assert_eq!(check(&missing), Err(ProofError::BadKey));

    let mut private = key.public.clone();
    private["d"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let leaked = key.sign_with(json!({ "jwk": private }), json!({}));
    assert_eq!(check(&leaked), Err(ProofError::BadKey));

    let secret = json!({ "kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"shared secret") });
    let symmetric = key.sign_with(json!({ "jwk": secret }), json!({}));
    assert_eq!(check(&symmetric), Err(ProofError::BadKey));

    let mut other_curve = key.public.clone();
    other_curve["crv"] = json!("P-384");
    let p384 = key.sign_with(json!({ "jwk": other_curve }), json!({}));
    assert_eq!(check(&p384), Err(ProofError::BadKey));
}

#[test]
fn the_signature_must_be_the_named_keys() {
    let key = TestKey::new(7);
    let thief = TestKey::new(9);
    // Signed by one key, naming another: the named key's holder did not sign it.
    let signed = thief.sign(json!({}));
    let (_, rest) = signed.split_once('.').unwrap();
    let header = json!({ "typ": PROOF_TYPE, "alg": "ES256", "jwk": key.public });
    let swapped = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
    assert_eq!(check(&swapped), Err(ProofError::BadSignature));
    // Claims changed after signing.
    let good = key.sign(json!({}));
    let mut parts: Vec<&str> = good.split('.').collect();
    let claims = URL_SAFE_NO_PAD.encode(
        json!({ "htm": "POST", "htu": URL, "iat": NOW / 1000, "jti": "other" }).to_string(),
    );
    parts[1] = &claims;
    assert_eq!(check(&parts.join(".")), Err(ProofError::BadSignature));
}

#[test]
fn the_method_and_url_must_be_the_requests() {
    let key = TestKey::new(7);
    let get = key.sign(json!({ "htm": "GET" }));
    assert_eq!(check(&get), Err(ProofError::WrongMethod));
    for htu in [
        "https://app.example/api/v1/auth/logout",
        "https://evil.example/api/v1/auth/refresh",
        "http://app.example/api/v1/auth/refresh",
        "https://app.example/api/v1/auth/refresh/",
    ] {
        let proof = key.sign(json!({ "htu": htu }));
        assert_eq!(check(&proof), Err(ProofError::WrongUrl), "{htu}");
    }
    // Query and fragment are not part of the comparison (RFC 9449 §4.3).
    let with_query = key.sign(json!({ "htu": format!("{URL}?x=1#y") }));
    assert!(check(&with_query).is_ok());
}

#[test]
fn a_jti_is_required_and_bounded() {
    let key = TestKey::new(7);
    assert_eq!(
        check(&key.sign(json!({ "jti": "" }))),
        Err(ProofError::BadJti)
    );
    let long = "j".repeat(MAX_JTI_BYTES + 1);
    assert_eq!(
        check(&key.sign(json!({ "jti": long }))),
        Err(ProofError::BadJti)
    );
    assert_eq!(
        check(&key.sign(json!({ "jti": null }))),
        Err(ProofError::Malformed)
    );
}

#[test]
fn without_a_nonce_iat_must_be_near_the_servers_time() {
    let key = TestKey::new(7);
    let window = IAT_WINDOW_MS / 1000;
    for off in [0i64, window as i64, -(window as i64)] {
        let iat = (NOW / 1000) as i64 + off;
        assert!(check(&key.sign(json!({ "iat": iat }))).is_ok(), "{off}");
    }
    for off in [window as i64 + 1, -(window as i64) - 1, 600, -600] {
        let iat = (NOW / 1000) as i64 + off;
        assert_eq!(
            check(&key.sign(json!({ "iat": iat }))),
            Err(ProofError::UseNonce),
            "{off}"
        );
    }
}

#[test]
fn a_device_clock_ten_minutes_off_works_with_the_servers_nonce() {
    let key = TestKey::new(7);
    let nonce = nonces().issue(NOW);
    for off in [-600i64, 600] {
        let iat = (NOW / 1000) as i64 + off;
        let proof = key.sign(json!({ "iat": iat, "nonce": nonce }));
        assert!(check(&proof).is_ok(), "{off}");
    }
}

#[test]
fn nonces_last_one_to_two_windows_and_are_this_services() {
    let key = TestKey::new(7);
    let nonces = nonces();
    let issued_at = NOW - NOW % NONCE_WINDOW_MS;
    let nonce = nonces.issue(issued_at);
    let at = |now| {
        check_proof(
            &key.sign(json!({ "nonce": nonce, "iat": now / 1000 })),
            Expected { now, ..expected() },
            &nonces,
        )
    };
    assert!(at(issued_at).is_ok());
    assert!(at(issued_at + 2 * NONCE_WINDOW_MS - 1).is_ok());
    assert_eq!(
        at(issued_at + 2 * NONCE_WINDOW_MS),
        Err(ProofError::UseNonce)
    );
    // A nonce of another secret, or made up, is no nonce of ours.
    let foreign = NonceKey::new(b"another service's secret").issue(NOW);
    let with_foreign = key.sign(json!({ "nonce": foreign, "iat": NOW / 1000 - 600 }));
    assert_eq!(check(&with_foreign), Err(ProofError::UseNonce));
    let made_up = key.sign(json!({ "nonce": "AAAA", "iat": NOW / 1000 - 600 }));
    assert_eq!(check(&made_up), Err(ProofError::UseNonce));
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    for proof in ["", ".", "a.b.c", "e30.e30.", "not a jwt at all"] {
        assert_eq!(check(proof), Err(ProofError::Malformed), "{proof}");
    }
    let huge = "a".repeat(MAX_PROOF_BYTES + 1);
    assert_eq!(check(&huge), Err(ProofError::Malformed));
}
