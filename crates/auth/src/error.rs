//! The one error type of the API, shared by server and browser so both sides read the
//! same machine-readable codes.

use serde::{Deserialize, Serialize};

/// Why a session ended; tells the person (and the client) that signing in again is needed.
/// In JSON it is its [`code`](EndReason::code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Idle for longer than `REFRESH_TOKEN_TTL` or older than `SESSION_MAX_AGE`.
    Expired,
    /// Signed out, signed out everywhere, or revoked from the sessions page.
    Revoked,
    /// An already-rotated refresh token was presented again: treated as theft.
    Reused,
    /// The refresh token is not one this server issued (or its session is unknown).
    Invalid,
}

impl EndReason {
    /// The stable code used in JSON and URLs.
    pub const fn code(self) -> &'static str {
        match self {
            EndReason::Expired => "expired",
            EndReason::Revoked => "revoked",
            EndReason::Reused => "reused",
            EndReason::Invalid => "invalid",
        }
    }

    /// Parses [`EndReason::code`] back (used for the `?reason=` of the login page).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// Every reason, in declaration order.
    const ALL: [Self; 4] = [Self::Expired, Self::Revoked, Self::Reused, Self::Invalid];
    /// Every code (what a reader that finds another one says it expected).
    const CODES: &'static [&'static str] = &[
        Self::Expired.code(),
        Self::Revoked.code(),
        Self::Reused.code(),
        Self::Invalid.code(),
    ];
}

// By hand rather than derived: the code as a string, read back through `from_code`. The
// derived form compiles a visitor per JSON reader into the browser bundle.
impl Serialize for EndReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for EndReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::from_code(&code).ok_or_else(|| serde::de::Error::unknown_variant(&code, Self::CODES))
    }
}

/// Every failure a server function can report. The JSON form (`{"error": "<code>", ...}`)
/// is the contract; the HTTP status is derived from it in one place ([`AuthError::status`]).
///
/// The client's failure policy hangs on the variant: only [`AuthError::SessionEnded`]
/// signs a person out; [`AuthError::Unauthorized`] means "refresh and retry once"; the
/// rest are transient or input problems that keep the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", from = "WireError")]
pub enum AuthError {
    /// Access token missing, malformed, forged, expired, or its session is gone (401).
    #[error("unauthorized")]
    Unauthorized,
    /// The refresh token cannot be used any more (401); sign in again.
    #[error("session ended ({reason:?})")]
    SessionEnded {
        /// Why, in one stable code.
        reason: EndReason,
    },
    /// The refresh token was replaced twice moments ago, by another tab of the same
    /// browser (409): nothing ended; use the newest pair, or retry later.
    #[error("refresh token superseded")]
    RefreshSuperseded,
    /// The sign-in link is unknown, expired, superseded by a newer one, or already used
    /// (400); ask for a new link.
    #[error("sign-in link invalid or expired")]
    LinkInvalid,
    /// Too many requests (429); try again after `retry_after` seconds.
    #[error("rate limited, retry after {retry_after}s")]
    RateLimited {
        /// Seconds to wait before the next attempt.
        retry_after: u64,
    },
    /// The session store does not answer (503); nothing was changed, try again.
    #[error("service unavailable")]
    Unavailable,
    /// The request itself is wrong (400); `message` says what to fix.
    #[error("bad request: {message}")]
    BadRequest {
        /// Human-readable description of the problem with the input.
        message: String,
    },
    /// An unexpected server fault (500); details are in the server log only.
    #[error("internal error")]
    Internal,
    /// The DPoP proof is not fresh enough (400, RFC 9449 §8): sign it again with this
    /// nonce (also in the answer's `DPoP-Nonce` header), once. Nothing was used or
    /// changed.
    #[error("use the DPoP nonce")]
    UseDpopNonce {
        /// The server's current nonce, for the proof's `nonce` claim.
        nonce: String,
    },
    /// The session is bound to a key and the call came without a valid proof by it, or
    /// the proof itself is invalid (400): nothing ended. Only the key's holder can
    /// refresh or sign out a bound session.
    #[error("invalid DPoP proof")]
    InvalidDpopProof,
}

/// The JSON form of [`AuthError`]: `{"error": "<code>", ...fields}`. A flat struct
/// instead of serde's internally tagged enum keeps the browser bundle small (that
/// derive buffers and re-parses every value).
#[derive(Default, Serialize, Deserialize)]
struct WireError {
    error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
}

impl From<AuthError> for WireError {
    fn from(error: AuthError) -> Self {
        let code = |code: &str| WireError {
            error: code.to_string(),
            ..WireError::default()
        };
        match error {
            AuthError::Unauthorized => code("unauthorized"),
            AuthError::SessionEnded { reason } => WireError {
                reason: Some(reason),
                ..code("session_ended")
            },
            AuthError::LinkInvalid => code("link_invalid"),
            AuthError::RefreshSuperseded => code("refresh_superseded"),
            AuthError::RateLimited { retry_after } => WireError {
                retry_after: Some(retry_after),
                ..code("rate_limited")
            },
            AuthError::Unavailable => code("unavailable"),
            AuthError::BadRequest { message } => WireError {
                message: Some(message),
                ..code("bad_request")
            },
            AuthError::Internal => code("internal"),
            AuthError::UseDpopNonce { nonce } => WireError {
                nonce: Some(nonce),
                ..code("use_dpop_nonce")
            },
            AuthError::InvalidDpopProof => code("invalid_dpop_proof"),
        }
    }
}

