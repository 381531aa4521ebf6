//! localStorage as this client uses it: JSON values under fixed keys. A browser that
//! refuses storage (blocked, private mode, quota) throws on access; here reads then find
//! nothing and writes report that they failed, so nothing panics.

use serde::{de::DeserializeOwned, Serialize};

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Whether this page may use localStorage at all.
pub fn available() -> bool {
    storage().is_some()
}

/// Storage could not be read: the browser refuses it, or the read threw.
#[derive(Debug)]
pub struct Unreadable;

/// The text under `key`: `Ok(None)` when there is none.
pub fn get_raw(key: &str) -> Result<Option<String>, Unreadable> {
    storage().ok_or(Unreadable)?.get_item(key).map_err(|_| Unreadable)
}

/// The value under `key`, if there is one and it reads as a `T`.
pub fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&get_raw(key).ok()??).ok()
}

/// Stores `value` under `key` as JSON; false when storage refuses it.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> bool {
    serde_json::to_string(value).is_ok_and(|text| set_raw(key, &text))
}

/// Stores `text` under `key`; false when storage refuses it. (Apart from [`set`], so
/// each type it stores adds only its own serialisation to the bundle.)
#[inline(never)]
fn set_raw(key: &str, text: &str) -> bool {
    storage().is_some_and(|storage| storage.set_item(key, text).is_ok())
}

/// Removes the value under `key`, where there is storage.
pub fn remove(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}
