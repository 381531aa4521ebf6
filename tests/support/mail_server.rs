//! A real SMTP server for the tests: `aiosmtpd` (tests/support/smtp_server.py) with
//! STARTTLS or SMTPS, AUTH, and a certificate from a test CA made with `openssl`. Each
//! accepted message arrives parsed (envelope, headers, MIME parts) as JSON.
//!
//! Python comes from `TEST_PYTHON` (`./scripts/test` sets it to its venv), else the
//! venv at `target/py`, else `python3` (which then needs `aiosmtpd`).

use crate::free_port::free_port;
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{mpsc, OnceLock},
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
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py"))
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

    /// The `SMTP_URL` of this server with `password`, in the form the README documents.
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
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made once per test run.
fn certificates() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("smtp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(output.status.success(), "openssl {args:?}: {output:?}");
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=stay-signed-in test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign"]].concat());
        openssl(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"]);
        dir
    })
}
