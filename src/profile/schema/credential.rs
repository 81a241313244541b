//! `[credential]`: where the session lives, how it expires and how it is presented again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// Cookies the session lives in.
    #[serde(default)]
    pub cookies: Vec<String>,
    /// Web-storage keys, with a JSON path inside the value.
    #[serde(default)]
    pub storage: Vec<StorageKey>,
    /// A field of the sign-in answer's JSON (dotted path).
    pub json: Option<String>,
    /// A header of the sign-in answer.
    pub header: Option<String>,
    /// Cookie values are URI-encoded by the application's script (`encodeURI`).
    #[serde(default)]
    pub uri_encoded: bool,
    /// Cookie values are JSON with the token at this path (a dotted path).
    pub cookie_json: Option<String>,
    /// Where the token's advertised expiry (epoch seconds) is.
    pub expiry: Option<Expiry>,
    /// The signed-in user's object, for parts and extras the session needs.
    pub user: Option<UserObject>,
    /// Other values the application needs beside the token (a user id), by name; the
    /// name is a placeholder (`{user_id}`) in `present.headers` and `token_link.path`.
    #[serde(default)]
    pub parts: BTreeMap<String, PartSpec>,
    /// How late the application may enforce expiry (a periodic sweep), in seconds.
    #[serde(default)]
    pub expiry_slack_seconds: u64,
    /// The alphabet tokens are written in (`base36`, `base58`, …), for the token-strength
    /// check when a sample is too small to tell; read from the sample when absent.
    pub alphabet: Option<String>,
    pub present: Present,
}

/// The advertised expiry: a header or a JSON field of the sign-in answer, and a field
/// beside the token in a JSON cookie or storage value; `name` is how evidence names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    pub header: Option<String>,
    pub json: Option<String>,
    pub beside: Option<String>,
    /// Seconds from when the credential was seen (OAuth's `expires_in`), not epoch seconds.
    #[serde(default)]
    pub relative: bool,
    pub name: String,
}

impl Expiry {
    /// The instant `raw` (text or a JSON number) names, for a credential seen at `seen`;
    /// what it is, when it names none (an ERROR for every refusal it guards).
    pub fn at(&self, raw: &str, seen: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        if !self.relative {
            return crate::model::read_expiry(raw).map_err(|e| format!("{}: {e}", self.name));
        }
        let v = raw.trim().trim_matches('"');
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .and_then(|s| chrono::TimeDelta::try_milliseconds((s * 1000.0) as i64))
            .and_then(|d| seen.checked_add_signed(d))
            .ok_or_else(|| format!("{}: `{v}` is not a number of seconds", self.name))
    }

    /// Records what `raw` says on `cred`: the instant, or why it cannot be read.
    pub fn record(
        &self,
        raw: Option<String>,
        cred: &mut crate::model::Credential,
        seen: DateTime<Utc>,
    ) {
        match raw.map(|r| self.at(&r, seen)) {
            Some(Ok(at)) => cred.expires_at = Some(at),
            Some(Err(why)) => cred.expiry_unread = Some(why),
            None => {}
        }
    }
}

/// The user object: at `sign_in` (a dotted path) in the sign-in answer, and the whole
/// answer of a GET of `request` inside the session.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserObject {
    pub sign_in: String,
    pub request: String,
    /// Credential parts by name, from these fields.
    #[serde(default)]
    pub parts: BTreeMap<String, String>,
    /// Long-lived secrets by name, from these fields.
    #[serde(default)]
    pub extras: BTreeMap<String, String>,
}

/// Where a credential part lives: the sign-in answer (JSON or header), web storage, cookies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartSpec {
    pub json: Option<String>,
    pub header: Option<String>,
    /// A field beside the token in a JSON cookie (`credential.cookie_json`) or storage value.
    pub beside: Option<String>,
    #[serde(default)]
    pub storage: Vec<StorageKey>,
    #[serde(default)]
    pub cookies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageKey {
    pub key: String,
    #[serde(default)]
    pub session: bool,
    pub json: Option<String>,
}

/// How a captured credential is presented again: as a cookie, or a header template.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Present {
    pub cookie: Option<String>,
    /// `Authorization: Bearer {token}`.
    pub header: Option<String>,
    /// Several header templates; one whose part the credential lacks is left out.
    #[serde(default)]
    pub headers: Vec<String>,
}
