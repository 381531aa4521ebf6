//! What one Redis reports about the app's use of it (single Redis only): script time
//! from `INFO commandstats`, memory from `MEMORY USAGE`, and filler sessions for the
//! session-count sweep.

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
for i = first, first + count - 1 do
  local uid = string.format('f%031x', i)
  local member = string.format('%032x', i)
  local space = prefix .. ':{' .. uid .. '}:'
  local key = space .. 'session:' .. member
  redis.call('HSET', key, 'email', 'fill' .. i .. '@example.com', 'user_created_at', now,
    'device', 'Chrome on Linux', 'created_at', now, 'last_activity', now,
    'expires_at', now, 'absolute_expires_at', now, 'refresh_hash', hash,
    'previous_hash', hash, 'rotated_at', now, 'successor', sixty,
    'history:1', history, 'history:2', history, 'history:3', history, 'history:4', history)
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
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut self.connection)
            .unwrap();
        info.lines()
            .filter(|line| {
                line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:")
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

    /// Keys in the Redis database (the app's, the filler, anything else).
    pub fn keys(&mut self) -> u64 {
        redis::cmd("DBSIZE").query(&mut self.connection).unwrap()
    }
}
