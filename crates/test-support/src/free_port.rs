//! Free ports for the Rust tests and benches, for servers that must be told
//! a port before they start (redis-server, the server binary). In-process apps bind
//! port 0 themselves instead.

use std::net::TcpListener;

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
