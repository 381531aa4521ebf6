//! What one Redis reports about the app's use of it (single Redis only): script time
//! from `INFO commandstats`, memory from `MEMORY USAGE`, filler sessions for the
//! session-count sweep, and the rotate script's cost with nothing else running.

use redis::IntoConnectionInfo;

/// A plain connection to the Redis the app uses, and the app's key prefix there.
pub struct RedisFacts {
    connection: redis::Connection,
    prefix: String,
    filled: u64,
}

/// Writes `count` sessions shaped like the app's (same fields and sizes, one user each,
/// with its index entry) under `<prefix>:fill…`, server-side in one script call.
/// ARGV: prefix, first number, count, now (ms).
const FILL: &str = r#"
local prefix, first, count, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local hash = string.sub(redis.sha1hex('h') .. redis.sha1hex('i'), 1, 32)
local sixty = string.rep('s', 60)
local history = string.rep('f', 64)
local jkt = string.rep('k', 43)
for i = first, first + count - 1 do
  local uid = string.format('f%031x', i)
  local member = string.format('%032x', i)
  local space = prefix .. ':{' .. uid .. '}:'
  local key = space .. 'session:' .. member
  redis.call('HSET', key, 'refresh_hash', hash, 'previous_hash', hash, 'expires_at', now,
    'absolute_expires_at', now,
    'history:1', history, 'history:2', history, 'history:3', history, 'history:4', history,
    'jkt', jkt, 'rotated_at', now, 'successor', sixty, 'last_activity', now,
    'email', 'fill' .. i .. '@example.com', 'user_created_at', now,
    'device', 'Chrome on Linux', 'last_address', '203.0.113.7', 'created_at', now)
  redis.call('PEXPIRE', key, 86400000)
  redis.call('ZADD', space .. 'sessions', now, member)
  redis.call('PEXPIRE', space .. 'sessions', 86400000)
end
return count
"#;

impl RedisFacts {
    /// Connects to `url`; `prefix` is the app's `REDIS_KEY_PREFIX`.
    pub fn new(url: &str, prefix: &str) -> Self {
        let connection = redis::Client::open(url).unwrap().get_connection().unwrap();
        Self {
            connection,
            prefix: prefix.to_string(),
            filled: 0,
        }
    }

    /// Zeroes `INFO commandstats`.
    pub fn reset_stats(&mut self) {
        redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query::<()>(&mut self.connection)
            .unwrap();
    }

    /// Scripts Redis ran since the reset: (calls, total µs).
    pub fn script_totals(&mut self) -> (f64, f64) {
        self.command_totals(&["evalsha", "eval"])
    }

