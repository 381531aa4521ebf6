//! A real SMTP server for the tests: `aiosmtpd` (`smtp_server.py` beside this crate) with
//! STARTTLS or SMTPS, AUTH, and a certificate from the test CA (`test_ca.rs`). Each
//! accepted message arrives parsed (envelope, headers, MIME parts) as JSON.
//!
//! Python comes from `TEST_PYTHON` (`./scripts/test` sets it to its venv), else the
//! venv at `target/py`, else `python3` (which then needs `aiosmtpd`).

use crate::{free_port::free_port, test_ca::certificates};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// The one login the server accepts.
pub const USER: &str = "mailer";
/// Its password.
pub const PASSWORD: &str = "s3cret-mail";

/// How a client reaches the server: STARTTLS on a plain port, or TLS from the start.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    StartTls,
    Smtps,
}

/// A running aiosmtpd; stopped on drop.
pub struct MailServer {
    child: Child,
    pub port: u16,
    tls: Tls,
    received: mpsc::Receiver<Value>,
}

impl MailServer {
    /// Starts one (answering each connection only after `greeting_delay`).
    pub fn start(tls: Tls, greeting_delay: Duration) -> Self {
        let certificates = certificates();
        let port = free_port();
        let mut command = Command::new(python());
        command
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_server.py"))
            .args([
                "--port",
                &port.to_string(),
                "--user",
                USER,
                "--password",
                PASSWORD,
            ])
            .arg("--cert")
            .arg(certificates.join("server.pem"))
            .arg("--key")
            .arg(certificates.join("server.key"))
            .args([
                "--greeting-delay",
                &greeting_delay.as_secs_f64().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if tls == Tls::Smtps {
            command.arg("--smtps");
        }
        let mut child = command.spawn().expect("python starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok);
        assert_eq!(
            first.as_deref(),
            Some("ready"),
            "the test SMTP server did not start (is aiosmtpd installed? ./scripts/test \
             installs it into target/py)"
        );
        let (messages, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let message = serde_json::from_str(&line).expect("a JSON line per message");
                if messages.send(message).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            port,
            tls,
            received,
        }
    }

    /// The `SMTP_URL` of this server with `password`, in the form docs/configuration.md documents.
    pub fn url(&self, password: &str) -> String {
        match self.tls {
            Tls::StartTls => format!(
                "smtp://{USER}:{password}@127.0.0.1:{}?tls=required",
                self.port
            ),
            Tls::Smtps => format!("smtps://{USER}:{password}@127.0.0.1:{}", self.port),
        }
    }

    /// The next message accepted, waiting at most `within`.
    pub fn next_message(&self, within: Duration) -> Option<Value> {
        self.received.recv_timeout(within).ok()
    }

    /// The CA the server's certificate chains to (the app trusts it via `SSL_CERT_FILE`).
    pub fn ca_file() -> PathBuf {
        certificates().join("ca.pem")
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TEST_PYTHON") {
        return python.into();
    }
    // The venv `./scripts/test` makes in the app's target directory.
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}
