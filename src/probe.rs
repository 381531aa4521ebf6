//! A diagnostics hook exported by the app's wasm module: fires protected calls at once
//! through the same wrapper the pages use. The end-to-end suite imports the module and
//! calls it to prove that many simultaneous calls share one refresh; it can do nothing a
//! page cannot do. It lives in the app, not the library: other apps' bundles do not
//! export it, and the call it makes is the one the home page makes (`authed(api::me)`),
//! compiled once.

use crate::auth::{api, authed};

/// Fires `count` simultaneous `/api/v1/me` calls; resolves to how many succeeded.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = probeProtectedCalls)]
pub async fn probe_protected_calls(count: u32) -> u32 {
    let answers: Vec<_> = (0..count)
        .map(|_| {
            let (answer, received) = futures::channel::oneshot::channel();
            leptos::task::spawn_local(async move {
                let _ = answer.send(authed(api::me).await.is_ok());
            });
            received
        })
        .collect();
    let mut succeeded = 0;
    for received in answers {
        succeeded += u32::from(received.await.unwrap_or(false));
    }
    succeeded
}
