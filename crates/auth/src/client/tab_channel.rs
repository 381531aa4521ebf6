//! The tabs of one browser talking over a `BroadcastChannel`: the second path, beside
//! the `storage` event, by which a new token pair or a sign-out reaches every tab.
//!
//! The `storage` event alone is not enough everywhere: WebKit has had bugs where a tab
//! misses it or reads a stale `localStorage` after another tab wrote (WebKit bug 225344),
//! and a tab whose storage refuses writes never fires one. A message carries its value
//! with it, so the receiver need not trust its own read of storage. This module is only
//! the transport (a leaf: it knows no client type); [`super::token_store`] decides what
//! is said and [`super::lifecycle`] what a message does.
//!
//! Where `BroadcastChannel` is missing (insecure origins of some engines, old browsers),
//! posting is a no-op and the `storage` event carries on alone.

use serde::{de::DeserializeOwned, Serialize};
use super::state::client;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};


/// Sends `message` to every other tab of this browser (never to this one). Best effort:
/// nothing happens before [`listen`] ran or where the API is missing.
pub fn post<T: Serialize>(message: &T) {
    let Ok(json) = serde_json::to_string(message) else {
        return;
    };
    if let Some(channel) = client().channel.borrow().as_ref() {
        if let Err(error) = channel.post_message(&JsValue::from_str(&json)) {
            leptos::logging::warn!("could not tell the other tabs: {error:?}");
        }
    }
}

/// Joins the channel and calls `on_message` with every message another tab posts that
/// reads as a `T` (anything else, say from another version of the app, is ignored).
pub fn listen<T: DeserializeOwned + 'static>(on_message: fn(T)) {
    let Ok(channel) = web_sys::BroadcastChannel::new(&client().names.tabs) else {
        return;
    };
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let message = event
                .data()
                .as_string()
                .and_then(|json| serde_json::from_str::<T>(&json).ok());
            if let Some(message) = message {
                on_message(message);
            }
        });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler and the channel live as long as the page.
    handler.forget();
    client().channel.borrow_mut().replace(channel);
}
