//! Signing in: a link requested and mailed, read, and used once to open a session.

use super::{AuthService, Issued, MAX_PENDING_MAILS};
use crate::{
    dpop_paths,
    server::{
        caller::ClientInfo,
        counters,
        crypto::random_id,
        device::device_label,
        email::Email,
        failure::{Chain, ServiceError},
        mailer::SignInEmail,
        session_id::SessionId,
        store::{MagicLinkRecord, Millis, SessionRecord, UserRecord},
        tokens::{MagicLinkToken, RefreshToken},
    },
    AuthError, TokenPair,
};

impl AuthService {
    /// Sends a sign-in link. Same answer for every valid address (no enumeration):
    /// everyone gets a link; the account is made when the link is used.
    #[tracing::instrument(skip_all)]
    pub async fn request_link(
        &self,
        raw_email: &str,
        client: &ClientInfo,
    ) -> Result<(), ServiceError> {
        let email = Email::parse(raw_email).map_err(AuthError::bad_request)?;
        self.limit_networks("link-ip", client, self.config.rate_limit_ip)
            .await?;
        self.limit_links_to(&email, client).await?;
        // The ceiling on what the service mails in all: whatever passed the limits
        // above, a flood from many networks to many addresses stays bounded.
        self.limit("mail-budget", "all", self.config.mail_budget)
            .await
            .inspect_err(|error| {
                if matches!(error, ServiceError::Refused(AuthError::RateLimited { .. })) {
                    tracing::warn!("MAIL_BUDGET used up: refusing sign-in links");
                }
            })?;
        // A mail server that hangs must not pile up deliveries without end: with the
        // queue full, say so (503) before the link is saved, so the person's live link
        // is not replaced by one that will never arrive.
        let slot = self
            .delivery_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                counters::magic_link("queue_full");
                tracing::warn!("sign-in mail queue full ({MAX_PENDING_MAILS}); refusing a link");
                AuthError::Unavailable
            })?;
        let now = self.now();
        let token = MagicLinkToken::generate(&email.key());
        self.store
            .save_magic_link(&MagicLinkRecord {
                email_key: email.key(),
                network: client.ip.clone(),
                secret_hash: token.hash(),
                email: email.as_str().to_string(),
                expires_at: now + self.config.magic_link_ttl.as_millis() as Millis,
            })
            .await?;
        let message = SignInEmail {
            to: email.as_typed().to_string(),
            link: format!(
                "{}{}?token={}",
                self.config.public_url,
                self.config.link_path,
                token.expose()
            ),
            token: token.expose(),
            site: site_name(&self.config.public_url),
            valid_minutes: self.config.magic_link_ttl.as_secs().div_ceil(60),
            sent_at: now,
        };
        // Delivery runs in the background: the answer (and its timing) must not depend
        // on the mail server. Failures are logged, never shown. Shutdown waits for it.
        let mailer = self.mailer.clone();
        self.deliveries.spawn(async move {
            let _slot = slot;
            match mailer.send(message).await {
                Ok(()) => counters::magic_link("sent"),
                Err(error) => {
                    counters::magic_link("failed");
                    tracing::error!(error = %Chain(&error), "sign-in email not delivered");
                }
            }
        });
        Ok(())
    }

    /// The address a sign-in link signs in to, for the verify page to show before the
    /// button is pressed (a person handed someone else's link sees whose it is). Reads
    /// the link without using it; whoever holds the link could sign in as that address
    /// anyway.
    pub async fn link_account(&self, raw_token: &str) -> Result<String, ServiceError> {
        let token = MagicLinkToken::parse(raw_token).ok_or(AuthError::LinkInvalid)?;
        self.store
            .peek_magic_link(token.email_key(), &token.hash(), self.now())
            .await?
            .ok_or_else(|| AuthError::LinkInvalid.into())
    }

    /// Consumes a sign-in link once and opens a session.
    #[tracing::instrument(skip_all)]
    /// With a DPoP `proof`, the session is bound to its key: only that key's holder can
    /// refresh it or sign it out. A proof that fails is refused before the link is
    /// used, so the client can sign again with a nonce.
    pub async fn verify(
        &self,
        raw_token: &str,
        client: &ClientInfo,
        proof: Option<&str>,
    ) -> Result<TokenPair, ServiceError> {
        self.limit_networks("verify-ip", client, self.config.rate_limit_ip)
            .await?;
        let token = MagicLinkToken::parse(raw_token).ok_or(AuthError::LinkInvalid)?;
        let proof = self.check_dpop(proof, dpop_paths::VERIFY)?;
        let now = self.now();
        let email = self
            .store
            .redeem_magic_link(token.email_key(), &token.hash(), now)
            .await?
            .ok_or(AuthError::LinkInvalid)?;
        let email = Email::parse(&email)
            .map_err(|_| ServiceError::Internal("stored link email unreadable"))?;
        let candidate = UserRecord {
            id: random_id(),
            email: email.as_str().to_string(),
            created_at: now,
        };
        let user = self
            .store
            .find_or_create_user(&email.key(), &candidate)
            .await?;
        let sid = SessionId::generate(&user.id);
        let refresh = RefreshToken::generate(&sid);
        let absolute_expires_at = now + self.config.session_max_age.as_millis() as Millis;
        let expires_at =
            (now + self.config.refresh_ttl.as_millis() as Millis).min(absolute_expires_at);
        let session = SessionRecord {
            sid: sid.clone(),
            user: user.clone(),
            device: device_label(&client.user_agent),
            last_address: client.ip.clone(),
            created_at: now,
            last_activity: now,
            rotated_at: now,
            expires_at,
            absolute_expires_at,
            refresh_hash: refresh.hash(),
            previous_hash: None,
            jkt: proof.map(|proof| proof.jkt),
        };
        self.store.create_session(&session).await?;
        // Bounded sessions: a sign-in beyond the cap ends the least recently active one
        // (this one is the most recent), so no account piles up sessions without end.
        let keep = self.config.max_sessions_per_user;
        self.store
            .end_least_active_sessions(&user.id, keep, now)
            .await?;
        let (access_token, claims) = self.jwt.issue(&user.id, sid.as_str(), now);
        counters::sign_in();
        tracing::info!(user = %user.id, "signed in");
        Ok(Issued {
            access_token,
            access_expires_at: claims.exp * 1000,
            refresh_token: refresh.expose(),
            session_expires_at: expires_at,
        }
        .answer_at(now))
    }
}

/// The host of `PUBLIC_URL` (with its port, if any): how the email names the site.
fn site_name(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_string()
}