    /// Calls of the named commands since the reset, and their total µs inside Redis.
    pub fn command_totals(&mut self, commands: &[&str]) -> (f64, f64) {
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut self.connection)
            .unwrap();
        info.lines()
            .filter(|line| {
                commands
                    .iter()
                    .any(|command| line.starts_with(&format!("cmdstat_{command}:")))
            })
            .filter_map(|line| {
                let field = |name: &str| {
                    line.split([':', ','])
                        .find_map(|pair| pair.strip_prefix(name)?.parse::<f64>().ok())
                };
                Some((field("calls=")?, field("usec=")?))
            })
            .fold((0.0, 0.0), |(calls, usec), (c, u)| (calls + c, usec + u))
    }

    fn memory_usage(&mut self, key: &str) -> u64 {
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .query::<Option<u64>>(&mut self.connection)
            .unwrap()
            .unwrap_or(0)
    }

    /// Bytes per session of the app's own sessions: (session hash, share of its user's
    /// index), averaged over every session and index under the prefix.
    pub fn bytes_per_session(&mut self) -> (f64, f64) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:{{*", self.prefix))
            .query(&mut self.connection)
            .unwrap();
        let sessions: Vec<&String> = keys.iter().filter(|k| k.contains("}:session:")).collect();
        let indexes: Vec<&String> = keys.iter().filter(|k| k.ends_with("}:sessions")).collect();
        let count = sessions.len().max(1) as f64;
        let session_bytes: u64 = sessions.iter().map(|k| self.memory_usage(k)).sum();
        let index_bytes: u64 = indexes.iter().map(|k| self.memory_usage(k)).sum();
        (session_bytes as f64 / count, index_bytes as f64 / count)
    }

    /// Adds filler sessions until `total` are stored (in batches, so Redis answers
    /// other clients between them).
    pub fn fill_to(&mut self, total: u64, now_ms: u64) {
        const BATCH: u64 = 20_000;
        while self.filled < total {
            let count = BATCH.min(total - self.filled);
            redis::cmd("EVAL")
                .arg(FILL)
                .arg(0)
                .arg(format!("{}:fill", self.prefix))
                .arg(self.filled)
                .arg(count)
                .arg(now_ms)
                .query::<u64>(&mut self.connection)
                .unwrap();
            self.filled += count;
        }
    }

    /// Redis' own scripting ceiling at this minute: `redis-benchmark` EVALSHA of a
    /// script that returns at once, 32 clients, in calls a second. The bench measures
    /// it beside each refresh run, as this machine's speed wanders between minutes.
    /// Its calls count as scripts in `commandstats`: not between [`Self::reset_stats`]
    /// and [`Self::script_totals`].
    pub fn evalsha_rate(&mut self, redis_url: &str) -> f64 {
        let sha: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg("return 1")
            .query(&mut self.connection)
            .unwrap();
        let (host, port) = tcp_address(redis_url);
        let output = std::process::Command::new("redis-benchmark")
            .args(["-h", &host, "-p", &port.to_string()])
            .args(["-c", "32", "-n", "200000", "-q", "EVALSHA", &sha, "0"])
            .output()
            .expect("redis-benchmark (Debian: redis-tools)");
        assert!(output.status.success(), "redis-benchmark failed");
        // `-q` ends with "EVALSHA ...: 110229.22 requests per second, p50=...".
        String::from_utf8_lossy(&output.stdout)
            .split(['\r', '\n'])
            .find_map(|line| {
                let (before, _) = line.split_once(" requests per second")?;
                before.rsplit(' ').next()?.parse().ok()
            })
            .expect("redis-benchmark's requests per second")
    }

    /// The rotate script's µs a call in `commandstats` when `redis-benchmark` (8 clients)
    /// is the only load (the quickest of three runs): Redis keeps a core to itself,
    /// unlike during the app's runs, where wrk and the server share the machine's two
    /// cores with it. It rotates a copy of one of the app's sessions onto the same token
    /// again and again (presented and new hash equal), so every call takes the common
    /// path: HMGET, HSET, PEXPIREAT. The previous hash's ring slot stays put from call to
    /// call, where a real session's goes round the ring (up to four fields searched).
    pub fn rotate_script_alone(&mut self, redis_url: &str, now_ms: u64) -> f64 {
        const SCRIPT: &str = include_str!("../../crates/auth/src/server/store/rotation.lua");
        let session: String = redis::cmd("KEYS")
            .arg(format!("{}:{{*}}:session:*", self.prefix))
            .query::<Vec<String>>(&mut self.connection)
            .unwrap()
            .pop()
            .expect("a session of the app to copy");
        let fields: Vec<(Vec<u8>, Vec<u8>)> = redis::cmd("HGETALL")
            .arg(&session)
            .query(&mut self.connection)
            .unwrap();
        let copy = format!("{}:{{rotate-alone}}:session:1", self.prefix);
        let token = "A".repeat(32);
        let mut hset = redis::cmd("HSET");
        hset.arg(&copy);
        for (field, value) in &fields {
            hset.arg(field).arg(value);
        }
        hset.arg("refresh_hash").arg(&token);
        hset.query::<()>(&mut self.connection).unwrap();
        // Unbound, whichever session was copied: a bound one needs a fresh proof a call.
        redis::cmd("HDEL")
            .arg(&copy)
            .arg("jkt")
            .query::<()>(&mut self.connection)
            .unwrap();
        let sha: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(SCRIPT)
            .query(&mut self.connection)
            .unwrap();
        let (host, port) = tcp_address(redis_url);
        const DAY: u64 = 86_400_000;
        let args = [
            "EVALSHA".to_string(),
            sha,
            "4".into(),
            copy.clone(),
            format!("{}:{{rotate-alone}}:sessions", self.prefix),
            format!("{}:{{rotate-alone}}:ended:1", self.prefix),
            format!("{}:{{rotate-alone}}:proof:", self.prefix),
            token.clone(),
            token,
            "s".repeat(60),
            now_ms.to_string(),
            (now_ms + 7 * DAY).to_string(),
            (now_ms + 8 * DAY).to_string(),
            "10000".into(),
            DAY.to_string(),
            "1".into(),
            // No proof (an unbound session), the proof lifetime, address and device.
            String::new(),
            "600000".into(),
            "127.0.0.1".into(),
            "Bench on Linux".into(),
        ];
        // Three runs, the quickest kept: this VM's speed wanders between runs, and the
        // least disturbed run is the script's own cost.
        let mut quickest = f64::INFINITY;
        for _ in 0..3 {
            self.reset_stats();
            let status = std::process::Command::new("redis-benchmark")
                .args([
                    "-h",
                    &host,
                    "-p",
                    &port.to_string(),
                    "-n",
                    "100000",
                    "-c",
                    "8",
                    "-q",
                ])
                .args(&args)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("redis-benchmark (Debian: redis-tools)");
            assert!(status.success(), "redis-benchmark failed");
            let (calls, usec) = self.script_totals();
            quickest = quickest.min(usec / calls.max(1.0));
        }
        redis::cmd("DEL")
            .arg(&copy)
            .query::<()>(&mut self.connection)
            .unwrap();
        quickest
    }

    /// Keys in the Redis database (the app's, the filler, anything else).
    pub fn keys(&mut self) -> u64 {
        redis::cmd("DBSIZE").query(&mut self.connection).unwrap()
    }
}

/// The host and port of a `redis://` URL, for `redis-benchmark`.
fn tcp_address(redis_url: &str) -> (String, u16) {
    match redis_url.into_connection_info().unwrap().addr {
        redis::ConnectionAddr::Tcp(host, port) => (host, port),
        other => panic!("redis-benchmark needs a TCP address, not {other:?}"),
    }
}
