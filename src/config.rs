//! Typed configuration read from the environment once at start and validated, so a bad
//! value stops the server with a message naming the variable instead of failing later.

use std::{collections::HashMap, num::NonZeroUsize, time::Duration};

pub use crate::auth::server::config::{AuthConfig, RateLimit};

/// Where the server runs; production turns off the development outbox and requires
/// real secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local work and tests: dev outbox on, random JWT secret allowed.
    Development,
    /// The real thing: no outbox, `JWT_SECRET` required, no secrets in logs.
    Production,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default, for development).
    Text,
    /// One JSON object per line, with the request span's fields (for log pipelines).
    Json,
}

/// Every setting of the server, validated.
#[derive(Clone)]
pub struct Config {
    /// What the auth rules run with: `PUBLIC_URL`, `JWT_SECRET`, `JWT_PREVIOUS_SECRETS`,
    /// the lifetimes (`ACCESS_TOKEN_TTL`, `REFRESH_TOKEN_TTL`, `SESSION_MAX_AGE`,
    /// `REFRESH_REUSE_GRACE`, `MAGIC_LINK_TTL`) and limits (`RATE_LIMIT_*`,
    /// `MAIL_BUDGET`, `MAX_SESSIONS_PER_USER`).
    pub auth: AuthConfig,
    /// `APP_ENV` (development when unset, for a server on loopback only).
    pub app_env: AppEnv,
    /// Whether `APP_ENV` was set at all: without it, only a loopback listener may run
    /// (see [`Config::check_listener`]).
    pub app_env_explicit: bool,
    /// `REDIS_URL`; `None` (and no cluster) selects the in-memory store.
    pub redis_url: Option<String>,
    /// `REDIS_CLUSTER_NODES`: seed nodes of a Redis Cluster (excludes `REDIS_URL`).
    pub redis_cluster_nodes: Vec<String>,
    /// `REDIS_CA_FILE` read at start: the CA (PEM) that `rediss://` servers are checked
    /// against instead of the system's.
    pub redis_ca: Option<Vec<u8>>,
    /// `REDIS_KEY_PREFIX`: namespace of every Redis key (default `ssi`).
    pub redis_key_prefix: String,
    /// True when the secret was generated at start (logged as such).
    pub jwt_secret_generated: bool,
    /// `TRUSTED_PROXIES`: networks whose `X-Forwarded-For` is believed (empty: none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `SMTP_URL`; `None` selects the development outbox.
    pub smtp_url: Option<String>,
    /// `MAIL_FROM`.
    pub mail_from: String,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `METRICS_ADDR`: where `GET /metrics` listens; `None` (default) turns metrics off.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `ALLOW_LOST_REVOCATIONS=true`: production starts on a Redis that does not write
    /// every change to disk (no `appendonly yes`), accepting that a restart from an
    /// older snapshot brings ended sessions back.
    pub allow_lost_revocations: bool,
    /// `HEADER_READ_TIMEOUT`: how long a connection may take to send a request's headers
    /// (also how long a kept-alive connection may sit idle) before it is closed.
    pub header_read_timeout: Duration,
    /// `MAX_CONCURRENT_REQUESTS`: requests this process works on at once; one more is
    /// answered 503 with `Retry-After` at once instead of queueing.
    pub max_concurrent_requests: usize,
    /// `SERVER_THREADS`: how many threads serve HTTP, each with a runtime and Redis
    /// connection of its own (default: one per CPU the process may use).
    pub server_threads: NonZeroUsize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("auth", &self.auth)
            .field("redis", &self.redis_url.as_ref().map(|_| "[set]"))
            .field("redis_cluster_nodes", &self.redis_cluster_nodes.len())
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "[set]"))
            .field("log_format", &self.log_format)
            .field("metrics_addr", &self.metrics_addr)
            .field("server_threads", &self.server_threads)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("allow_lost_revocations", &self.allow_lost_revocations)
            .finish()
    }
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and what is expected.
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The shortest HMAC key accepted (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads the given variables (tests pass a map instead of touching the process env).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let app_env_explicit = get("APP_ENV").is_some();
        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("`{other}` is not `development` or `production`"),
                ))
            }
        };
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid(
                "PUBLIC_URL",
                format!("`{public_url}` must start with http:// or https://"),
            ));
        }
        let public_url = public_url.trim_end_matches('/').to_string();
        let redis_url = get("REDIS_URL");
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid(
                    "REDIS_URL",
                    "expected a URL like redis://127.0.0.1:6379",
                ));
            }
        }
        let redis_cluster_nodes: Vec<String> = get("REDIS_CLUSTER_NODES")
            .map(|raw| {
                raw.split(',')
                    .map(|node| node.trim().to_string())
                    .filter(|node| !node.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(node) = redis_cluster_nodes
            .iter()
            .find(|node| !(node.starts_with("redis://") || node.starts_with("rediss://")))
        {
            return Err(invalid(
                "REDIS_CLUSTER_NODES",
                format!("`{node}` is not a URL like redis://10.0.0.1:6379"),
            ));
        }
        if redis_url.is_some() && !redis_cluster_nodes.is_empty() {
            return Err(invalid(
                "REDIS_CLUSTER_NODES",
                "set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Cluster), not both",
            ));
        }
        let redis_ca = match get("REDIS_CA_FILE") {
            None => None,
            Some(path) => {
                let tls = redis_url
                    .iter()
                    .chain(&redis_cluster_nodes)
                    .all(|url| url.starts_with("rediss://"));
                if !tls || (redis_url.is_none() && redis_cluster_nodes.is_empty()) {
                    return Err(invalid("REDIS_CA_FILE", "only for rediss:// URLs (TLS)"));
                }
                let pem = std::fs::read(&path)
                    .map_err(|e| invalid("REDIS_CA_FILE", format!("cannot read `{path}`: {e}")))?;
                Some(pem)
            }
        };
        let redis_key_prefix = get("REDIS_KEY_PREFIX").unwrap_or_else(|| "ssi".into());
        if !redis_key_prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "REDIS_KEY_PREFIX",
                "use letters, digits, `-` and `_` only",
            ));
        }
        let (jwt_secret, jwt_secret_generated) = match get("JWT_SECRET") {
            Some(secret) => {
                check_secret(&secret).map_err(|problem| invalid("JWT_SECRET", problem))?;
                (secret.into_bytes(), false)
            }
            None if app_env == AppEnv::Production => {
                return Err(invalid(
                    "JWT_SECRET",
                    format!("required when APP_ENV=production (at least {MIN_SECRET_BYTES} bytes)"),
                ))
            }
            None => {
                let mut secret = vec![0u8; 48];
                getrandom::fill(&mut secret)
                    .map_err(|e| invalid("JWT_SECRET", format!("no OS randomness: {e}")))?;
                (secret, true)
            }
        };
        let jwt_previous_secrets = get("JWT_PREVIOUS_SECRETS")
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|secret| !secret.is_empty())
                    .map(|secret| {
                        check_secret(secret)
                            .map(|()| secret.as_bytes().to_vec())
                            .map_err(|problem| invalid("JWT_PREVIOUS_SECRETS", problem))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        // Unset variables keep the defaults `AuthConfig::new` gives.
        let duration = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            let Some(raw) = get(name) else {
                return Ok(default);
            };
            let value = parse_duration(&raw).map_err(|problem| invalid(name, problem))?;
            if value.is_zero() {
                return Err(invalid(name, "must be longer than zero"));
            }
            Ok(value)
        };
        let rate = |name: &'static str, default: RateLimit| -> Result<RateLimit, ConfigError> {
            get(name).map_or(Ok(default), |raw| {
                parse_rate_limit(&raw).map_err(|problem| invalid(name, problem))
            })
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("`{other}` is not `text` or `json`"),
                ))
            }
        };
        let metrics_addr = match get("METRICS_ADDR") {
            None => None,
            Some(raw) => Some(raw.parse().map_err(|_| {
                invalid(
                    "METRICS_ADDR",
                    format!("`{raw}` is not an address like 127.0.0.1:9100"),
                )
            })?),
        };
        let server_threads = match get("SERVER_THREADS") {
            None => std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            Some(raw) => raw.parse().map_err(|_| {
                invalid(
                    "SERVER_THREADS",
                    format!("`{raw}` is not a whole number of threads, 1 or more"),
                )
            })?,
        };
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(raw) => {
                parse_networks(&raw).map_err(|problem| invalid("TRUSTED_PROXIES", problem))?
            }
        };
        let max_concurrent_requests = match get("MAX_CONCURRENT_REQUESTS") {
            None => 1024,
            Some(raw) => raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "MAX_CONCURRENT_REQUESTS",
                    format!("`{raw}` is not a whole number of requests, 1 or more"),
                )
            })?,
        };
        let defaults = AuthConfig::new(&public_url, jwt_secret);
        let max_sessions_per_user = match get("MAX_SESSIONS_PER_USER") {
            None => defaults.max_sessions_per_user,
            Some(raw) => raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "MAX_SESSIONS_PER_USER",
                    format!("`{raw}` is not a whole number of sessions, 1 or more"),
                )
            })?,
        };
        let auth = AuthConfig {
            jwt_previous_secrets,
            access_ttl: duration("ACCESS_TOKEN_TTL", defaults.access_ttl)?,
            refresh_ttl: duration("REFRESH_TOKEN_TTL", defaults.refresh_ttl)?,
            session_max_age: duration("SESSION_MAX_AGE", defaults.session_max_age)?,
            reuse_grace: duration("REFRESH_REUSE_GRACE", defaults.reuse_grace)?,
            magic_link_ttl: duration("MAGIC_LINK_TTL", defaults.magic_link_ttl)?,
            rate_limit_email: rate("RATE_LIMIT_EMAIL", defaults.rate_limit_email)?,
            rate_limit_ip: rate("RATE_LIMIT_IP", defaults.rate_limit_ip)?,
            rate_limit_refresh_ip: rate("RATE_LIMIT_REFRESH_IP", defaults.rate_limit_refresh_ip)?,
            rate_limit_session: rate("RATE_LIMIT_SESSION", defaults.rate_limit_session)?,
            mail_budget: rate("MAIL_BUDGET", defaults.mail_budget)?,
            max_sessions_per_user,
            ..defaults
        };
        let config = Config {
            auth,
            max_concurrent_requests,
            allow_lost_revocations: get("ALLOW_LOST_REVOCATIONS").as_deref() == Some("true"),
            trusted_proxies,
            metrics_addr,
            server_threads,
            log_format,
            app_env,
            app_env_explicit,
            redis_url,
            redis_cluster_nodes,
            redis_ca,
            redis_key_prefix,
            jwt_secret_generated,
            header_read_timeout: duration("HEADER_READ_TIMEOUT", Duration::from_secs(30))?,
            smtp_url: get("SMTP_URL"),
            mail_from: get("MAIL_FROM")
                .unwrap_or_else(|| "stay-signed-in <no-reply@localhost>".into()),
        };
        if config.auth.access_ttl >= config.auth.refresh_ttl {
            return Err(invalid(
                "ACCESS_TOKEN_TTL",
                "must be shorter than REFRESH_TOKEN_TTL",
            ));
        }
        if config.auth.refresh_ttl > config.auth.session_max_age {
            return Err(invalid(
                "REFRESH_TOKEN_TTL",
                "must not be longer than SESSION_MAX_AGE",
            ));
        }
        if config.app_env == AppEnv::Production {
            check_production(
                &config,
                get("ALLOW_HTTP_PUBLIC_URL").as_deref() == Some("true"),
            )?;
        }
        Ok(config)
    }

    /// True outside production: enables `/dev/outbox` and readable link logging.
    pub fn is_development(&self) -> bool {
        self.app_env == AppEnv::Development
    }

    /// Refuses a development server others can reach. Development mode (the outbox,
    /// links in the log, the in-memory store) is the default only for a server that
    /// listens on loopback: a staging box or a container that forgot `APP_ENV` and
    /// listens on `0.0.0.0` would hand anyone a sign-in link for any address.
    pub fn check_listener(&self, addr: std::net::SocketAddr) -> Result<(), ConfigError> {
        if self.app_env_explicit || addr.ip().is_loopback() {
            return Ok(());
        }
        Err(invalid(
            "APP_ENV",
            format!(
                "not set, and the server listens on {addr}, which other machines can reach: \
                 set APP_ENV=production (or APP_ENV=development to expose the development \
                 outbox there knowingly)"
            ),
        ))
    }
}

