//! Request ids for the access log: unique per process run, and cheap. A UUID v4 costs a
//! `getrandom` system call per request; these are a random prefix drawn once at start
//! and a counter (`3f9c0a1e-1b`), which tells requests apart just as well.

use axum::http::{HeaderValue, Request};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tower_http::request_id::{MakeRequestId, RequestId};

/// Makes `<random prefix>-<counter in hex>` ids; clones share the counter.
#[derive(Clone)]
pub struct SequentialRequestId {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl SequentialRequestId {
    /// A generator with a fresh random prefix (so restarts do not repeat ids).
    pub fn new() -> Self {
        let prefix =
            crate::auth::server::tokens::hex(&crate::auth::server::tokens::random_bytes::<4>());
        Self {
            prefix: prefix.into(),
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
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
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
}
