//! One refresh per browser: the work that refreshes runs while this tab holds a
//! browser-wide lock. The Web Locks API (`navigator.locks`) is atomic and the browser
//! releases a lock when its tab closes or reloads, so no tab can block the others.
//! Where it is missing, a lease in localStorage stands in (a read then a write: best
//! effort, and the server's replay of the previous token covers the races it misses).

use super::state::client;
use super::timing::{now, sleep};
use futures::channel::oneshot;
use super::local_storage;
use serde::{Deserialize, Serialize};
use std::{cell::RefCell, future::Future, rc::Rc};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// How long a fallback lease is honoured (longer than a refresh may take).
const LEASE_MS: f64 = 15_000.0;

/// Runs `work` while holding the browser-wide refresh lock. `None` only if the work's
/// answer was lost (the page going away while the lock was held).
pub async fn exclusive<T, Fut>(work: impl FnOnce() -> Fut + 'static) -> Option<T>
where
    T: 'static,
    Fut: Future<Output = T> + 'static,
{
    let work = Rc::new(RefCell::new(Some(work)));
    if let Some(result) = with_web_lock(work.clone()).await {
        return Some(result);
    }
    // No Web Locks here, or the request failed before the work ran.
    let work = work.borrow_mut().take()?;
    Some(with_lease(work).await)
}

/// `navigator.locks.request(name, work)`: `None` when the API is missing or refused.
async fn with_web_lock<T, Fut, F>(work: Rc<RefCell<Option<F>>>) -> Option<T>
where
    T: 'static,
    Fut: Future<Output = T> + 'static,
    F: FnOnce() -> Fut + 'static,
{
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request: js_sys::Function = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into()
        .ok()?;
    let (done, result) = oneshot::channel();
    let handed = work.clone();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        let work = handed.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(work) = work {
                let _ = done.send(work().await);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let granted = request
        .call2(&locks, &JsValue::from_str(&client().names.refresh_lock), &callback)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    // Settles once the work is done and the lock released, or at once if the browser
    // refused the request (then the work never ran and the caller falls back).
    let _ = wasm_bindgen_futures::JsFuture::from(granted).await;
    if work.borrow().is_some() {
        return None;
    }
    result.await.ok()
}

#[derive(Serialize, Deserialize)]
struct Lease {
    tab: String,
    until: f64,
}

/// The fallback: wait while another tab's lease is live, then take one.
async fn with_lease<T, Fut: Future<Output = T>>(work: impl FnOnce() -> Fut) -> T {
    if !super::token_store::storage_available() {
        return work().await;
    }
    while let Some(lease) = local_storage::get::<Lease>(&client().names.refresh_lease) {
        let mine = *client().tab_id == lease.tab;
        if mine || lease.until <= now() {
            break;
        }
        sleep(100.0).await;
    }
    let lease = Lease {
        tab: client().tab_id.clone(),
        until: now() + LEASE_MS,
    };
    local_storage::set(&client().names.refresh_lease, &lease);
    let result = work().await;
    if local_storage::get::<Lease>(&client().names.refresh_lease).is_some_and(|held| *client().tab_id == held.tab) {
        local_storage::remove(&client().names.refresh_lease);
    }
    result
}
