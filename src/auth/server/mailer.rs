//! Delivery of sign-in links behind one trait: SMTP (lettre) when `SMTP_URL` is set,
//! otherwise the development outbox (log + `GET /dev/outbox`, never in production).

use async_trait::async_trait;
use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

/// One sign-in email.
#[derive(Clone, Serialize)]
pub struct SignInEmail {
    /// Recipient (normalised).
    pub to: String,
    /// The link to open.
    pub link: String,
    /// The token inside the link (handy for API clients and tests).
    pub token: String,
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
            .subject("Your sign-in link")
            .body(format!(
                "Open this link to sign in (it works once and expires soon):\n\n{}\n\n\
                 If you did not ask for it, ignore this email.\n",
                email.link
            ))
            .map_err(|e| MailError::new("sign-in email could not be built", e))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::new("SMTP delivery failed", e))
    }
}
