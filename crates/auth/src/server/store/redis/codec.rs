//! How a session is laid out in its Redis hash, and read back: fields as text, token
//! hashes as raw bytes.

use crate::{
    server::{
        session_id::SessionId,
        store::{Millis, SessionRecord, StoreError, UserRecord},
        tokens::TokenHash,
    },
    EndReason,
};

pub(super) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::corrupt(what)
}

pub(super) fn ms(value: Millis) -> String {
    value.to_string()
}

/// The session fields a read returns (not the rotation bookkeeping). `email` first: every
/// stored session has it, so its absence means "no such session".
pub(super) const PUBLIC_FIELDS: [&str; 12] = [
    "email",
    "user_created_at",
    "device",
    "created_at",
    "last_activity",
    "expires_at",
    "absolute_expires_at",
    "refresh_hash",
    "previous_hash",
    "jkt",
    "rotated_at",
    "last_address",
];

/// A token hash read back from its raw bytes.
fn token_hash(bytes: Vec<u8>) -> Result<TokenHash, StoreError> {
    TokenHash::from_bytes(&bytes).ok_or_else(|| corrupt("a token hash of the wrong length"))
}

/// Field/value pairs of a new session's hash, with no previous token, successor or
/// history yet. The id and the owner's id are in the key; the rest is stored as text or
/// raw hash bytes. The order is the order Redis keeps them in: `rotation.lua`'s fields
/// first, in the order it reads them, since Redis finds a field by scanning from the
/// front (the empty ones are filled by the first rotations).
pub(super) fn session_fields(
    s: &SessionRecord,
) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
    let text = |value: &str| value.as_bytes().to_vec();
    Ok(vec![
        ("refresh_hash", s.refresh_hash.as_bytes().to_vec()),
        ("previous_hash", Vec::new()),
        ("expires_at", text(&ms(s.expires_at))),
        ("absolute_expires_at", text(&ms(s.absolute_expires_at))),
        ("history:1", Vec::new()),
        ("history:2", Vec::new()),
        ("history:3", Vec::new()),
        ("history:4", Vec::new()),
        ("jkt", text(s.jkt.as_deref().unwrap_or_default())),
        ("rotated_at", text(&ms(s.rotated_at))),
        ("successor", Vec::new()),
        ("last_activity", text(&ms(s.last_activity))),
        ("email", text(&s.user.email)),
        ("user_created_at", text(&ms(s.user.created_at))),
        ("device", text(&s.device)),
        ("last_address", text(&s.last_address)),
        ("created_at", text(&ms(s.created_at))),
    ])
}

/// Reads the [`PUBLIC_FIELDS`] of session `sid` back; `None` when it is not stored. The
/// values are moved into the record, not copied: this runs on every authenticated call.
pub(super) fn parse_session(
    sid: SessionId,
    values: Vec<Option<Vec<u8>>>,
) -> Result<Option<SessionRecord>, StoreError> {
    if values.first().is_none_or(Option::is_none) {
        return Ok(None);
    }
    let count = values.len();
    // The same order as `PUBLIC_FIELDS`.
    let Ok(
        [email, user_created_at, device, created_at, last_activity, expires_at, absolute_expires_at, refresh_hash, previous_hash, jkt, rotated_at, last_address],
    ) = <[Option<Vec<u8>>; PUBLIC_FIELDS.len()]>::try_from(values)
    else {
        return Err(corrupt(format!("a session read returned {count} fields")));
    };
    let present = |value: Option<Vec<u8>>, name: &str| {
        value.ok_or_else(|| corrupt(format!("session without `{name}`")))
    };
    let text = |value: Option<Vec<u8>>, name: &str| {
        String::from_utf8(present(value, name)?)
            .map_err(|_| corrupt(format!("session field `{name}` is not text")))
    };
    let number = |value: Option<Vec<u8>>, name: &str| -> Result<Millis, StoreError> {
        std::str::from_utf8(&present(value, name)?)
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| corrupt(format!("session field `{name}` is not a number")))
    };
    Ok(Some(SessionRecord {
        user: UserRecord {
            id: sid.user_id().to_string(),
            email: text(email, "email")?,
            created_at: number(user_created_at, "user_created_at")?,
        },
        device: text(device, "device")?,
        // Sessions stored before these fields existed: no address yet, and the grace
        // window counts from their last activity, as it did then.
        last_address: match last_address {
            Some(_) => text(last_address, "last_address")?,
            None => String::new(),
        },
        rotated_at: match rotated_at {
            Some(_) => number(rotated_at, "rotated_at")?,
            None => number(last_activity.clone(), "last_activity")?,
        },
        created_at: number(created_at, "created_at")?,
        last_activity: number(last_activity, "last_activity")?,
        expires_at: number(expires_at, "expires_at")?,
        absolute_expires_at: number(absolute_expires_at, "absolute_expires_at")?,
        refresh_hash: token_hash(present(refresh_hash, "refresh_hash")?)?,
        previous_hash: previous_hash
            .filter(|h| !h.is_empty())
            .map(token_hash)
            .transpose()?,
        // Sessions stored before binding existed have no field: unbound.
        jkt: match jkt.filter(|k| !k.is_empty()) {
            Some(jkt) => Some(
                String::from_utf8(jkt).map_err(|_| corrupt("session field `jkt` is not text"))?,
            ),
            None => None,
        },
        sid,
    }))
}

pub(super) fn parse_reason(code: &str) -> Result<EndReason, StoreError> {
    EndReason::from_code(code).ok_or_else(|| corrupt(format!("unknown end reason `{code}`")))
}
