//! The stay-signed-in scenarios in WebKit, the engine of Safari and of every browser on
//! an iPhone. Playwright cannot drive stock WebKit, so these drive Debian's WebKitGTK
//! MiniBrowser through its W3C WebDriver (`WebKitWebDriver`, under `xvfb-run`) with
//! fantoccini, against the real app (in this process, on the test Redis when
//! `REDIS_URL` is set) with a 12-second access lifetime, so the server itself sees
//! tokens expire in real time.
//!
//! They need the browser bundle `cargo leptos build` (debug) put in `target/site` and
//! the server binary of the same build (`WEBKIT_SERVER_BIN`), a display server and the
//! driver, so they are `#[ignore]`d in a plain `cargo test`; `./scripts/test` builds
//! both, copies the server aside and runs them with `--ignored`.
#![cfg(feature = "ssr")]

mod browser;
mod scenarios;
