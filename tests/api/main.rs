//! HTTP tests against the real app (in-process per test on its own port; the real
//! binary for startup, restart and log tests) and a real Redis (`REDIS_URL`, or a
//! test's own `redis-server`).
#![cfg(feature = "ssr")]

#[path = "../support/free_port.rs"]
mod free_port;
#[path = "../support/mail_server.rs"]
mod mail_server;
#[path = "../support/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;
#[path = "../support/server_process.rs"]
mod server_process;
#[path = "../support/test_ca.rs"]
mod test_ca;

mod helpers;

mod abuse;
mod assets;
mod availability;
mod bad_input;
mod cluster;
mod connections;
mod dpop;
mod forwarded;
mod headers;
mod lifetimes;
mod metrics;
mod multi_server;
mod openapi;
mod redis_tls;
mod revocation;
mod rotation;
mod sign_in;
mod smtp;
mod startup;
mod tokens;
