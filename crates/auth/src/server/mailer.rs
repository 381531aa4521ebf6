//! Delivery of sign-in links behind one trait: SMTP (lettre) when `SMTP_URL` is set,
//! otherwise the development outbox (log + `GET /dev/outbox`, never in production).

use async_trait::async_trait;
use lettre::{
    message::{
        header::{Header, HeaderName, HeaderValue},
        Mailbox, MultiPart,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use serde::Serialize;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

/// One sign-in email.
#[derive(Clone, Serialize)]
pub struct SignInEmail {
    /// Recipient, as the person typed it.
    pub to: String,
    /// The link to open.
    pub link: String,
    /// The token inside the link (handy for API clients and tests).
    pub token: String,
    /// The site the link signs in to (the host of `PUBLIC_URL`).
    pub site: String,
    /// How long the link works, in minutes.
    pub valid_minutes: u64,
    /// When it was handed to the mailer, Unix ms.
    pub sent_at: u64,
}

/// Failure to set up a mailer or hand an email over; logged with its cause, never shown
/// to the person (no account enumeration).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct MailError {
    /// What could not be done (names the setting when it is a configuration problem).
    pub what: &'static str,
    /// The underlying error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl MailError {
    fn new(what: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            what,
            source: Box::new(source),
        }
    }
}

/// Sends sign-in emails.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one email.
    async fn send(&self, email: SignInEmail) -> Result<(), MailError>;
}

/// The development outbox: keeps the newest emails in memory and logs each link, so a
/// developer (or the e2e suite) can sign in without a mail server.
pub struct DevOutbox {
    messages: Mutex<VecDeque<SignInEmail>>,
}

impl DevOutbox {
    /// How many emails are kept.
    pub const CAPACITY: usize = 200;

    /// An empty outbox.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            messages: Mutex::new(VecDeque::with_capacity(Self::CAPACITY)),
        })
    }

    /// Emails in order of sending, optionally only those to `to`.
    pub fn messages(&self, to: Option<&str>) -> Vec<SignInEmail> {
        let messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        messages
            .iter()
            .filter(|m| to.is_none_or(|to| m.to.eq_ignore_ascii_case(to.trim())))
            .cloned()
            .collect()
    }
}

#[async_trait]
impl Mailer for DevOutbox {
    async fn send(&self, email: SignInEmail) -> Result<(), MailError> {
        // Development only (production refuses to start without SMTP_URL).
        tracing::info!(to = %email.to, link = %email.link, "dev outbox: sign-in link");
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() == Self::CAPACITY {
            messages.pop_front();
        }
        messages.push_back(email);
        Ok(())
    }
}

/// Real delivery over SMTP.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `smtp_url` (`smtp://`, `smtps://`, with optional credentials).
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::new("SMTP_URL cannot be used", e))?
            .build();
        let from = from
            .parse()
            .map_err(|e| MailError::new("MAIL_FROM is not a mailbox", e))?;
        Ok(Self { transport, from })
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): an automatic message; no vacation
/// replies, no bounces of bounces.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// The plain-text body: the site, the lifetime and the link, nothing else.
fn text_body(email: &SignInEmail) -> String {
    format!(
        "Sign in to {site}\n\n\
         Open this link to sign in. It works once, for {minutes} minutes:\n\n\
         {link}\n\n\
         If you did not ask to sign in to {site}, you can ignore this email.\n",
        site = email.site,
        minutes = email.valid_minutes,
        link = email.link,
    )
}

/// The HTML body: one clear button, and the link as text for when buttons do not work.
fn html_body(email: &SignInEmail) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let (site, link) = (escape(&email.site), escape(&email.link));
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Sign in to {site}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#1a1d24\">\
         <h1 style=\"font-size:20px\">Sign in to {site}</h1>\
         <p>This link works once, for {minutes} minutes.</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:12px 20px;\
         background:#2f5bd3;color:#ffffff;border-radius:6px;text-decoration:none;\
         font-weight:bold\">Sign in to {site}</a></p>\
         <p>Or open this address: <br><a href=\"{link}\">{link}</a></p>\
         <p style=\"color:#5b6478\">If you did not ask to sign in to {site}, you can \
         ignore this email.</p></body></html>",
        minutes = email.valid_minutes,
    )
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: SignInEmail) -> Result<(), MailError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| MailError::new("recipient is not a mailbox", e))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!(
                "Sign in to {} (link valid for {} minutes)",
                email.site, email.valid_minutes
            ))
            .message_id(None)
            .date_now()
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                text_body(&email),
                html_body(&email),
            ))
            .map_err(|e| MailError::new("sign-in email could not be built", e))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::new("SMTP delivery failed", e))
    }
}
