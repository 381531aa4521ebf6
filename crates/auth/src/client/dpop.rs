//! DPoP proofs from the browser (RFC 9449): `verify`, `refresh` and `logout` go out with
//! a proof signed by this origin's non-extractable key (`dpop_key.js`), so the session
//! the server opens is bound to it and a copy of the token record elsewhere cannot
//! refresh or sign out. Where the browser cannot keep a key, calls go without a proof
//! and the session is unbound (as before this existed).
//!
//! A proof is signed before its call and left in [`PENDING`] for `DpopClient`, the
//! server-fn client of those three functions, which attaches it. [`with_proof`] signs
//! again once when the server asks for its nonce (`use_dpop_nonce`: the device clock is
//! off), taking the nonce from the answer's body: reading the `DPoP-Nonce` header
//! through server_fn's response type would bring `http::HeaderMap` into the bundle.

use super::state::client;
use super::timing::sleep;
use crate::{AuthError, CallError, TokenPair};
use super::{local_storage, names};
use std::future::Future;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/client/dpop_key.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn dpop_proof(htu: &str, nonce: Option<String>, database: &str) -> Result<JsValue, JsValue>;
    fn dpop_key_loaded() -> bool;
}


/// What a call does when the key does not answer within [`SIGN_TIMEOUT_MS`] (a
/// browser whose IndexedDB hangs, or one busy waking from sleep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenKeyIsSlow {
    /// Go without a proof: sign-in, which then opens an unbound session rather than
    /// none (the link is used once; a browser whose storage never answers still signs
    /// in).
    GoBare,
    /// Fail as a network error, retried like one: refresh and sign-out of a session
    /// that may be bound, which a call without its proof could not move (and the
    /// refusal would read as a copy, signing this tab out).
    Retry,
}

/// Runs `call` (a POST to `path`) with a fresh proof, signing again once with the
/// server's nonce when it answers `use_dpop_nonce`. Without a key, `call` goes bare.
pub async fn with_proof<T, Fut>(
    path: &str,
    slow: WhenKeyIsSlow,
    call: impl Fn() -> Fut,
) -> Result<T, CallError>
where
    Fut: Future<Output = Result<T, CallError>>,
{
    let mut result = send_signed(path, slow, &call).await;
    if let Err(CallError::Answer(AuthError::UseDpopNonce { nonce })) = &result {
        remember_nonce(nonce);
        result = send_signed(path, slow, &call).await;
    }
    result
}

async fn send_signed<T, Fut>(
    path: &str,
    slow: WhenKeyIsSlow,
    call: &impl Fn() -> Fut,
) -> Result<T, CallError>
where
    Fut: Future<Output = Result<T, CallError>>,
{
    leave_proof(path, slow).await?;
    let result = call().await;
    client().pending_proof.borrow_mut().take();
    result
}

/// Signs a proof for `path` and leaves it in [`PENDING`] (none without a key). Not
/// generic, so the three calls share one copy of it in the bundle.
async fn leave_proof(path: &str, slow: WhenKeyIsSlow) -> Result<(), CallError> {
    let proof = match sign(path).await {
        Signed::Proof(proof) => Some(proof),
        Signed::NoKey => None,
        Signed::TimedOut if slow == WhenKeyIsSlow::GoBare => None,
        Signed::TimedOut => {
            return Err(CallError::network(
                "the device key did not answer in time",
            ))
        }
    };
    *client().pending_proof.borrow_mut() = proof;
    Ok(())
}

/// Longest wait for loading the key (a browser whose IndexedDB never answers must not
/// hold up sign-in or a refresh). Once this page holds the key, signing is not raced: a
/// timer would fire first whenever the page's clock jumps (waking from sleep, a test's
/// fake clock) and turn a good refresh into a failed one.
const SIGN_TIMEOUT_MS: f64 = 3_000.0;

/// What signing a proof came to.
enum Signed {
    Proof(String),
    /// This browser cannot keep a key (no IndexedDB or WebCrypto, storage refused).
    NoKey,
    /// The key did not answer within [`SIGN_TIMEOUT_MS`].
    TimedOut,
}

/// A proof for `POST <this origin><path>`.
async fn sign(path: &str) -> Signed {
    use futures::{future::Either, FutureExt};
    let Some(origin) = web_sys::window().and_then(|window| window.location().origin().ok()) else {
        return Signed::NoKey;
    };
    let nonce = local_storage::get::<String>(&client().names.dpop_nonce);
    let htu = format!("{origin}{path}");
    let signing = dpop_proof(&htu, nonce, names::app()).boxed_local();
    let signed = if dpop_key_loaded() {
        signing.await
    } else {
        match futures::future::select(signing, sleep(SIGN_TIMEOUT_MS).boxed_local()).await {
            Either::Left((signed, _)) => signed,
            Either::Right(_) => {
                leptos::logging::warn!("the DPoP key did not answer in time");
                return Signed::TimedOut;
            }
        }
    };
    match signed {
        Ok(proof) => proof.as_string().map_or(Signed::NoKey, Signed::Proof),
        Err(error) => {
            leptos::logging::warn!("no DPoP key here, the session is not bound: {error:?}");
            Signed::NoKey
        }
    }
}

/// The proof [`with_proof`] signed for the call being sent (taken once).
pub fn take_pending() -> Option<String> {
    client().pending_proof.borrow_mut().take()
}

/// Keeps the nonce a pair came with for the next proof.
pub fn remember_nonce_of(pair: &TokenPair) {
    if let Some(nonce) = &pair.dpop_nonce {
        remember_nonce(nonce);
    }
}

/// Keeps the server's nonce for the next proof (where storage refuses, the next proof
/// goes without one and the server asks again).
fn remember_nonce(nonce: &str) {
    local_storage::set(&client().names.dpop_nonce, nonce);
}