/// What production refuses to run without: a store that survives restarts, links that
/// travel over https, and mail that travels encrypted. Each refusal names the variable
/// and the fix.
fn check_production(config: &Config, allow_http_public_url: bool) -> Result<(), ConfigError> {
    if config.redis_url.is_none() && config.redis_cluster_nodes.is_empty() {
        return Err(invalid(
            "REDIS_URL",
            "required when APP_ENV=production: the in-memory store forgets every session \
             and revocation on restart; set REDIS_URL (or REDIS_CLUSTER_NODES)",
        ));
    }
    if !config.auth.public_url.starts_with("https://") && !allow_http_public_url {
        return Err(invalid(
            "PUBLIC_URL",
            format!(
                "`{}` is not https; sign-in links and tokens would travel in cleartext. \
                 Use the https address people open (or set ALLOW_HTTP_PUBLIC_URL=true \
                 for a server no one reaches over the internet)",
                config.auth.public_url
            ),
        ));
    }
    match &config.smtp_url {
        None => Err(invalid(
            "SMTP_URL",
            "required when APP_ENV=production (the development outbox is off there)",
        )),
        Some(url) if !smtp_is_encrypted(url) => Err(invalid(
            "SMTP_URL",
            "sends sign-in links in cleartext; use smtps://… or smtp://…?tls=required \
             (cleartext only to a relay on this machine: smtp://127.0.0.1 or localhost)",
        )),
        Some(_) => Ok(()),
    }
}

