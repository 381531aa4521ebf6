//! The sign-in and session rules, independent of HTTP: the server functions in
//! `auth/api.rs` only translate between requests and these methods.

use super::{
    device::device_label,
    email::Email,
    jwt::{AccessClaims, JwtKeys, MAX_TOKEN_BYTES},
    mailer::{Mailer, SignInEmail},
    store::{
        user_id_of, MagicLinkRecord, Millis, RotateOutcome, Rotation, SessionRecord, SessionStore,
        StoreError, UserRecord,
    },
    tokens::{new_session_id, random_id, MagicLinkToken, RefreshToken},
};
use crate::{
    auth::{AuthError, EndReason, Me, Note, SessionInfo, TokenPair, UserInfo},
    config::{Config, RateLimit},
};
use serde::{Deserialize, Serialize};
use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

/// The current time in Unix milliseconds (the one place that reads the wall clock).
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "session store unavailable");
                AuthError::Unavailable
            }
            StoreError::Corrupt(detail) => {
                tracing::error!(%detail, "session store returned unreadable data");
                AuthError::Internal
            }
        }
    }
}

/// Who is calling, as far as rate limits and device labels care.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// The peer address (no proxy headers are trusted).
    pub ip: String,
    /// Raw User-Agent (only its label is stored).
    pub user_agent: String,
}

/// A caller whose access token checked out and whose session is live.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The token's claims.
    pub claims: AccessClaims,
    /// The live session it belongs to.
    pub session: SessionRecord,
}

/// What is sealed for replays of the previous refresh token inside the grace window.
#[derive(Serialize, Deserialize)]
struct Successor {
    access_token: String,
    refresh_token: String,
    access_exp: u64,
}

/// Sign-in, refresh, sign-out and the protected operations.
pub struct AuthService {
    store: Arc<dyn SessionStore>,
    jwt: JwtKeys,
    config: Arc<Config>,
    mailer: Arc<dyn Mailer>,
}

impl AuthService {
    /// Wires the rules to a store, keys from `config`, and a mailer.
    pub fn new(store: Arc<dyn SessionStore>, config: Arc<Config>, mailer: Arc<dyn Mailer>) -> Self {
        let jwt = JwtKeys::new(&config.jwt_secret, config.access_ttl);
        Self {
            store,
            jwt,
            config,
            mailer,
        }
    }

    /// The store (for health checks).
    pub fn store(&self) -> &dyn SessionStore {
        self.store.as_ref()
    }

