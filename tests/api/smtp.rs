//! Production delivery: with `SMTP_URL` the sign-in link goes out over SMTP (lettre), to
//! a real mail server (aiosmtpd) that requires TLS (STARTTLS or SMTPS) and a login. The
//! message is parsed there, and its envelope, headers, parts and link are checked; the
//! link then signs in. A refused login or an unreachable server is logged and counted,
//! and the person still gets the same `{"ok":true}`.

use crate::{
    helpers::*,
    metrics::{sample, scrape},
};
use serde_json::Value;
use std::time::{Duration, Instant};
use test_support::{
    free_port::free_port,
    mail_server::{MailServer, Tls, PASSWORD, USER},
};

const FROM: &str = "signin@example.com";

/// A production server sending through `smtp_url`, trusting the test CA, with metrics.
async fn spawn_mailing_app(smtp_url: &str, metrics_port: u16) -> TestApp {
    spawn_process_with(mailing_options(smtp_url, metrics_port)).await
}

fn mailing_options(smtp_url: &str, metrics_port: u16) -> AppOptions {
    AppOptions::default()
        .production()
        .with("SMTP_URL", smtp_url)
        .with("SSL_CERT_FILE", MailServer::ca_file().to_str().unwrap())
        .with("MAIL_FROM", &format!("Sign in <{FROM}>"))
        .with("METRICS_ADDR", &format!("127.0.0.1:{metrics_port}"))
}

