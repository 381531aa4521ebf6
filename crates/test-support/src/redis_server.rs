//! A `redis-server` of a test's own, on a free port, with persistence (`appendonly
//! yes`) so it can be stopped and started again with its data, optionally speaking only
//! TLS. Killed on drop.

use crate::free_port::free_port;
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// A private Redis for one test.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    /// With TLS only (`tls-port`), certified by the test CA in this directory.
    tls: Option<&'static Path>,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts one that speaks only TLS, with a certificate of the test CA.
    pub fn start_tls() -> Self {
        Self::start_with(Some(crate::test_ca::certificates()))
    }

    fn start_with(tls: Option<&'static Path>) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ssi-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let server = Self { port, dir, tls };
        server.launch();
        server
    }

    /// `redis://` URL of this server (`rediss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The CA file a client needs to trust this server (TLS only).
    pub fn ca_file(&self) -> PathBuf {
        self.tls.expect("a TLS server").join("ca.pem")
    }

    /// The port options: plain, or TLS only with the test CA's certificate.
    fn port_args(&self) -> Vec<String> {
        let port = self.port.to_string();
        match self.tls {
            None => vec!["--port".into(), port],
            Some(dir) => {
                let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
                vec![
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port,
                    "--tls-cert-file".into(),
                    file("server.pem"),
                    "--tls-key-file".into(),
                    file("server.key"),
                    "--tls-ca-cert-file".into(),
                    file("ca.pem"),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ]
            }
        }
    }

    fn pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("redis.pid"))
            .ok()
            .map(|pid| pid.trim().to_string())
    }

    /// Starts the server process (again) with the same data directory.
    pub fn launch(&self) {
        let status = Command::new("redis-server")
            .args(self.port_args())
            .args([
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--appendonly",
                "yes",
                "--save",
                "",
                "--dir",
                self.dir.to_str().unwrap(),
                "--pidfile",
                self.dir.join("redis.pid").to_str().unwrap(),
                "--logfile",
                self.dir.join("redis.log").to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .status()
            .expect("redis-server must be installed (./scripts/test installs it)");
        assert!(status.success(), "redis-server did not start");
        self.wait_until(true);
    }

    /// Stops the server cleanly (data stays on disk).
    pub fn stop(&self) {
        let _ = self.cli(&["shutdown"]);
        self.wait_until(false);
    }

    /// Changes a setting of the running server (`CONFIG SET name value`).
    pub fn set_config(&self, name: &str, value: &str) {
        let answer = self.cli(&["config", "set", name, value]);
        assert_eq!(answer.as_deref(), Some("OK"), "CONFIG SET {name} {value}");
    }

    /// Freezes the process (a hung Redis: connections open, no answers).
    pub fn freeze(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args(["-STOP", &pid]).status();
        }
    }

    /// Undoes [`RedisServer::freeze`].
    pub fn thaw(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
        }
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let mut command = Command::new("redis-cli");
        command.args(["-p", &self.port.to_string()]);
        if self.tls.is_some() {
            command.arg("--tls").arg("--cacert").arg(self.ca_file());
        }
        let output = command.args(args).stderr(Stdio::null()).output().ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    fn wait_until(&self, up: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let answers = self.cli(&["ping"]).as_deref() == Some("PONG");
            if answers == up {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis on port {} did not become {}",
            self.port,
            if up { "ready" } else { "stopped" }
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.thaw();
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
