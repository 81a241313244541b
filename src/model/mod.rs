//! Data that flows between layers: what the browser held, and session credentials.
//!
//! Values of cookies and web storage are kept as [`Secret`]s: they may be
//! session tokens and must never be printed whole.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::secret::Secret;

mod app;
pub use app::{AppId, ProfileName, profile_apps, register_name};

/// The SameSite attribute as the browser recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Some(Self::Strict),
            "lax" => Some(Self::Lax),
            "none" | "no_restriction" => Some(Self::None),
            _ => None,
        }
    }
}

/// One cookie in the browser's jar, with the attributes the server or script set.
#[derive(Clone, Debug)]
pub struct BrowserCookie {
    pub name: String,
    pub value: Secret,
    /// As Chromium reports it: a leading dot means a Domain attribute was set.
    pub domain: String,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    /// `None` when no SameSite attribute was set (CDP omits it then).
    pub same_site: Option<SameSite>,
    /// Expiry as seconds since the epoch; `None` for a browser-session cookie.
    pub expires: Option<f64>,
}

impl BrowserCookie {
    /// True when the cookie was set without a Domain attribute.
    pub fn host_only(&self) -> bool {
        !self.domain.starts_with('.')
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires
            .and_then(|secs| DateTime::from_timestamp(secs as i64, 0))
    }

    /// One line for evidence, value masked.
    pub fn describe(&self) -> String {
        let mut attrs = vec![
            format!("Domain={}", self.domain),
            format!("Path={}", self.path),
        ];
        if self.secure {
            attrs.push("Secure".into());
        }
        if self.http_only {
            attrs.push("HttpOnly".into());
        }
        match self.same_site {
            Some(s) => attrs.push(format!("SameSite={s:?}")),
            None => attrs.push("SameSite unset".into()),
        }
        match self.expires_at() {
            Some(_) => attrs.push(format!("Expires={}", self.expiry_label())),
            None => attrs.push(self.expiry_label()),
        }
        format!("{}={} ({})", self.name, self.value, attrs.join("; "))
    }

    /// The expiry as evidence shows it: a UTC time, or `session cookie`.
    pub fn expiry_label(&self) -> String {
        match self.expires_at() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            None => "session cookie".into(),
        }
    }

    /// The cookie for the evidence report: every attribute, the value masked.
    pub fn seen(&self) -> CookieSeen {
        CookieSeen {
            name: self.name.clone(),
            value: self.value.masked(),
            domain: self.domain.clone(),
            path: self.path.clone(),
            secure: self.secure,
            http_only: self.http_only,
            same_site: self
                .same_site
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| "(not set)".into()),
            expires: self.expiry_label(),
        }
    }
}

/// Everything the browser held at one moment, read through WebDriver and CDP.
#[derive(Clone, Debug)]
pub struct Observation {
    pub url: String,
    pub cookies: Vec<BrowserCookie>,
    pub local_storage: BTreeMap<String, Secret>,
    pub session_storage: BTreeMap<String, Secret>,
    /// `document.cookie` as page script sees it.
    pub script_cookies: Secret,
    pub taken_at: DateTime<Utc>,
}

