//! stay-signed-in: sign in with a magic link, then stay signed in.
//!
//! The app on top of the auth library (`crates/auth`, re-exported as [`auth`]): its
//! pages, its own feature (the notes), its configuration and its HTTP server. Two
//! builds: `ssr` (the server binary, `main.rs`) and `hydrate` (the wasm bundle,
//! [`hydrate`]). Server-only code lives in `http/` and `config.rs`.

#![recursion_limit = "256"]

pub mod app;
pub use stay_signed_in_auth as auth;
pub mod components;
pub mod nav;
pub mod notes;
pub mod pages;
#[cfg(feature = "hydrate")]
pub mod probe;

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
