//! A diagnostics hook exported by the wasm module: fires protected calls at once through
//! the same wrapper the pages use. The end-to-end suite imports the module and calls it
//! to prove that many simultaneous calls share one refresh; it can do nothing a page
//! cannot do.

use super::authed;
use crate::auth::api::whoami;

/// Fires `count` simultaneous `/api/v1/me` calls; resolves to how many succeeded.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = probeProtectedCalls)]
pub async fn probe_protected_calls(count: u32) -> u32 {
    let calls = (0..count).map(|_| authed(whoami));
    futures::future::join_all(calls)
        .await
        .iter()
        .filter(|result| result.is_ok())
        .count() as u32
}