/// Whether mail sent to `url` is encrypted on the way (or never leaves the machine).
fn smtp_is_encrypted(url: &str) -> bool {
    if url.starts_with("smtps://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("smtp://") else {
        return false;
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.split('/').next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    let loopback = ["127.0.0.1", "localhost", "[::1]"].contains(&host);
    loopback || query.split('&').any(|pair| pair == "tls=required")
}

/// Refuses secrets that cannot hold a 256-bit key: [`secret_bits`] under 256 (so 32
/// base64 characters, 192 bits, are refused), few distinct characters, or one short
/// pattern repeated.
pub fn check_secret(secret: &str) -> Result<(), String> {
    let bits = secret_bits(secret);
    if bits < MIN_SECRET_BYTES * 8 {
        return Err(format!(
            "must hold at least {MIN_SECRET_BYTES} bytes (256 bits) of random data, and \
             this one can hold at most {bits} bits: use 64 hex or 43 base64 characters \
             or more (e.g. `openssl rand -base64 48`)"
        ));
    }
    let bytes = secret.as_bytes();
    let distinct = bytes.iter().collect::<std::collections::HashSet<_>>().len();
    let repeated = (1..=bytes.len() / 2).any(|period| {
        bytes.len().is_multiple_of(period) && bytes.chunks(period).all(|c| c == &bytes[..period])
    });
    if distinct < MIN_DISTINCT_SECRET_BYTES || repeated {
        return Err("looks like a pattern, not random data; generate one with \
                    `openssl rand -base64 48`"
            .into());
    }
    Ok(())
}

/// The most random bits `secret` can hold, from its length and its alphabet: 4 a
/// character for hex, 6 for base64 (either alphabet; padding holds none), and about 6.5
/// for any other text (95 printable characters).
pub fn secret_bits(secret: &str) -> usize {
    let is_hex = |c: char| c.is_ascii_hexdigit();
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || "+/-_".contains(c);
    let text = secret.trim_end_matches('=');
    let characters = text.chars().count();
    if text.chars().all(is_hex) {
        characters * 4
    } else if text.chars().all(is_base64) {
        characters * 6
    } else {
        characters * 657 / 100
    }
}

/// Fewest distinct characters in a secret (random base64 of 32 bytes has about 25).
const MIN_DISTINCT_SECRET_BYTES: usize = 10;

/// Parses human durations such as `30s`, `15m`, `7d` or `1h 30m`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw)
        .map_err(|_| format!("`{raw}` is not a duration; expected e.g. 30s, 15m, 2h, 7d"))
}

