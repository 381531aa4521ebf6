//! Request ids for the access log: unique per process run, and cheap. A UUID v4 costs a
//! `getrandom` system call per request; these are a random prefix drawn once at start
//! and a counter (`3f9c0a1e-1b`), which tells requests apart just as well. They are
//! written into a stack buffer, not through `format!`: this runs on every request.

use axum::http::{HeaderValue, Request};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tower_http::request_id::{MakeRequestId, RequestId};

/// Hex digits of the random prefix.
const PREFIX_LEN: usize = 8;
/// The longest id: the prefix, `-` and a `u64` in hex.
const MAX_LEN: usize = PREFIX_LEN + 1 + 16;

/// Makes `<random prefix>-<counter in hex>` ids; clones share the counter.
#[derive(Clone)]
pub struct SequentialRequestId {
    prefix: [u8; PREFIX_LEN],
    next: Arc<AtomicU64>,
}

impl SequentialRequestId {
    /// A generator with a fresh random prefix (so restarts do not repeat ids).
    pub fn new() -> Self {
        let random = crate::auth::server::random_id();
        let mut prefix = [0; PREFIX_LEN];
        prefix.copy_from_slice(&random.as_bytes()[..PREFIX_LEN]);
        Self {
            prefix,
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Default for SequentialRequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0; MAX_LEN];
        id[..PREFIX_LEN].copy_from_slice(&self.prefix);
        id[PREFIX_LEN] = b'-';
        let len = PREFIX_LEN + 1 + write_hex(n, &mut id[PREFIX_LEN + 1..]);
        HeaderValue::from_bytes(&id[..len]).ok().map(RequestId::new)
    }
}

/// Writes `n` in lowercase hex without leading zeros (`0` for zero) at the start of
/// `out`, which holds 16 bytes or more; returns how many bytes it wrote.
fn write_hex(n: u64, out: &mut [u8]) -> usize {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let len = (16 - n.leading_zeros() as usize / 4).max(1);
    for (i, byte) in out[..len].iter_mut().enumerate() {
        let shift = 4 * (len - 1 - i);
        *byte = DIGITS[((n >> shift) & 0xf) as usize];
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_share_one_counter_across_clones() {
        let mut first = SequentialRequestId::new();
        let mut second = first.clone();
        let request = Request::new(());
        let a = first.make_request_id(&request).unwrap();
        let b = second.make_request_id(&request).unwrap();
        assert_ne!(a.header_value(), b.header_value());
        assert!(a.header_value().to_str().unwrap().ends_with("-0"));
        assert!(b.header_value().to_str().unwrap().ends_with("-1"));
    }

    #[test]
    fn counters_are_written_in_hex_like_format_does() {
        for n in [0, 1, 0xf, 0x10, 0x1b, 0xabc, 0x1234_5678_9abc, u64::MAX] {
            let mut out = [0; 16];
            let len = write_hex(n, &mut out);
            assert_eq!(std::str::from_utf8(&out[..len]).unwrap(), format!("{n:x}"));
        }
    }

    #[test]
    fn an_id_is_the_prefix_a_dash_and_the_counter() {
        let mut ids = SequentialRequestId::new();
        ids.next.store(0x1b, Ordering::Relaxed);
        let id = ids.make_request_id(&Request::new(())).unwrap();
        let text = id.header_value().to_str().unwrap();
        let (prefix, counter) = text.split_once('-').unwrap();
        assert_eq!(prefix.len(), PREFIX_LEN);
        assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(counter, "1b");
    }
}
