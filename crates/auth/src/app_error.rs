//! The error of an app's own server functions: the library's [`CallError`] (not signed
//! in, rate limited, no answer) beside the app's own errors, so one `?` takes either
//! and [`authed`](crate::authed) still refreshes, retries and signs out by the
//! library's part.

use super::{AuthError, CallError};
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

/// An error type that may carry the library's [`CallError`]: what
/// [`authed`](crate::authed) needs of a protected call's error to refresh and retry
/// (`unauthorized`), sign out (`session_ended`) or show "reconnecting" (transient).
/// [`CallError`] is one, and so is [`AppError`].
pub trait CarriesCallError: From<CallError> {
    /// The library's error inside, if this is one of its.
    fn call_error(&self) -> Option<&CallError>;
}

impl CarriesCallError for CallError {
    fn call_error(&self) -> Option<&CallError> {
        Some(self)
    }
}

/// The error of an app's server function: the library's, or the app's own `E`.
///
/// On the wire it is the JSON of the one it holds. The API layer answers the library's
/// codes with their status and passes the app's body through with the status the
/// function set (leptos_axum's `ResponseOptions`, else 500); reading an answer back, a
/// body with one of the library's codes is [`AppError::Auth`], any other is `E`.
///
/// ```
/// use leptos::prelude::*;
/// use stay_signed_in_auth::AppError;
///
/// /// What can go wrong in the app's own terms.
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// #[serde(tag = "error", rename_all = "snake_case")]
/// enum NoteError {
///     TooLong { max: usize },
/// }
///
/// #[server(prefix = "/api/app", endpoint = "notes/add")]
/// async fn add_note(text: String) -> Result<(), AppError<NoteError>> {
///     #[cfg(feature = "ssr")]
///     {
///         let _session = stay_signed_in_auth::authenticated().await?; // not signed in: 401
///         if text.chars().count() > 500 {
///             return Err(AppError::App(NoteError::TooLong { max: 500 }));
///         }
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppError<E> {
    /// The library's: not signed in, rate limited, no answer...
    Auth(CallError),
    /// The app's own.
    App(E),
}

impl<E> From<CallError> for AppError<E> {
    fn from(error: CallError) -> Self {
        AppError::Auth(error)
    }
}

impl<E> From<AuthError> for AppError<E> {
    fn from(error: AuthError) -> Self {
        AppError::Auth(error.into())
    }
}

impl<E> CarriesCallError for AppError<E> {
    fn call_error(&self) -> Option<&CallError> {
        match self {
            AppError::Auth(error) => Some(error),
            AppError::App(_) => None,
        }
    }
}

impl<E: std::fmt::Display> std::fmt::Display for AppError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Auth(error) => error.fmt(f),
            AppError::App(error) => error.fmt(f),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for AppError<E> {}

/// Written as the JSON of the error it holds.
impl<E: Serialize> Serialize for AppError<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AppError::Auth(error) => error.serialize(serializer),
            AppError::App(error) => error.serialize(serializer),
        }
    }
}

/// Read as the library's error when its code is one of the library's, else as `E`.
impl<'de, E: DeserializeOwned> Deserialize<'de> for AppError<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let bytes = serde_json::to_vec(&value).map_err(serde::de::Error::custom)?;
        match AuthError::from_answer(&bytes) {
            Some(error) => Ok(AppError::Auth(error.into())),
            None => serde_json::from_value(value)
                .map(AppError::App)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// The machinery's failures (unreadable arguments, no answer) are the library's.
impl<E> FromServerFnError for AppError<E>
where
    E: std::fmt::Debug + Serialize + DeserializeOwned + 'static,
{
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Auth(CallError::from_server_fn_error(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct OutOfStock {
        error: String,
        item: u32,
    }

    type Error = AppError<OutOfStock>;

    #[test]
    fn each_side_reads_back_as_itself() {
        let own = Error::App(OutOfStock {
            error: "out_of_stock".into(),
            item: 4,
        });
        let json = serde_json::to_string(&own).unwrap();
        assert_eq!(json, r#"{"error":"out_of_stock","item":4}"#);
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), own);

        let auth = Error::from(AuthError::RateLimited { retry_after: 3 });
        let json = serde_json::to_string(&auth).unwrap();
        assert_eq!(json, r#"{"error":"rate_limited","retry_after":3}"#);
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), auth);
        assert_eq!(
            auth.call_error(),
            Some(&CallError::Answer(AuthError::RateLimited {
                retry_after: 3
            }))
        );
        assert_eq!(own.call_error(), None);
    }

    #[test]
    fn the_machinerys_failures_are_the_librarys() {
        let error = Error::from_server_fn_error(ServerFnErrorErr::MissingArg("item".into()));
        assert_eq!(
            error,
            Error::Auth(AuthError::bad_request("missing field `item`").into())
        );
    }
}
