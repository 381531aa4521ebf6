//! wrk (Debian's package) as the load generator of the flat-out runs: one thread and
//! [`CONNECTIONS`](super::CONNECTIONS) connections, as in the issue's measurements. It
//! costs far less CPU per request than a Rust client, so the ceiling it measures is the
//! server's, not the client's. Requests are shaped by small Lua scripts.

use std::{io::Write, process::Command, time::Duration};

/// What one wrk run reported.
pub struct WrkRun {
    /// Requests per second over the run.
    pub rate: f64,
    /// 99th percentile latency, ms (from the send: wrk does not pace).
    pub p99_ms: f64,
    /// Requests completed.
    pub requests: u64,
    /// Answers that were not 2xx or 3xx.
    pub failed: u64,
}

/// A POST of `{}` with `Authorization: Bearer <token>`, the tokens taken in turn from
/// the file given as the script's argument (one per line; none: no header).
pub const POST_WITH_BEARERS: &str = r#"
local tokens, next_token = {}, 0
function init(args)
  if args[1] then for line in io.lines(args[1]) do tokens[#tokens + 1] = line end end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "{}"
function request()
  if #tokens == 0 then return wrk.format() end
  next_token = next_token % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[next_token] })
end
"#;

/// Refreshes: each request spends a refresh token from a shared queue (filled from the
/// file given as the argument) and each answer puts its new token back, so every
/// request is a real rotation. The queue must hold more tokens than connections.
pub const REFRESH_ROTATING: &str = r#"
local tokens = {}
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  local token = table.remove(tokens, 1) or "spent"
  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then tokens[#tokens + 1] = token end
end
"#;

/// Refreshes of bound sessions: [`REFRESH_ROTATING`], each request also taking the next
/// DPoP proof from the second file (signed ahead by `support/proofs.rs`, one per
/// request: a proof is used once). Once they run out, requests go without one and are
/// refused (counted as failed).
pub const REFRESH_ROTATING_BOUND: &str = r#"
local tokens, proofs, next_proof = {}, {}, 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  for line in io.lines(args[2]) do proofs[#proofs + 1] = line end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  local token = table.remove(tokens, 1) or "spent"
  next_proof = next_proof + 1
  local headers = nil
  if proofs[next_proof] then headers = { ["DPoP"] = proofs[next_proof] } end
  return wrk.format(nil, nil, headers, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then tokens[#tokens + 1] = token end
end
"#;

/// Runs wrk against `url` for `duration` with `script`, passing `tokens` (written to a
/// file) as the script's argument.
pub fn run(url: &str, script: &str, tokens: &[String], duration: Duration) -> WrkRun {
    run_with_files(url, script, &[tokens], duration)
}

/// Runs wrk against `url` for `duration` with `script`, passing each list of `lines`
/// (written to a file each) as the script's arguments, in order.
pub fn run_with_files(url: &str, script: &str, lines: &[&[String]], duration: Duration) -> WrkRun {
    let dir = std::env::temp_dir().join(format!("ssi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script_file = dir.join("script.lua");
    std::fs::write(&script_file, script).unwrap();
    let files: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let path = dir.join(format!("lines-{i}.txt"));
            let mut file = std::fs::File::create(&path).unwrap();
            for line in *lines {
                writeln!(file, "{line}").unwrap();
            }
            path
        })
        .collect();
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{}", super::CONNECTIONS)])
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--latency")
        .arg("-s")
        .arg(&script_file)
        .arg(url)
        .arg("--")
        .args(&files)
        .output()
        .expect("wrk (Debian package `wrk`; ./scripts/bench installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    parse(&text).unwrap_or_else(|| panic!("unreadable wrk report:\n{text}"))
}

fn parse(report: &str) -> Option<WrkRun> {
    let after = |prefix: &str| {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix).map(str::trim))
    };
    let rate = after("Requests/sec:")?.parse().ok()?;
    let p99_ms = duration_ms(after("99%")?)?;
    let requests = report
        .lines()
        .find(|line| line.contains(" requests in "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let failed = after("Non-2xx or 3xx responses:").map_or(Some(0), |n| n.parse().ok())?;
    Some(WrkRun {
        rate,
        p99_ms,
        requests,
        failed,
    })
}

/// wrk's `850.00us`, `2.31ms`, `1.02s` as milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}