/// Requests a link for a mixed-case address and checks the message the mail server
/// received: envelope, TLS and login, headers, both parts; then the link signs in.
async fn a_link_arrives_and_signs_in(tls: Tls) {
    let server = MailServer::start(tls, Duration::ZERO);
    let app = spawn_mailing_app(&server.url(PASSWORD), free_port()).await;
    // Local parts are case-sensitive: the address is delivered as typed.
    let email = format!("Real.Person.{}", email());
    assert_eq!(app.request_link(&email).await.status(), 200);

    let message = server
        .next_message(Duration::from_secs(10))
        .expect("an email within 10 s");
    assert_eq!(message["mail_from"], FROM, "{message}");
    assert_eq!(message["rcpt_tos"], serde_json::json!([email]), "{message}");
    assert_eq!(message["tls"], true, "{message}");
    assert_eq!(message["login"], USER, "{message}");
    let headers = &message["headers"];
    assert_eq!(headers["To"], email.as_str());
    assert_eq!(headers["Auto-Submitted"], "auto-generated");
    assert!(
        headers["Message-ID"].as_str().unwrap().starts_with('<'),
        "{headers}"
    );
    assert!(headers["Date"].is_string(), "{headers}");
    let site = app.address.trim_start_matches("http://");
    assert_eq!(
        headers["Subject"],
        format!("Sign in to {site} (link valid for 15 minutes)").as_str()
    );
    assert!(headers["Content-Type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/alternative"));

    let part = |content_type: &str| -> String {
        message["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|part| part["content_type"] == content_type)
            .unwrap_or_else(|| panic!("no {content_type} part in {message}"))["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let text = part("text/plain");
    let html = part("text/html");
    assert!(text.starts_with(&format!("Sign in to {site}")), "{text}");
    assert!(text.contains("for 15 minutes"), "{text}");
    let prefix = format!("{}/auth/verify?token=", app.address);
    let start = text.find(&prefix).expect("a sign-in link") + prefix.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    let link = format!("{prefix}{token}");
    assert!(html.contains(&format!("<a href=\"{link}\"")), "{html}");
    assert!(html.contains(&format!(">Sign in to {site}</a>")), "{html}");

    assert_eq!(app.verify(&token).await.status(), 200, "{message}");
    assert!(!app.log().contains(&token), "the token reached the log");
}

#[redis_test]
async fn over_starttls_with_a_login_the_link_arrives_and_signs_in() {
    a_link_arrives_and_signs_in(Tls::StartTls).await;
}

#[redis_test]
async fn over_smtps_with_a_login_the_link_arrives_and_signs_in() {
    a_link_arrives_and_signs_in(Tls::Smtps).await;
}

/// Requests a link that cannot be delivered through `smtp_url`: the answer is the usual
/// `ok`, the failure is logged (without the link) and counted.
async fn an_undeliverable_link_is_logged_and_counted(smtp_url: &str, cause: &str) {
    let metrics_port = free_port();
    let app = spawn_mailing_app(smtp_url, metrics_port).await;
    let response = app.request_link(&email()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({ "ok": true })
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(&app, metrics_port).await;
        if sample(&text, "ssi_magic_links_total", &[("result", "failed")]) == Some(1.0) {
            assert_eq!(
                sample(&text, "ssi_magic_links_total", &[("result", "sent")]),
                None
            );
            break;
        }
        assert!(Instant::now() < deadline, "no failure counted:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = app.log();
    assert!(log.contains("sign-in email not delivered"), "{log}");
    assert!(log.contains(cause), "no `{cause}` in:\n{log}");
    assert!(!log.contains("token="), "a link reached the log:\n{log}");
}

#[redis_test]
async fn a_refused_login_is_logged_and_counted_and_the_person_sees_ok() {
    let server = MailServer::start(Tls::StartTls, Duration::ZERO);
    an_undeliverable_link_is_logged_and_counted(&server.url("wrong-password"), "535").await;
    assert!(server.next_message(Duration::ZERO).is_none());
}

#[redis_test]
async fn an_unreachable_mail_server_is_logged_and_counted_and_the_person_sees_ok() {
    let nobody = free_port();
    let url = format!("smtps://{USER}:{PASSWORD}@127.0.0.1:{nobody}");
    an_undeliverable_link_is_logged_and_counted(&url, "Connection refused").await;
}

/// Every server thread runs the mails its requests started on a runtime of its own, so
/// each must wait for them before it ends, not only the main one.
#[redis_test]
async fn links_requested_on_every_server_thread_just_before_shutdown_are_delivered() {
    let server = MailServer::start(Tls::StartTls, Duration::from_secs(2));
    let options = mailing_options(&server.url(PASSWORD), free_port());
    let mut app = spawn_process_with(options.with("SERVER_THREADS", "4")).await;
    let mut emails: Vec<String> = (0..8).map(|_| email()).collect();
    for email in &emails {
        // A connection for each request: the kernel hands each to one of the threads.
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/auth/magic-link"))
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let status = app.terminate().await;
    assert!(status.success(), "{status:?}\n{}", app.log());
    let mut delivered: Vec<String> = emails
        .iter()
        .map(|_| {
            let message = server
                .next_message(Duration::ZERO)
                .expect("every link was delivered before the exit");
            message["rcpt_tos"][0].as_str().unwrap().to_string()
        })
        .collect();
    delivered.sort();
    emails.sort();
    assert_eq!(delivered, emails);
}

#[redis_test]
async fn a_link_requested_just_before_shutdown_is_still_delivered() {
    let server = MailServer::start(Tls::StartTls, Duration::from_secs(2));
    let mut app = spawn_mailing_app(&server.url(PASSWORD), free_port()).await;
    let email = email();
    assert_eq!(app.request_link(&email).await.status(), 200);
    // SIGTERM while the mail server has not even said hello yet.
    let status = app.terminate().await;
    assert!(status.success(), "{status:?}\n{}", app.log());
    let message = server
        .next_message(Duration::ZERO)
        .expect("the link was delivered before the exit");
    assert_eq!(message["rcpt_tos"][0], email.as_str());
}

#[redis_test]
async fn a_hung_mail_server_fills_a_bounded_queue_then_links_are_refused() {
    use stay_signed_in::auth::server::service::MAX_PENDING_MAILS;
    // A mail server that takes connections and never says a word: every delivery waits.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hung = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    let app =
        spawn_app_with(AppOptions::default().with("SMTP_URL", &format!("smtp://127.0.0.1:{port}")))
            .await;
    let mut statuses = Vec::new();
    for _ in 0..MAX_PENDING_MAILS + 10 {
        statuses.push(app.request_link(&email()).await.status().as_u16());
    }
    assert!(
        statuses[..MAX_PENDING_MAILS].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
    assert!(
        statuses[MAX_PENDING_MAILS..].iter().all(|s| *s == 503),
        "{statuses:?}"
    );
    hung.abort();
}
