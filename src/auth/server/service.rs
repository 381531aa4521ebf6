//! The sign-in and session rules, independent of HTTP: the server functions in
//! `auth/api.rs` only translate between requests and these methods. Time comes from the
//! service's [`Clock`], so every rule here is tested by moving a clock.

use super::{
    caller::ClientInfo,
    clock::Clock,
    counters,
    crypto::{random_id, sha256_hex},
    device::device_label,
    dpop::{self, NonceKey, Proof, ProofError},
    email::Email,
    failure,
    jwt::{AccessClaims, JwtKeys},
    local_limit::LocalRateLimiter,
    mailer::{Mailer, SignInEmail},
    session_id::SessionId,
    store::{
        MagicLinkRecord, Millis, ProofClaim, RateCount, RotateOutcome, Rotation, SessionRecord,
        SessionStore, UserRecord,
    },
    tokens::{MagicLinkToken, RefreshToken},
};
use crate::{
    auth::{
        dpop_paths, AuthError, EndReason, Me, Note, SessionInfo, SessionsPage, TokenPair, UserInfo,
        MAX_SESSIONS_PAGE,
    },
    config::{Config, RateLimit},
};
use std::{sync::Arc, time::Duration};
use tokio_util::task::TaskTracker;

/// How many `RATE_LIMIT_EMAIL` allowances one inbox gets per window from all networks
/// together before each network is held to its first link of the window.
pub const INBOX_ALLOWANCES: u64 = 4;

/// Sign-in mails that may wait for the mail server at once (each waits at most the
/// mailer's timeout); beyond it, link requests answer 503 `unavailable`.
pub const MAX_PENDING_MAILS: usize = 256;

/// Longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// 429 with `retry_after` once `count` is over `limit` (counted as `scope`).
fn over_limit(scope: &'static str, count: RateCount, limit: RateLimit) -> Result<(), AuthError> {
    if count.count > limit.max {
        counters::rate_limited(scope);
        return Err(AuthError::RateLimited {
            retry_after: count.reset_in_ms.div_ceil(1000).max(1),
        });
    }
    Ok(())
}

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
    config: Arc<Config>,
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
    /// Wires the rules to a store, keys from `config`, a mailer and a clock.
    pub fn new(
        store: Arc<dyn SessionStore>,
        config: Arc<Config>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let jwt = JwtKeys::new(
            &config.jwt_secret,
            &config.jwt_previous_secrets,
            config.access_ttl,
        );
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

    /// The configuration the service runs with (the HTTP layer reads its proxy and
    /// header settings here).
    pub fn config(&self) -> &Config {
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

    /// Counts a request against `limit` in the store (shared by every instance); 429
    /// with `retry_after` once over it.
    async fn limit(
        &self,
        scope: &'static str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<(), AuthError> {
        let count = self.count(scope, subject, limit).await?;
        over_limit(scope, count, limit)
    }

    /// Counts one request of `subject` in `limit`'s current window (shared by every
    /// instance, in the store).
    async fn count(
        &self,
        scope: &'static str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateCount, AuthError> {
        let window_ms = limit.window.as_millis() as Millis;
        let key = format!("{scope}:{}", sha256_hex(subject.as_bytes()));
        Ok(self
            .store
            .hit_rate_limit(&key, window_ms, self.now())
            .await?)
    }

    /// Counts a refresh or sign-out of `client` against `RATE_LIMIT_REFRESH_IP`, in this
    /// process: no store round trip on the refresh path (see `local_limit`).
    fn limit_refreshes(&self, client: &ClientInfo) -> Result<(), AuthError> {
        let limit = self.config.rate_limit_refresh_ip;
        let count =
            self.refresh_limit
                .hit(&client.ip, limit.window.as_millis() as Millis, self.now());
        over_limit("refresh-ip", count, limit)
    }

    /// Counts a protected call of session `sid` against `RATE_LIMIT_SESSION`, in this
    /// process. Only a token that verified is counted, so forged ones cannot fill the
    /// counts; a 429 here ends nothing.
    fn limit_calls(&self, sid: &str) -> Result<(), AuthError> {
        let limit = self.config.rate_limit_session;
        let count = self
            .session_limit
            .hit(sid, limit.window.as_millis() as Millis, self.now());
        over_limit("session", count, limit)
    }

    /// Counts a sign-in request of `client` against `limit` in every network it belongs
    /// to ([`ClientInfo::networks`]: an IPv6 /56 gets twice the limit of a /64, a /48
    /// four times), so a large IPv6 block is not thousands of fresh allowances.
    async fn limit_networks(
        &self,
        scope: &'static str,
        client: &ClientInfo,
        limit: RateLimit,
    ) -> Result<(), AuthError> {
        for (network, allowances) in client.networks() {
            let scaled = RateLimit {
                max: limit.max * allowances,
                ..limit
            };
            self.limit(scope, &network, scaled).await?;
        }
        Ok(())
    }

    /// How many links an inbox gets, so that nobody can keep its owner from signing in
    /// and a flood's mail stays bounded:
    /// - per address and requesting network (an IPv4 address; for IPv6 its /64, with
    ///   twice the allowance per /56 and four times per /48, so a large IPv6 block is
    ///   not thousands of networks): `RATE_LIMIT_EMAIL`. Requests from elsewhere never
    ///   use up the owner's allowance, and each network's link is its own (a new request
    ///   replaces only that network's), so they never kill the link the owner opens;
    /// - per inbox, from all networks together: past [`INBOX_ALLOWANCES`] allowances in
    ///   a window, each network gets only its first link of the window. The owner,
    ///   asking from their own network, still gets one that works; a flood from N
    ///   networks brings the inbox at most the cap plus N mails a window.
    async fn limit_links_to(&self, email: &Email, client: &ClientInfo) -> Result<(), AuthError> {
        let limit = self.config.rate_limit_email;
        let mut own = None;
        for (network, allowances) in client.networks() {
            let scaled = RateLimit {
                max: limit.max * allowances,
                ..limit
            };
            let key = format!("{}|{network}", email.as_str());
            let count = self.count("link-email", &key, scaled).await?;
            over_limit("link-email", count, scaled)?;
            own.get_or_insert(count);
        }
        let inbox = RateLimit {
            max: limit.max * INBOX_ALLOWANCES,
            ..limit
        };
        let flooded = self.count("link-inbox", email.as_str(), inbox).await?;
        let first_from_here = own.is_none_or(|count| count.count <= 1);
        if first_from_here {
            return Ok(());
        }
        over_limit("link-inbox", flooded, inbox)
    }

    /// Sends a sign-in link. Same answer for every valid address (no enumeration):
    /// everyone gets a link; the account is made when the link is used.
    #[tracing::instrument(skip_all)]
    pub async fn request_link(
        &self,
        raw_email: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let email = Email::parse(raw_email).map_err(AuthError::bad_request)?;
        self.limit_networks("link-ip", client, self.config.rate_limit_ip)
            .await?;
        self.limit_links_to(&email, client).await?;
        // The ceiling on what the service mails in all: whatever passed the limits
        // above, a flood from many networks to many addresses stays bounded.
        self.limit("mail-budget", "all", self.config.mail_budget)
            .await
            .inspect_err(|error| {
                if matches!(error, AuthError::RateLimited { .. }) {
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
                "{}/auth/verify?token={}",
                self.config.public_url,
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
                    tracing::error!(error = %failure::Chain(&error), "sign-in email not delivered");
                }
            }
        });
        Ok(())
    }

    /// The address a sign-in link signs in to, for the verify page to show before the
    /// button is pressed (a person handed someone else's link sees whose it is). Reads
    /// the link without using it; whoever holds the link could sign in as that address
    /// anyway.
    pub async fn link_account(&self, raw_token: &str) -> Result<String, AuthError> {
        let token = MagicLinkToken::parse(raw_token).ok_or(AuthError::LinkInvalid)?;
        self.store
            .peek_magic_link(token.email_key(), &token.hash(), self.now())
            .await?
            .ok_or(AuthError::LinkInvalid)
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
    ) -> Result<TokenPair, AuthError> {
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
        let email =
            Email::parse(&email).map_err(|_| failure::internal("stored link email unreadable"))?;
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

    /// Rotates a refresh token: one atomic store step (see `store::rotation`).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(
        &self,
        raw_token: &str,
        client: &ClientInfo,
        proof: Option<&str>,
    ) -> Result<TokenPair, AuthError> {
        self.limit_refreshes(client)?;
        let proof = self.check_dpop(proof, dpop_paths::REFRESH)?;
        let ended = |reason| AuthError::SessionEnded { reason };
        let Some(presented) = RefreshToken::parse(raw_token) else {
            counters::refresh("invalid");
            return Err(ended(EndReason::Invalid));
        };
        let sid = presented.session_id();
        let now = self.now();
        let successor = RefreshToken::generate(sid);
        let (access_token, claims) = self.jwt.issue(sid.user_id(), sid.as_str(), now);
        let rotation = Rotation {
            presented_hash: presented.hash(),
            new_hash: successor.hash(),
            sealed_successor: presented.seal_successor(&successor),
            now,
            idle_ms: self.config.refresh_ttl.as_millis() as Millis,
            grace_ms: self.config.reuse_grace.as_millis() as Millis,
            proof: proof.map(|proof| ProofClaim {
                jkt: proof.jkt,
                jti_hash: proof.jti_hash,
            }),
            address: client.ip.clone(),
            device: device_label(&client.user_agent),
        };
        let issued = match self.store.rotate(sid, &rotation).await? {
            RotateOutcome::Rotated { expires_at } => {
                counters::refresh("rotated");
                Issued {
                    access_token,
                    access_expires_at: claims.exp * 1000,
                    refresh_token: successor.expose(),
                    session_expires_at: expires_at,
                }
            }
            RotateOutcome::Replayed {
                sealed_successor,
                expires_at,
            } => {
                let earlier = presented
                    .open_successor(&sealed_successor)
                    .ok_or_else(|| failure::internal("stored successor could not be opened"))?;
                counters::refresh("replayed");
                Issued {
                    access_token,
                    access_expires_at: claims.exp * 1000,
                    refresh_token: earlier.expose(),
                    session_expires_at: expires_at,
                }
            }
            RotateOutcome::Ended(reason) => {
                counters::refresh(reason.code());
                if reason == EndReason::Reused {
                    tracing::warn!(session = %sid, "refresh token reused: session ended");
                }
                return Err(ended(reason));
            }
            RotateOutcome::Superseded => {
                counters::refresh("superseded");
                return Err(AuthError::RefreshSuperseded);
            }
            RotateOutcome::Unrecognised => {
                counters::refresh("invalid");
                return Err(ended(EndReason::Invalid));
            }
            RotateOutcome::ProofRefused => {
                counters::refresh("proof_refused");
                return Err(AuthError::InvalidDpopProof);
            }
        };
        Ok(issued.answer_at(now))
    }

    /// Ends the session of a refresh token (current or just-rotated one). Idempotent:
    /// unknown tokens and ended sessions are fine. A session bound to a key ends only
    /// with a proof by that key (a copied token cannot sign its owner out).
    #[tracing::instrument(skip_all)]
    pub async fn logout(
        &self,
        raw_token: &str,
        client: &ClientInfo,
        proof: Option<&str>,
    ) -> Result<(), AuthError> {
        use subtle::ConstantTimeEq;
        self.limit_refreshes(client)?;
        let proof = self.check_dpop(proof, dpop_paths::LOGOUT)?;
        let Some(token) = RefreshToken::parse(raw_token) else {
            return Ok(());
        };
        let now = self.now();
        let Some(session) = self.store.get_session(token.session_id(), now).await? else {
            return Ok(());
        };
        let hash = token.hash();
        let owns = std::iter::once(&session.refresh_hash)
            .chain(session.previous_hash.as_ref())
            .any(|known| bool::from(known.as_bytes().ct_eq(hash.as_bytes())));
        let by_its_key = match &session.jkt {
            None => true,
            Some(bound) => proof.is_some_and(|proof| proof.jkt == *bound),
        };
        if owns && !by_its_key {
            counters::refresh("proof_refused");
            return Err(AuthError::InvalidDpopProof);
        }
        if owns {
            self.store
                .end_session(&session.sid, EndReason::Revoked, now)
                .await?;
        }
        Ok(())
    }

    /// Checks a bearer access token: valid, and its session is live.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, AuthError> {
        let now = self.now();
        let claims = self.jwt.verify(access_token, now / 1000).map_err(|error| {
            tracing::debug!(%error, "access token refused");
            AuthError::Unauthorized
        })?;
        self.limit_calls(&claims.sid)?;
        let sid = SessionId::parse(&claims.sid).ok_or(AuthError::Unauthorized)?;
        let session = self
            .store
            .get_session(&sid, now)
            .await?
            .filter(|session| session.user.id == claims.sub)
            .ok_or(AuthError::Unauthorized)?;
        Ok(Authenticated { claims, session })
    }

    /// `/me`: the user and the current session.
    pub fn me(&self, auth: &Authenticated) -> Me {
        Me {
            user: user_info(&auth.session.user),
            session: session_info(&auth.session, true),
        }
    }

    /// One `page` of the user's live sessions, oldest first, the caller's marked: at most
    /// its `limit` (1 to [`MAX_SESSIONS_PAGE`], default the most), after its `after`.
    /// The store reads them all (at most `MAX_SESSIONS_PER_USER`, as sign-in prunes).
    pub async fn sessions(
        &self,
        auth: &Authenticated,
        page: &SessionsPage,
    ) -> Result<Vec<SessionInfo>, AuthError> {
        let limit = page.limit.unwrap_or(MAX_SESSIONS_PAGE);
        if !(1..=MAX_SESSIONS_PAGE).contains(&limit) {
            return Err(AuthError::bad_request(format!(
                "limit is 1 to {MAX_SESSIONS_PAGE}"
            )));
        }
        let sessions = self
            .store
            .list_sessions(&auth.session.user.id, self.now())
            .await?;
        let starts_after = |s: &SessionRecord| {
            page.after.as_ref().is_none_or(|after| {
                (s.created_at, s.sid.as_str()) > (after.created_at, after.id.as_str())
            })
        };
        Ok(sessions
            .iter()
            .filter(|s| starts_after(s))
            .take(limit as usize)
            .map(|s| session_info(s, s.sid == auth.session.sid))
            .collect())
    }

    /// Ends one of the caller's own sessions.
    pub async fn revoke(&self, auth: &Authenticated, session_id: &str) -> Result<(), AuthError> {
        let sid = SessionId::parse(session_id)
            .filter(|sid| sid.user_id() == auth.session.user.id)
            .ok_or_else(|| AuthError::bad_request("no such session"))?;
        self.store
            .end_session(&sid, EndReason::Revoked, self.now())
            .await?;
        Ok(())
    }

    /// Ends every session of the caller.
    pub async fn logout_all(&self, auth: &Authenticated) -> Result<usize, AuthError> {
        Ok(self
            .store
            .end_all_sessions(&auth.session.user.id, EndReason::Revoked, self.now())
            .await?)
    }

    /// The caller's notes.
    pub async fn notes(&self, auth: &Authenticated) -> Result<Vec<Note>, AuthError> {
        Ok(self.store.list_notes(&auth.session.user.id).await?)
    }

    /// Adds a note for the caller. The limit is on the text as sent (the API's schema
    /// says so), the note is stored trimmed.
    pub async fn add_note(&self, auth: &Authenticated, text: &str) -> Result<Note, AuthError> {
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(AuthError::bad_request(format!(
                "a note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(AuthError::bad_request("a note needs some text"));
        }
        let note = Note {
            id: random_id(),
            text: text.to_string(),
            created_at: self.now(),
        };
        self.store.add_note(&auth.session.user.id, &note).await?;
        Ok(note)
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

fn user_info(user: &UserRecord) -> UserInfo {
    UserInfo {
        id: user.id.clone(),
        email: user.email.clone(),
        created_at: user.created_at,
    }
}

fn session_info(session: &SessionRecord, current: bool) -> SessionInfo {
    SessionInfo {
        id: session.sid.to_string(),
        device: session.device.clone(),
        last_address: session.last_address.clone(),
        created_at: session.created_at,
        last_activity: session.last_activity,
        expires_at: session.expires_at,
        absolute_expires_at: session.absolute_expires_at,
        current,
        bound: session.jkt.is_some(),
    }
}
