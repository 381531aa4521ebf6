//! What calling a server function can end with: the server's answer, or none at all.
//! The answer is the wire contract ([`AuthError`]); not getting one is the browser's
//! own failure, which the server never sends, so it lives here and not on the wire.

use super::AuthError;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The error type of every server function: callers match on the server's
/// [`AuthError`] inside [`CallError::Answer`], and treat [`CallError::Network`] as "try
/// again later".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The server answered with an error.
    #[error(transparent)]
    Answer(#[from] AuthError),
    /// No readable answer: the request did not reach the server, timed out, or its
    /// answer could not be read. Produced in the browser only.
    #[error("network error: {message}")]
    Network {
        /// What the browser reported.
        message: String,
    },
}

impl CallError {
    /// Shorthand for [`CallError::Network`].
    pub fn network(message: impl Into<String>) -> Self {
        CallError::Network {
            message: message.into(),
        }
    }

    /// The server's answer, when there was one.
    pub fn answer(&self) -> Option<&AuthError> {
        match self {
            CallError::Answer(error) => Some(error),
            CallError::Network { .. } => None,
        }
    }

    /// True when the failure says nothing about the session: keep the tokens, retry
    /// later. No answer at all is always such a failure.
    pub fn is_transient(&self) -> bool {
        self.answer().is_none_or(AuthError::is_transient)
    }
}

/// Written as the server's answer. The server never holds a [`CallError::Network`];
/// should one be written, it reads back as an internal fault (never a sign-out).
impl Serialize for CallError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.answer()
            .unwrap_or(&AuthError::Internal)
            .serialize(serializer)
    }
}

/// Read from the server's answer.
impl<'de> Deserialize<'de> for CallError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AuthError::deserialize(deserializer).map(CallError::Answer)
    }
}

impl FromServerFnError for CallError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The arguments could not be read: the caller's fault, said plainly.
            ServerFnErrorErr::Args(message) => {
                AuthError::bad_request(format!("invalid request body: {message}")).into()
            }
            ServerFnErrorErr::MissingArg(name) => {
                AuthError::bad_request(format!("missing field `{name}`")).into()
            }
            // On the server, `Deserialization` means the request body could not be read
            // into the arguments; in the browser it means the answer could not be read.
            ServerFnErrorErr::Deserialization(message) if cfg!(feature = "ssr") => {
                AuthError::bad_request(format!("invalid request body: {message}")).into()
            }
            // In the browser: the request did not get a readable answer.
            ServerFnErrorErr::Request(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Response(message)
                if !cfg!(feature = "ssr") =>
            {
                CallError::Network { message }
            }
            other => {
                // A server-side fault of the server-fn machinery: logged here, once.
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "answering 500");
                let _ = other;
                AuthError::Internal.into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_back_as_the_same_answer() {
        let answer = CallError::Answer(AuthError::RateLimited { retry_after: 3 });
        let json = serde_json::to_string(&answer).unwrap();
        assert_eq!(json, r#"{"error":"rate_limited","retry_after":3}"#);
        assert_eq!(serde_json::from_str::<CallError>(&json).unwrap(), answer);
    }

    #[test]
    fn no_answer_is_never_written_as_one_that_signs_out() {
        let json = serde_json::to_string(&CallError::network("offline")).unwrap();
        assert_eq!(json, r#"{"error":"internal"}"#);
    }

    #[test]
    fn no_answer_is_transient_and_only_an_ended_session_is_final() {
        assert!(CallError::network("offline").is_transient());
        assert!(CallError::Answer(AuthError::Unavailable).is_transient());
        assert!(!CallError::Answer(AuthError::Unauthorized).is_transient());
    }

    #[test]
    fn unreadable_arguments_are_the_callers_fault() {
        let error = CallError::from_server_fn_error(ServerFnErrorErr::MissingArg("email".into()));
        assert_eq!(
            error,
            CallError::Answer(AuthError::bad_request("missing field `email`"))
        );
    }
}
