//! stay-signed-in: sign in with a magic link, then stay signed in.
//!
//! One crate, two builds: `ssr` (the server binary, `main.rs`) and `hydrate` (the wasm
//! bundle, [`hydrate`]). Server-only code lives in `auth/server/`, `http/` and
//! `config.rs`; browser-only code in `auth/client/`.

#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod components;
pub mod nav;
pub mod notes;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod http;

/// Entry point of the wasm bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console while developing. The release bundle leaves the hook
    // out: with it, every panic message and the Debug output behind each `unwrap` in the
    // dependencies stay in the wasm (ARCHITECTURE, "Bundle size").
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
