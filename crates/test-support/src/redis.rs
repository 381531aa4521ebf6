//! Whether the tests that need a Redis have one. `./scripts/test` always starts one (and
//! a Cluster) and sets `TESTS_REQUIRE_REDIS`; a plain `cargo test` without `REDIS_URL`
//! skips those tests, naming each, and runs the rest.

use std::io::Write;

/// The variable that names the store the HTTP tests run on: `REDIS_CLUSTER_NODES` when
/// `API_TESTS_ON_CLUSTER` is set, else `REDIS_URL`.
pub fn test_store_variable() -> &'static str {
    if std::env::var_os("API_TESTS_ON_CLUSTER").is_some() {
        "REDIS_CLUSTER_NODES"
    } else {
        "REDIS_URL"
    }
}

/// True, after a line on stderr naming `test`, when `variable` is unset and the run does
/// not require Redis; the test then returns at once. Panics when `TESTS_REQUIRE_REDIS`
/// is set and `variable` is not, so a misconfigured full run fails instead of passing
/// without its Redis tests.
pub fn skipped(test: &str, variable: &str) -> bool {
    if std::env::var_os(variable).is_some() {
        return false;
    }
    assert!(
        std::env::var_os("TESTS_REQUIRE_REDIS").is_none(),
        "{variable} is unset, and TESTS_REQUIRE_REDIS says this run needs Redis \
         (./scripts/test starts one)"
    );
    // Straight to stderr: the test harness keeps `eprintln!` of a passing test to itself.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: it needs a Redis ({variable} is unset; ./scripts/test starts one)"
    );
    true
}
