//! Production delivery: with `SMTP_URL` the sign-in link goes out over SMTP (lettre).
//! A minimal SMTP server on loopback receives it; the link then signs in.

use crate::helpers::*;
use std::time::Duration;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    sync::mpsc,
};

/// Accepts SMTP sessions and forwards each message body.
async fn fake_smtp_server() -> (u16, mpsc::UnboundedReceiver<String>) {
    slow_smtp_server(Duration::ZERO).await
}

/// The same, greeting each session only after `delay` (a slow mail server).
async fn slow_smtp_server(delay: Duration) -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (messages, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let messages = messages.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut body = String::new();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = messages.send(std::mem::take(&mut body));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            // Undo SMTP dot-stuffing (RFC 5321 section 4.5.2).
                            body.push_str(line.strip_prefix('.').unwrap_or(&line));
                            body.push('\n');
                        }
                        continue;
                    }
                    let reply: &[u8] = match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                        Some("EHLO") | Some("HELO") => b"250 fake\r\n",
                        Some("DATA") => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        Some("QUIT") => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn production_sends_the_link_over_smtp_and_it_signs_in() {
    let (port, mut received) = fake_smtp_server().await;
    let app = spawn_process_with(
        AppOptions::default()
            .with("APP_ENV", "production")
            .with("SMTP_URL", &format!("smtp://127.0.0.1:{port}"))
            .with("MAIL_FROM", "Sign in <signin@example.com>"),
    )
    .await;
    // Local parts are case-sensitive: the address is delivered as typed.
    let email = format!("Real.Person.{}", email());
    assert_eq!(app.request_link(&email).await.status(), 200);

    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("an email within 10 s")
        .unwrap();
    assert!(message.contains(&format!("To: {email}")), "{message}");
    for header in [
        "Message-ID: <",
        "Date: ",
        "Auto-Submitted: auto-generated",
        "Content-Type: multipart/alternative",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: text/html; charset=utf-8",
        "Subject: Sign in to 127.0.0.1:",
    ] {
        assert!(message.contains(header), "no `{header}` in:\n{message}");
    }
    assert!(message.contains("valid for 15 minutes"), "{message}");
    // Quoted-printable may wrap long lines: undo soft line breaks before searching.
    let text = message.replace("=\n", "").replace("=3D", "=");
    let prefix = format!("{}/auth/verify?token=", app.address);
    let start = text.find(&prefix).expect("a sign-in link") + prefix.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    assert_eq!(app.verify(&token).await.status(), 200, "{message}");
    assert!(!app.log().contains(&token), "the token reached the log");
}

#[tokio::test]
async fn a_link_requested_just_before_shutdown_is_still_delivered() {
    let (port, mut received) = slow_smtp_server(Duration::from_secs(2)).await;
    let mut app = spawn_process_with(
        AppOptions::default()
            .with("APP_ENV", "production")
            .with("SMTP_URL", &format!("smtp://127.0.0.1:{port}")),
    )
    .await;
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    // SIGTERM while the mail server has not even said hello yet.
    let status = app.terminate().await;
    assert!(status.success(), "{status:?}\n{}", app.log());
    let message = received
        .try_recv()
        .expect("the link was delivered before the exit");
    assert!(message.contains(&email), "{message}");
}
