//! The primitives every other server module builds on, and nothing else: OS randomness,
//! SHA-256, hex. A leaf: it imports no other module of this crate.

use sha2::{Digest, Sha256};

/// Fills a fresh array from the OS random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS source failing is not recoverable for an auth server; abort loudly.
    getrandom::fill(&mut bytes).expect("the OS random source must be available");
    bytes
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The bytes of lower- or upper-case hex; `None` for anything else.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// A random hex id of 128 bits (user ids, JWT ids, note ids).
pub fn random_id() -> String {
    hex(&random_bytes::<16>())
}

/// SHA-256 of `data`, as hex: the only form in which secrets are stored.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = random_bytes::<32>();
        assert_eq!(from_hex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(from_hex("00FFab").unwrap(), [0, 255, 0xab]);
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
    }
}
