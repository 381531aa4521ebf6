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

/// A random hex id of 128 bits (user ids, JWT ids, note ids).
pub fn random_id() -> String {
    hex(&random_bytes::<16>())
}

/// SHA-256 of `data`, as hex: how keys and ids are derived from a secret or an address.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0, 255, 0xab]), "00ffab");
        assert_eq!(hex(&random_bytes::<32>()).len(), 64);
    }
}
