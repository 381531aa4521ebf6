//! The server binary as the tests start it: a clean environment, listening on a port of
//! loopback with `PUBLIC_URL` to match, assets from `target/site`, and everything it
//! prints into a log file (a pipe nobody reads would block it once full).

use std::{fs::File, path::Path, process::Command};

/// A command for the server `binary` on `port`, logging into `log`; callers add their
/// own variables and spawn it.
pub fn server_command(binary: impl AsRef<std::ffi::OsStr>, port: u16, log: &Path) -> Command {
    let log = File::create(log).expect("a log file for the server");
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "stay-signed-in")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .stdout(log.try_clone().expect("the log file, twice"))
        .stderr(log);
    command
}