impl Observation {
    pub fn empty() -> Self {
        Self {
            url: String::new(),
            cookies: Vec::new(),
            local_storage: BTreeMap::new(),
            session_storage: BTreeMap::new(),
            script_cookies: Secret::new(""),
            taken_at: Utc::now(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&BrowserCookie> {
        self.cookies.iter().find(|c| c.name == name)
    }

    /// Every place in the browser whose value contains `needle`, e.g. `cookie rc_token`.
    pub fn places_holding(&self, needle: &str) -> Vec<String> {
        if needle.is_empty() {
            return Vec::new();
        }
        let holds = |v: &Secret| contains_possibly_encoded(v.expose(), needle);
        let mut places = Vec::new();
        for c in &self.cookies {
            if holds(&c.value) {
                places.push(format!("cookie {}", c.name));
            }
        }
        for (k, v) in &self.local_storage {
            if holds(v) {
                places.push(format!("localStorage {k}"));
            }
        }
        for (k, v) in &self.session_storage {
            if holds(v) {
                places.push(format!("sessionStorage {k}"));
            }
        }
        places
    }

    /// A summary for evidence: cookie names and storage keys, no values.
    pub fn summary(&self) -> String {
        let cookies: Vec<&str> = self.cookies.iter().map(|c| c.name.as_str()).collect();
        let local: Vec<&str> = self.local_storage.keys().map(String::as_str).collect();
        let session: Vec<&str> = self.session_storage.keys().map(String::as_str).collect();
        format!(
            "cookies [{}]; localStorage [{}]; sessionStorage [{}]",
            cookies.join(", "),
            local.join(", "),
            session.join(", ")
        )
    }
}

/// The head of an exchange's evidence (request and status, the start of the body), for
/// lines that quote it beside another; the whole exchange is in its own evidence line.
pub fn brief(evidence: &str) -> String {
    const MAX: usize = 100;
    if evidence.chars().count() <= MAX {
        return evidence.to_string();
    }
    let head: String = evidence.chars().take(MAX).collect();
    format!("{head}…")
}

/// True if `haystack` contains `needle` as is, or percent-encoded (cookie values often are).
pub fn contains_possibly_encoded(haystack: &str, needle: &str) -> bool {
    if haystack.contains(needle) {
        return true;
    }
    let decoded = percent_decode(haystack);
    decoded.contains(needle)
}

/// A value a script wrote with `encodeURI`/`encodeURIComponent`, decoded (`+` kept).
pub fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// An absolute expiry as applications write it: epoch seconds or milliseconds (a number
/// of 12 digits or more is milliseconds: seconds that large are past the year 5000),
/// fractional seconds, ISO 8601 with or without an offset (none: UTC), or an HTTP date.
pub fn read_expiry(raw: &str) -> Result<DateTime<Utc>, String> {
    let v = raw.trim().trim_matches('"').trim();
    let unreadable = || {
        format!(
            "`{v}` is not an expiry this suite reads (epoch seconds or milliseconds, ISO 8601, an HTTP date)"
        )
    };
    if let Ok(n) = v.parse::<i64>() {
        let at = if n.abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        return at.ok_or_else(unreadable);
    }
    if let Ok(f) = v.parse::<f64>()
        && f.is_finite()
    {
        return DateTime::from_timestamp_millis((f * 1000.0) as i64).ok_or_else(unreadable);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Ok(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(v) {
        return Ok(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f UTC",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(v, f) {
            return Ok(n.and_utc());
        }
    }
    if let Ok(d) = DateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f %z") {
        return Ok(d.with_timezone(&Utc));
    }
    Err(unreadable())
}

/// The `exp` claim of a JWT credential: the expiry it advertises to whoever holds it.
pub fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (header, claims) = (parts.next()?, parts.next()?);
    parts.next()?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value =
        serde_json::from_slice(&b64.decode(header.trim_end_matches('=')).ok()?).ok()?;
    header.get("alg")?;
    let claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(claims.trim_end_matches('=')).ok()?).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

/// A way a captured credential is presented to the application again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// The REST API's who-am-I request, with the session's headers or cookie.
    Api,
    /// The realtime channel (Rocket.Chat DDP resume, Chatwoot ActionCable subscription).
    Realtime,
    /// The long-lived tokens handed out with the session (Chatwoot's api_access_token).
    LongLived,
}

impl Channel {
    pub fn describe(self) -> &'static str {
        match self {
            Channel::Api => "the API",
            Channel::Realtime => "the realtime channel",
            Channel::LongLived => "the long-lived API token",
        }
    }
}

/// The positive control behind every refusal: how the credential fared over a
/// channel when it was captured, before anything was done to it.
#[derive(Clone, Debug)]
pub enum Baseline {
    Accepted {
        at: DateTime<Utc>,
        evidence: String,
    },
    Refused {
        evidence: String,
    },
    /// The attempt itself failed (network, unexpected answer): nothing was shown.
    Trouble {
        error: String,
    },
}

/// A captured session: the secret that identifies it and what the app needs with it.
#[derive(Clone)]
pub struct Credential {
    /// The session token (Rocket.Chat auth token, Chatwoot access-token).
    pub token: Secret,
    /// Other parts the app requires to accept it (Rocket.Chat user id; Chatwoot client, uid).
    pub parts: BTreeMap<&'static str, Secret>,
    /// Long-lived secrets handed out with the session (Chatwoot api_access_token, pubsub_token).
    pub extras: BTreeMap<&'static str, Secret>,
    /// Where it was found, e.g. `cookie rc_token`, `sign-in response`.
    pub found_in: Vec<String>,
    /// The expiry the app advertised to the client, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// An advertised expiry that could not be read: it guards every refusal of this
    /// credential, so a scenario that needs it ends in ERROR naming it.
    pub expiry_unread: Option<String>,
    /// When this side obtained it.
    pub obtained_at: DateTime<Utc>,
    /// The server's `Date` on the answer that handed it out (one-second resolution).
    pub answered_at: Option<DateTime<Utc>>,
    /// How it fared over each channel when captured (the positive controls).
    pub baselines: BTreeMap<Channel, Baseline>,
    /// The user's own cookies for the application, live: what requests made as the user
    /// present and update. Shared by every copy of this credential; `token` stays the
    /// value captured, which replays made as an attacker present.
    pub jar: crate::jar::LiveJar,
}

impl Credential {
    pub fn new(token: Secret, found_in: impl Into<String>) -> Self {
        Self {
            token,
            parts: BTreeMap::new(),
            extras: BTreeMap::new(),
            found_in: vec![found_in.into()],
            expires_at: None,
            expiry_unread: None,
            obtained_at: Utc::now(),
            answered_at: None,
            baselines: BTreeMap::new(),
            jar: crate::jar::new_live(),
        }
    }

