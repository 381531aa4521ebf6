//! A `redis-server` of a test's own, on a free port, with persistence (`appendonly
//! yes`) so it can be stopped and started again with its data. Killed on drop.

use super::free_port::free_port;
use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// A private Redis for one test.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ssi-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let server = Self { port, dir };
        server.launch();
        server
    }

    /// `redis://` URL of this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("redis.pid"))
            .ok()
            .map(|pid| pid.trim().to_string())
    }

    /// Starts the server process (again) with the same data directory.
    pub fn launch(&self) {
        let status = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
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
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
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