    /// Counts a request against `limit`; 429 with `retry_after` once over it.
    async fn limit(&self, scope: &str, subject: &str, limit: RateLimit) -> Result<(), AuthError> {
        let window_ms = limit.window.as_millis() as Millis;
        let key = format!("{scope}:{}", super::tokens::sha256_hex(subject.as_bytes()));
        let count = self.store.hit_rate_limit(&key, window_ms, now_ms()).await?;
        if count.count > limit.max {
            return Err(AuthError::RateLimited {
                retry_after: count.reset_in_ms.div_ceil(1000).max(1),
            });
        }
        Ok(())
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
        self.limit("link-ip", &client.ip, self.config.rate_limit_ip)
            .await?;
        self.limit("link-email", email.as_str(), self.config.rate_limit_email)
            .await?;
        let now = now_ms();
        let token = MagicLinkToken::generate(&email.key());
        self.store
            .save_magic_link(&MagicLinkRecord {
                email_key: email.key(),
                secret_hash: token.hash(),
                email: email.as_str().to_string(),
                expires_at: now + self.config.magic_link_ttl.as_millis() as Millis,
            })
            .await?;
        let message = SignInEmail {
            to: email.as_str().to_string(),
            link: format!(
                "{}/auth/verify?token={}",
                self.config.public_url,
                token.expose()
            ),
            token: token.expose(),
            sent_at: now,
        };
        // Delivery runs in the background: the answer (and its timing) must not depend
        // on the mail server. Failures are logged, never shown.
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.send(message).await {
                tracing::error!(%error, "sign-in email not delivered");
            }
        });
        Ok(())
    }

    /// Consumes a sign-in link once and opens a session.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        raw_token: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        self.limit("verify-ip", &client.ip, self.config.rate_limit_ip)
            .await?;
        let token = MagicLinkToken::parse(raw_token).ok_or(AuthError::LinkInvalid)?;
        let now = now_ms();
        let email = self
            .store
            .redeem_magic_link(token.email_key(), &token.hash(), now)
            .await?
            .ok_or(AuthError::LinkInvalid)?;
        let email = Email::parse(&email).map_err(|_| AuthError::Internal)?;
        let candidate = UserRecord {
            id: random_id(),
            email: email.as_str().to_string(),
            created_at: now,
        };
        let user = self
            .store
            .find_or_create_user(&email.key(), &candidate)
            .await?;
        let sid = new_session_id(&user.id);
        let refresh = RefreshToken::generate(&sid);
        let absolute_expires_at = now + self.config.session_max_age.as_millis() as Millis;
        let expires_at =
            (now + self.config.refresh_ttl.as_millis() as Millis).min(absolute_expires_at);
        let session = SessionRecord {
            sid: sid.clone(),
            user: user.clone(),
            device: device_label(&client.user_agent),
            created_at: now,
            last_activity: now,
            expires_at,
            absolute_expires_at,
            refresh_hash: refresh.hash(),
            previous_hash: String::new(),
            rotated_at: now,
            successor: String::new(),
            history: String::new(),
        };
        self.store.create_session(&session).await?;
        let (access_token, claims) = self.jwt.issue(&user.id, &sid, now / 1000);
        tracing::info!(user = %user.id, "signed in");
        Ok(pair(
            access_token,
            refresh.expose(),
            claims.exp,
            expires_at,
            now,
        ))
    }

    /// Rotates a refresh token: one atomic store step (see `store::decide_rotation`).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, raw_token: &str) -> Result<TokenPair, AuthError> {
        let ended = |reason| AuthError::SessionEnded { reason };
        let presented = RefreshToken::parse(raw_token).ok_or(ended(EndReason::Invalid))?;
        let sid = presented.session_id();
        let user_id = user_id_of(sid).ok_or(ended(EndReason::Invalid))?;
        let now = now_ms();
        let successor = RefreshToken::generate(sid);
        let (access_token, claims) = self.jwt.issue(user_id, sid, now / 1000);
        let sealed = serde_json::to_vec(&Successor {
            access_token: access_token.clone(),
            refresh_token: successor.expose(),
            access_exp: claims.exp,
        })
        .map_err(|_| AuthError::Internal)?;
        let rotation = Rotation {
            presented_hash: presented.hash(),
            new_hash: successor.hash(),
            sealed_successor: presented.seal(&sealed),
            now,
            idle_ms: self.config.refresh_ttl.as_millis() as Millis,
            grace_ms: self.config.reuse_grace.as_millis() as Millis,
        };
        match self.store.rotate(sid, &rotation).await? {
            RotateOutcome::Rotated { expires_at } => Ok(pair(
                access_token,
                successor.expose(),
                claims.exp,
                expires_at,
                now,
            )),
            RotateOutcome::Replayed {
                sealed_successor,
                expires_at,
            } => {
                let earlier: Successor = presented
                    .open(&sealed_successor)
                    .and_then(|plain| serde_json::from_slice(&plain).ok())
                    .ok_or_else(|| {
                        tracing::error!("stored successor could not be opened");
                        AuthError::Internal
                    })?;
                Ok(pair(
                    earlier.access_token,
                    earlier.refresh_token,
                    earlier.access_exp,
                    expires_at,
                    now,
                ))
            }
            RotateOutcome::Ended(reason) => {
                if reason == EndReason::Reused {
                    tracing::warn!(session = %sid, "refresh token reused: session ended");
                }
                Err(ended(reason))
            }
            RotateOutcome::Unknown => Err(ended(EndReason::Invalid)),
        }
    }

    /// Ends the session of a refresh token (current or just-rotated one). Idempotent:
    /// unknown tokens and ended sessions are fine.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, raw_token: &str) -> Result<(), AuthError> {
        use subtle::ConstantTimeEq;
        let Some(token) = RefreshToken::parse(raw_token) else {
            return Ok(());
        };
        let now = now_ms();
        let Some(session) = self.store.get_session(token.session_id(), now).await? else {
            return Ok(());
        };
        let hash = token.hash();
        let owns = [&session.refresh_hash, &session.previous_hash]
            .iter()
            .any(|known| bool::from(known.as_bytes().ct_eq(hash.as_bytes())));
        if owns {
            self.store
                .end_session(&session.sid, EndReason::Revoked, now)
                .await?;
        }
        Ok(())
    }

    /// Checks an `Authorization` header: a valid access token of a live session.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<Authenticated, AuthError> {
        let header = authorization.ok_or(AuthError::Unauthorized)?;
        if header.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Unauthorized);
        }
        let header = std::str::from_utf8(header).map_err(|_| AuthError::Unauthorized)?;
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthError::Unauthorized)?;
        let now = now_ms();
        let claims = self.jwt.verify(token, now / 1000).map_err(|error| {
            tracing::debug!(%error, "access token refused");
            AuthError::Unauthorized
        })?;
        let session = self
            .store
            .get_session(&claims.sid, now)
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

    /// The user's live sessions, the caller's marked.
    pub async fn sessions(&self, auth: &Authenticated) -> Result<Vec<SessionInfo>, AuthError> {
        let sessions = self
            .store
            .list_sessions(&auth.session.user.id, now_ms())
            .await?;
        Ok(sessions
            .iter()
            .map(|s| session_info(s, s.sid == auth.session.sid))
            .collect())
    }

    /// Ends one of the caller's own sessions.
    pub async fn revoke(&self, auth: &Authenticated, session_id: &str) -> Result<(), AuthError> {
        if user_id_of(session_id) != Some(auth.session.user.id.as_str()) {
            return Err(AuthError::bad_request("no such session"));
        }
        self.store
            .end_session(session_id, EndReason::Revoked, now_ms())
            .await?;
        Ok(())
    }

    /// Ends every session of the caller.
    pub async fn logout_all(&self, auth: &Authenticated) -> Result<usize, AuthError> {
        Ok(self
            .store
            .end_all_sessions(&auth.session.user.id, EndReason::Revoked, now_ms())
            .await?)
    }

    /// The caller's notes.
    pub async fn notes(&self, auth: &Authenticated) -> Result<Vec<Note>, AuthError> {
        Ok(self.store.list_notes(&auth.session.user.id).await?)
    }

    /// Adds a note for the caller.
    pub async fn add_note(&self, auth: &Authenticated, text: &str) -> Result<Note, AuthError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AuthError::bad_request("a note needs some text"));
        }
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(AuthError::bad_request(format!(
                "a note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let note = Note {
            id: random_id(),
            text: text.to_string(),
            created_at: now_ms(),
        };
        self.store.add_note(&auth.session.user.id, &note).await?;
        Ok(note)
    }
}

fn pair(
    access_token: String,
    refresh_token: String,
    access_exp_secs: u64,
    session_expires_at: Millis,
    now: Millis,
) -> TokenPair {
    TokenPair {
        access_token,
        refresh_token,
        token_type: "bearer".into(),
        expires_in: (access_exp_secs * 1000).saturating_sub(now) / 1000,
        refresh_expires_in: session_expires_at.saturating_sub(now) / 1000,
    }
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
        id: session.sid.clone(),
        device: session.device.clone(),
        created_at: session.created_at,
        last_activity: session.last_activity,
        expires_at: session.expires_at,
        absolute_expires_at: session.absolute_expires_at,
        current,
    }
}