    /// Seconds since capture, for evidence lines such as `accepted at 0.0s`.
    pub fn since_capture(&self, at: DateTime<Utc>) -> String {
        let ms = (at - self.obtained_at).num_milliseconds().max(0);
        format!("{:.1}s", ms as f64 / 1000.0)
    }

    /// The accepted use behind a refusal over `channel`: its evidence line, or why there is none.
    pub fn baseline(&self, channel: Channel) -> Result<String, String> {
        match self.baselines.get(&channel) {
            Some(Baseline::Accepted { at, evidence }) => Ok(format!(
                "accepted at {} ({evidence})",
                self.since_capture(*at)
            )),
            Some(Baseline::Refused { evidence }) => {
                Err(format!("it was already refused when captured: {evidence}"))
            }
            Some(Baseline::Trouble { error }) => {
                Err(format!("the control use when captured failed: {error}"))
            }
            None => Err("no control use was made when it was captured".into()),
        }
    }

    pub fn part(&self, name: &str) -> Option<&Secret> {
        self.parts.get(name)
    }

    pub fn with_part(mut self, name: &'static str, value: Secret) -> Self {
        self.parts.insert(name, value);
        self
    }

    /// Every secret this credential carries, for registering with the masker.
    pub fn secrets(&self) -> Vec<&Secret> {
        std::iter::once(&self.token)
            .chain(self.parts.values())
            .chain(self.extras.values())
            .collect()
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {}", self.token)?;
        for (k, v) in &self.parts {
            write!(f, ", {k} {v}")?;
        }
        if !self.found_in.is_empty() {
            write!(f, " (from {})", self.found_in.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({self})")
    }
}

/// Whether the application accepted a credential, and the exchange that shows it.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub accepted: bool,
    pub evidence: String,
}

/// A browser cookie as the evidence shows it: the value masked, attributes as Chromium reported them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieSeen {
    pub name: String,
    pub value: String,
    pub domain: String,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: String,
    pub expires: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs_with(cookie_value: &str, storage: &[(&str, &str)]) -> Observation {
        let mut o = Observation::empty();
        o.cookies.push(BrowserCookie {
            name: "c".into(),
            value: Secret::new(cookie_value),
            domain: "a.test".into(),
            path: "/".into(),
            secure: true,
            http_only: true,
            same_site: None,
            expires: None,
        });
        for (k, v) in storage {
            o.local_storage.insert((*k).into(), Secret::new(*v));
        }
        o
    }

    #[test]
    fn finds_token_in_encoded_cookie_and_storage() {
        let token = "abc+def/ghi";
        let o = obs_with(
            "%7B%22t%22%3A%22abc%2Bdef%2Fghi%22%7D",
            &[("k", "xx abc+def/ghi")],
        );
        assert_eq!(o.places_holding(token), vec!["cookie c", "localStorage k"]);
        assert!(o.places_holding("nothere").is_empty());
        assert!(o.places_holding("").is_empty());
    }

    #[test]
    fn describe_masks_the_value() {
        let o = obs_with("supersecretvalue1234", &[]);
        let d = o.cookies[0].describe();
        assert!(!d.contains("supersecretvalue1234"));
        assert!(d.contains("HttpOnly") && d.contains("SameSite unset"));
    }
}

/// One request that would change the account's password, sent without the right current
/// password: whether the application accepted it, and its masked answer.
#[derive(Clone, Debug)]
pub struct ChangeAttempt {
    /// `METHOD path`.
    pub request: String,
    /// Whether the request carried a current password at all (a wrong one) or none.
    pub carried_current: bool,
    pub accepted: bool,
    pub evidence: String,
}
