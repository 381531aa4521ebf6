//! HTTP tests against the real app (in-process per test on its own port; the real
//! binary for startup, restart and log tests) and a real Redis (`REDIS_URL`, or a
//! test's own `redis-server`).
#![cfg(feature = "ssr")]

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
