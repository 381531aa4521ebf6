//! A session's life after sign-in: refresh (one atomic rotation), sign-out, checking
//! the access token of a protected call, and the sessions list.

use super::{AuthService, Authenticated, Issued};
use crate::{
    dpop_paths,
    server::{
        caller::ClientInfo,
        counters,
        device::device_label,
        failure::ServiceError,
        session_id::SessionId,
        store::{Millis, ProofClaim, RotateOutcome, Rotation, SessionRecord, UserRecord},
        tokens::RefreshToken,
    },
    AuthError, EndReason, Me, SessionInfo, SessionsPage, TokenPair, UserInfo, MAX_SESSIONS_PAGE,
};

impl AuthService {
    /// Rotates a refresh token: one atomic store step (see `store::rotation`).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(
        &self,
        raw_token: &str,
        client: &ClientInfo,
        proof: Option<&str>,
    ) -> Result<TokenPair, ServiceError> {
        self.limit_refreshes(client)?;
        let proof = self.check_dpop(proof, dpop_paths::REFRESH)?;
        let ended = |reason| AuthError::SessionEnded { reason };
        let Some(presented) = RefreshToken::parse(raw_token) else {
            counters::refresh("invalid");
            return Err(ended(EndReason::Invalid).into());
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
        // The token handed back: the new one, or the successor a lost reply carried.
        let (refresh_token, session_expires_at) = match self.store.rotate(sid, &rotation).await? {
            RotateOutcome::Rotated { expires_at } => {
                counters::refresh("rotated");
                (successor, expires_at)
            }
            RotateOutcome::Replayed {
                sealed_successor,
                expires_at,
            } => {
                let earlier = presented.open_successor(&sealed_successor).ok_or_else(|| {
                    ServiceError::Internal("stored successor could not be opened")
                })?;
                counters::refresh("replayed");
                (earlier, expires_at)
            }
            RotateOutcome::Ended(reason) => {
                counters::refresh(reason.code());
                if reason == EndReason::Reused {
                    tracing::warn!(session = %sid, "refresh token reused: session ended");
                }
                return Err(ended(reason).into());
            }
            RotateOutcome::Superseded => {
                counters::refresh("superseded");
                return Err(AuthError::RefreshSuperseded.into());
            }
            RotateOutcome::Unrecognised => {
                counters::refresh("invalid");
                return Err(ended(EndReason::Invalid).into());
            }
            RotateOutcome::ProofRefused => {
                counters::refresh("proof_refused");
                return Err(AuthError::InvalidDpopProof.into());
            }
        };
        Ok(Issued {
            access_token,
            access_expires_at: claims.exp * 1000,
            refresh_token: refresh_token.expose(),
            session_expires_at,
        }
        .answer_at(now))
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
    ) -> Result<(), ServiceError> {
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
        // `TokenHash` compares in constant time.
        let owns = session.refresh_hash == hash || session.previous_hash == Some(hash);
        let by_its_key = match &session.jkt {
            None => true,
            Some(bound) => proof.is_some_and(|proof| proof.jkt == *bound),
        };
        if owns && !by_its_key {
            counters::refresh("proof_refused");
            return Err(AuthError::InvalidDpopProof.into());
        }
        if owns {
            self.store
                .end_session(&session.sid, EndReason::Revoked, now)
                .await?;
        }
        Ok(())
    }

    /// Checks a bearer access token: valid, and its session is live.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, ServiceError> {
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
    ) -> Result<Vec<SessionInfo>, ServiceError> {
        let limit = page.limit.unwrap_or(MAX_SESSIONS_PAGE);
        if !(1..=MAX_SESSIONS_PAGE).contains(&limit) {
            return Err(
                AuthError::bad_request(format!("limit is 1 to {MAX_SESSIONS_PAGE}")).into(),
            );
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
    pub async fn revoke(&self, auth: &Authenticated, session_id: &str) -> Result<(), ServiceError> {
        let sid = SessionId::parse(session_id)
            .filter(|sid| sid.user_id() == auth.session.user.id)
            .ok_or_else(|| AuthError::bad_request("no such session"))?;
        self.store
            .end_session(&sid, EndReason::Revoked, self.now())
            .await?;
        Ok(())
    }

    /// Ends every session of the caller.
    pub async fn logout_all(&self, auth: &Authenticated) -> Result<usize, ServiceError> {
        Ok(self
            .store
            .end_all_sessions(&auth.session.user.id, EndReason::Revoked, self.now())
            .await?)
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
