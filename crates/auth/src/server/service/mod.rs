//! The sign-in and session rules, independent of HTTP: the server functions in
//! `auth/api.rs` only translate between requests and these methods. Time comes from the
//! service's [`Clock`], so every rule here is tested by moving a clock.
//!
//! One [`AuthService`], its methods in one file per job: `sign_in.rs` (links, mail,
//! opening a session), `sessions.rs` (refresh, sign-out, authenticating calls, the
//! sessions list) and `limits.rs` (every rate limit). This file holds the service itself and what those share (DPoP checks, answering a pair).

use super::{
    clock::Clock,
    config::AuthConfig,
    counters,
    dpop::{self, NonceKey, Proof, ProofError},
    jwt::{AccessClaims, JwtKeys},
    local_limit::LocalRateLimiter,
    mailer::Mailer,
    store::{Millis, SessionRecord, SessionStore},
};
use crate::{AuthError, TokenPair};
use std::{sync::Arc, time::Duration};
use tokio_util::task::TaskTracker;

/// Sign-in mails that may wait for the mail server at once (each waits at most the
/// mailer's timeout); beyond it, link requests answer 503 `unavailable`.
pub const MAX_PENDING_MAILS: usize = 256;

pub use limits::INBOX_ALLOWANCES;

mod limits;
mod sessions;
mod sign_in;

/// A caller whose access token checked out and whose session is live.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The token's claims.
    pub claims: AccessClaims,
    /// The live session it belongs to.
    pub session: SessionRecord,
}

/// A pair about to be handed out, with absolute times; [`Issued::answer_at`] turns them
/// into the relative seconds of the wire format.
struct Issued {
    access_token: String,
    access_expires_at: Millis,
    refresh_token: String,
    session_expires_at: Millis,
}

impl Issued {
    /// The [`TokenPair`] as answered at `now`.
    fn answer_at(self, now: Millis) -> TokenPair {
        TokenPair {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            token_type: "bearer".into(),
            expires_in: self.access_expires_at.saturating_sub(now) / 1000,
            refresh_expires_in: self.session_expires_at.saturating_sub(now) / 1000,
            dpop_nonce: None,
        }
    }
}

/// Sign-in, refresh, sign-out and the protected operations.
pub struct AuthService {
    store: Arc<dyn SessionStore>,
    jwt: JwtKeys,
    config: AuthConfig,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    /// Sign-in mails handed to the mailer and not yet delivered.
    deliveries: TaskTracker,
    /// Room for more of them: [`MAX_PENDING_MAILS`] at a time.
    delivery_slots: Arc<tokio::sync::Semaphore>,
    /// Refreshes and sign-outs per client, counted in this process.
    refresh_limit: LocalRateLimiter,
    /// Protected calls per session, counted in this process.
    session_limit: LocalRateLimiter,
    /// Issues and checks the DPoP nonces of this service (and its siblings).
    nonces: NonceKey,
}

impl AuthService {
    /// Wires the rules, configured by `config`, to a store, a mailer and a clock.
    pub fn new(
        store: Arc<dyn SessionStore>,
        config: AuthConfig,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let jwt = JwtKeys::new(
            &config.jwt_secret,
            &config.jwt_previous_secrets,
            config.access_ttl,
        )
        .named(&config.issuer, &config.audience);
        super::counters::use_prefix(&config.metric_prefix);
        let nonces = NonceKey::new(&config.jwt_secret);
        Self {
            nonces,
            store,
            jwt,
            config,
            mailer,
            clock,
            deliveries: TaskTracker::new(),
            delivery_slots: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_MAILS)),
            refresh_limit: LocalRateLimiter::default(),
            session_limit: LocalRateLimiter::default(),
        }
    }

    /// Stops taking new sign-in mails and waits, at most `within`, for those already
    /// accepted: a person who was told `ok` just before a shutdown still gets the link.
    /// Returns whether every one was handed over (delivered or failed and logged).
    pub async fn finish_deliveries(&self, within: Duration) -> bool {
        self.deliveries.close();
        tokio::time::timeout(within, self.deliveries.wait())
            .await
            .is_ok()
    }

    /// The store (for health checks).
    pub fn store(&self) -> &dyn SessionStore {
        self.store.as_ref()
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The service's current time, Unix ms.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// The DPoP nonce a client should put in its next proof (answered as `DPoP-Nonce`).
    pub fn dpop_nonce(&self) -> String {
        self.nonces.issue(self.now())
    }

    /// Checks the DPoP proof (if any) of a `POST` to `path` of this service: the URL is
    /// built from `PUBLIC_URL`, never from the request's `Host`.
    fn check_dpop(&self, proof: Option<&str>, path: &str) -> Result<Option<Proof>, AuthError> {
        let Some(proof) = proof else {
            return Ok(None);
        };
        let url = format!("{}{path}", self.config.public_url);
        let expected = dpop::Expected {
            method: "POST",
            url: &url,
            now: self.now(),
        };
        match dpop::check_proof(proof, expected, &self.nonces) {
            Ok(proof) => Ok(Some(proof)),
            Err(ProofError::UseNonce) => Err(AuthError::UseDpopNonce {
                nonce: self.dpop_nonce(),
            }),
            Err(error) => {
                counters::dpop_refused();
                tracing::debug!(%error, "DPoP proof refused");
                Err(AuthError::InvalidDpopProof)
            }
        }
    }
}
