//! What the tests (`tests/`) and the benches (`benches/`) of stay-signed-in share, in one
//! dev-only crate instead of files included by path: servers a test starts for itself
//! (Redis, an SMTP server, the app's own binary), the certificates they use, free ports,
//! and a device key that signs DPoP proofs as the browser does.

pub mod device_key;
pub mod free_port;
pub mod mail_server;
pub mod redis;
pub mod redis_server;
pub mod server_process;
pub mod test_ca;