/// Parses a list of networks (`10.0.0.0/8, 2001:db8::/32`); a bare address is a
/// network of one.
pub fn parse_networks(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("`{item}` is not an address or a network like 10.0.0.0/8"))
        })
        .collect()
}

/// Parses `N/duration`, e.g. `5/15m`.
pub fn parse_rate_limit(raw: &str) -> Result<RateLimit, String> {
    let expected = || format!("`{raw}` is not a rate; expected N/window, e.g. 5/15m");
    let (max, window) = raw.split_once('/').ok_or_else(expected)?;
    let max: u64 = max.trim().parse().map_err(|_| expected())?;
    let window = parse_duration(window.trim()).map_err(|_| expected())?;
    if max == 0 || window.is_zero() {
        return Err(expected());
    }
    Ok(RateLimit { max, window })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.auth.access_ttl, Duration::from_secs(30 * 60));
        assert_eq!(config.auth.refresh_ttl, Duration::from_secs(7 * 86_400));
        assert_eq!(
            config.auth.session_max_age,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(config.auth.reuse_grace, Duration::from_secs(30));
        assert_eq!(config.auth.magic_link_ttl, Duration::from_secs(15 * 60));
        assert_eq!(config.auth.rate_limit_email.max, 5);
        assert_eq!(config.auth.rate_limit_ip.max, 30);
        assert_eq!(config.auth.rate_limit_session.max, 600);
        assert_eq!(config.auth.mail_budget.max, 5000);
        assert!(config.jwt_secret_generated);
        assert!(config.redis_url.is_none());
        assert_eq!(config.auth.public_url, "http://127.0.0.1:3000");
        assert_eq!(
            Some(config.server_threads),
            std::thread::available_parallelism().ok()
        );
        let two = Config::from_vars(&vars(&[("SERVER_THREADS", "2")])).unwrap();
        assert_eq!(two.server_threads.get(), 2);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("ACCESS_TOKEN_TTL", "abc"),
            ("REFRESH_TOKEN_TTL", "7 parsecs"),
            ("RATE_LIMIT_EMAIL", "five"),
            ("RATE_LIMIT_IP", "0/1m"),
            ("APP_ENV", "staging"),
            ("JWT_SECRET", "short"),
            ("JWT_SECRET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            // 32 base64 characters: 192 bits, however random.
            ("JWT_SECRET", "Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeU"),
            (
                "JWT_PREVIOUS_SECRETS",
                "Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeUr6Tw1Yb8Nc3Vx5Qm, weak",
            ),
            ("REDIS_URL", "localhost:6379"),
            ("PUBLIC_URL", "example.com"),
            ("MAGIC_LINK_TTL", "0s"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.com"),
            ("RATE_LIMIT_REFRESH_IP", "lots"),
            ("RATE_LIMIT_SESSION", "1/forever"),
            ("MAIL_BUDGET", "0/1h"),
            ("SERVER_THREADS", "0"),
            ("SERVER_THREADS", "many"),
            ("MAX_CONCURRENT_REQUESTS", "0"),
            ("MAX_SESSIONS_PER_USER", "none"),
            ("HEADER_READ_TIMEOUT", "soon"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name, "{value}");
            assert!(err.to_string().contains(name));
        }
    }

    #[test]
    fn a_secret_must_hold_256_bits() {
        use super::{check_secret, secret_bits};
        // 32 bytes as hex (64) or base64 (43, or 44 with padding) pass; one short fails.
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(secret_bits(hex), 256);
        assert!(check_secret(hex).is_ok());
        assert!(check_secret(&hex[..63]).is_err());
        let base64 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
        assert_eq!(secret_bits(base64), 258);
        assert!(check_secret(base64).is_ok());
        assert!(check_secret(&base64[..42]).is_err());
        // What the old rule let through: 32 characters, 192 bits of base64.
        assert_eq!(secret_bits("Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeU"), 192);
        assert!(check_secret("Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeU").is_err());
        // Other printable text holds about 6.5 bits a character: 39 suffice.
        assert!(check_secret("q7#Lm!2vX@9pR$4wT%8nB^3yF&6hJ*1cD(5gZ)0").is_ok());
        assert!(check_secret("q7#Lm!2vX@9pR$4wT%8nB^3yF&6hJ*1cD(5g").is_err());
        let message = check_secret("short").unwrap_err();
        assert!(message.contains("openssl rand -base64 48"), "{message}");
    }

    const PRODUCTION: [(&str, &str); 5] = [
        ("APP_ENV", "production"),
        (
            "JWT_SECRET",
            "Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeUr6Tw1Yb8Nc3Vx5Qm",
        ),
        ("SMTP_URL", "smtps://mailer:pw@smtp.example.com"),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("PUBLIC_URL", "https://app.example.com"),
    ];

    /// The production settings with `changes` applied (an empty value removes one).
    fn production_with(changes: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vars(&PRODUCTION);
        for (name, value) in changes {
            all.insert(name.to_string(), value.to_string());
        }
        Config::from_vars(&all)
    }

    #[test]
    fn production_starts_with_real_settings() {
        let ok = production_with(&[]).unwrap();
        assert!(!ok.is_development());
        assert!(!ok.jwt_secret_generated);
        for url in [
            "smtp://u:p@smtp.example.com:587?tls=required",
            "smtp://127.0.0.1:25",
        ] {
            assert!(production_with(&[("SMTP_URL", url)]).is_ok(), "{url}");
        }
        let staging = [
            ("PUBLIC_URL", "http://10.0.0.5"),
            ("ALLOW_HTTP_PUBLIC_URL", "true"),
        ];
        assert!(production_with(&staging).is_ok());
    }

    #[test]
    fn production_refuses_what_would_lose_or_leak_sessions() {
        for (name, value, variable, fix) in [
            ("JWT_SECRET", "", "JWT_SECRET", "required"),
            ("REDIS_URL", "", "REDIS_URL", "REDIS_URL"),
            (
                "PUBLIC_URL",
                "http://app.example.com",
                "PUBLIC_URL",
                "https",
            ),
            ("SMTP_URL", "", "SMTP_URL", "required"),
            (
                "SMTP_URL",
                "smtp://mailer:pw@smtp.example.com",
                "SMTP_URL",
                "tls=required",
            ),
            (
                "SMTP_URL",
                "smtp://smtp.example.com?tls=opportunistic",
                "SMTP_URL",
                "smtps://",
            ),
        ] {
            let err = production_with(&[(name, value)]).unwrap_err();
            assert_eq!(err.variable, variable, "{name}={value}");
            assert!(err.problem.contains(fix), "{name}={value}: {err}");
        }
        let cluster = [
            ("REDIS_URL", ""),
            ("REDIS_CLUSTER_NODES", "redis://10.0.0.1:6379"),
        ];
        assert!(production_with(&cluster).is_ok());
    }

    #[test]
    fn previous_secrets_are_read_in_order() {
        let config = Config::from_vars(&vars(&[(
            "JWT_PREVIOUS_SECRETS",
            "Zq3v9LmT0xWc8RbN5yHkP2sJ7dGf4AeUr6Tw1Yb8Nc3Vx5Qm, Yp2u8KlS9wVb7QaM4xGjO1rI6cFe3ZdTs9Ha2Lb5Nd8P",
        )]))
        .unwrap();
        assert_eq!(config.auth.jwt_previous_secrets.len(), 2);
        assert_eq!(
            config.auth.jwt_previous_secrets[1],
            b"Yp2u8KlS9wVb7QaM4xGjO1rI6cFe3ZdTs9Ha2Lb5Nd8P"
        );
    }

    #[test]
    fn trusted_proxies_take_networks_and_addresses() {
        let config =
            Config::from_vars(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/8 127.0.0.1,::1")])).unwrap();
        let nets: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert!(Config::from_vars(&vars(&[]))
            .unwrap()
            .trusted_proxies
            .is_empty());
    }

    #[test]
    fn human_durations_parse() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        let rate = parse_rate_limit("5/15m").unwrap();
        assert_eq!(rate.window, Duration::from_secs(900));
    }
}