impl From<WireError> for AuthError {
    fn from(wire: WireError) -> Self {
        match (wire.error.as_str(), wire.reason, wire.retry_after) {
            ("unauthorized", _, _) => AuthError::Unauthorized,
            ("session_ended", Some(reason), _) => AuthError::SessionEnded { reason },
            ("link_invalid", _, _) => AuthError::LinkInvalid,
            ("refresh_superseded", _, _) => AuthError::RefreshSuperseded,
            ("rate_limited", _, Some(retry_after)) => AuthError::RateLimited { retry_after },
            ("unavailable", _, _) => AuthError::Unavailable,
            ("use_dpop_nonce", _, _) => AuthError::UseDpopNonce {
                nonce: wire.nonce.unwrap_or_default(),
            },
            ("invalid_dpop_proof", _, _) => AuthError::InvalidDpopProof,
            ("bad_request", _, _) => AuthError::BadRequest {
                message: wire.message.unwrap_or_default(),
            },
            // Unknown or incomplete codes: a server fault, never a reason to sign out.
            _ => AuthError::Internal,
        }
    }
}

impl AuthError {
    /// Reads an error body a server function answered: `Some` when it is one of the
    /// API's codes, `None` for anything else (an app's own error, which the API layer
    /// passes through as its function answered it).
    pub fn from_answer(body: &[u8]) -> Option<AuthError> {
        let wire: WireError = serde_json::from_slice(body).ok()?;
        let code = wire.error.clone();
        let error = AuthError::from(wire);
        (WireError::from(error.clone()).error == code).then_some(error)
    }

    /// The HTTP status that goes with each variant.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Unauthorized | AuthError::SessionEnded { .. } => 401,
            AuthError::RateLimited { .. } => 429,
            AuthError::RefreshSuperseded => 409,
            AuthError::Unavailable => 503,
            AuthError::BadRequest { .. }
            | AuthError::LinkInvalid
            | AuthError::UseDpopNonce { .. }
            | AuthError::InvalidDpopProof => 400,
            AuthError::Internal => 500,
        }
    }

    /// Shorthand for [`AuthError::BadRequest`].
    pub fn bad_request(message: impl Into<String>) -> Self {
        AuthError::BadRequest {
            message: message.into(),
        }
    }

    /// True when the failure says nothing about the session: keep the tokens, retry later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AuthError::RateLimited { .. }
                | AuthError::RefreshSuperseded
                | AuthError::UseDpopNonce { .. }
                | AuthError::Unavailable
                | AuthError::Internal
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_codes_are_stable() {
        let reused = AuthError::SessionEnded {
            reason: EndReason::Reused,
        };
        assert_eq!(
            serde_json::to_string(&reused).unwrap(),
            r#"{"error":"session_ended","reason":"reused"}"#
        );
        assert_eq!(
            serde_json::to_string(&AuthError::Unauthorized).unwrap(),
            r#"{"error":"unauthorized"}"#
        );
        assert_eq!(
            serde_json::to_string(&AuthError::RateLimited { retry_after: 7 }).unwrap(),
            r#"{"error":"rate_limited","retry_after":7}"#
        );
    }

    #[test]
    fn every_variant_round_trips_through_json() {
        for error in [
            AuthError::Unauthorized,
            AuthError::SessionEnded {
                reason: EndReason::Revoked,
            },
            AuthError::LinkInvalid,
            AuthError::RateLimited { retry_after: 3 },
            AuthError::Unavailable,
            AuthError::bad_request("nope"),
            AuthError::Internal,
            AuthError::UseDpopNonce {
                nonce: "n0nce".into(),
            },
            AuthError::InvalidDpopProof,
        ] {
            let json = serde_json::to_string(&error).unwrap();
            assert_eq!(serde_json::from_str::<AuthError>(&json).unwrap(), error);
        }
        let odd: AuthError = serde_json::from_str(r#"{"error":"session_ended"}"#).unwrap();
        assert_eq!(odd, AuthError::Internal);
    }

    #[test]
    fn only_the_apis_own_codes_are_read_as_its_answers() {
        let limited = br#"{"error":"rate_limited","retry_after":3}"#;
        assert_eq!(
            AuthError::from_answer(limited),
            Some(AuthError::RateLimited { retry_after: 3 })
        );
        assert_eq!(
            AuthError::from_answer(br#"{"error":"internal"}"#),
            Some(AuthError::Internal)
        );
        for app_error in [
            &br#"{"error":"out_of_stock","item":7}"#[..],
            br#"{"kind":"teapot"}"#,
            br#""plain text""#,
            b"not json",
        ] {
            assert_eq!(AuthError::from_answer(app_error), None);
        }
    }

    #[test]
    fn only_session_ended_is_final() {
        assert!(AuthError::Unavailable.is_transient());
        assert!(!AuthError::Unauthorized.is_transient());
        assert!(!AuthError::SessionEnded {
            reason: EndReason::Expired
        }
        .is_transient());
    }

    #[test]
    fn reasons_round_trip_through_codes() {
        for reason in [
            EndReason::Expired,
            EndReason::Revoked,
            EndReason::Reused,
            EndReason::Invalid,
        ] {
            assert_eq!(EndReason::from_code(reason.code()), Some(reason));
        }
    }
}
