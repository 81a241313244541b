//! The Rails side of the Chatwoot stand-in: the `_chatwoot_session` cookie in the real
//! Rails 7 encrypted format (sealed with the configured SECRET_KEY_BASE) and the
//! signed `user.id`/`user.expires_at` cookies Chatwoot's warden hook writes.

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::behaviour::Behaviour;
use crate::checks::rails_cookie;
use crate::facts::chatwoot as facts;
use crate::refapp::request_cookies;

pub type Session = Map<String, Value>;

/// A new session as Rails starts one: a 32-hex id and a CSRF token.
pub fn fresh() -> Session {
    let mut id = [0u8; 16];
    let mut csrf = [0u8; 32];
    rand::fill(&mut id[..]);
    rand::fill(&mut csrf[..]);
    let mut s = Map::new();
    s.insert(
        "session_id".into(),
        json!(id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    );
    s.insert(
        "_csrf_token".into(),
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(csrf)),
    );
    s
}

/// The same session with a new CSRF token (Rails cleans it when a user authenticates).
pub fn new_csrf(mut s: Session) -> Session {
    let new = fresh();
    s.insert("_csrf_token".into(), new["_csrf_token"].clone());
    s
}

/// The same data under a new session id (Warden renews the id when a user signs in).
pub fn renewed(mut s: Session) -> Session {
    let new = fresh();
    s.insert("session_id".into(), new["session_id"].clone());
    s
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The session the request's cookie carries, if it opens with this deployment's secret.
pub fn read(b: &Behaviour, headers: &HeaderMap) -> Option<Session> {
    let name = b.rails_cookie_name();
    let value = request_cookies(headers)
        .into_iter()
        .find(|(k, _)| *k == name)?
        .1;
    let (json, _) = rails_cookie::open(
        &b.secret_key_base,
        facts::COOKIE_RAILS_SESSION,
        &url_decode(&value),
    )?;
    serde_json::from_str::<Value>(&json)
        .ok()?
        .as_object()
        .cloned()
}

/// `Set-Cookie` for the session, sealed with a fresh IV.
pub fn set_cookie(b: &Behaviour, s: &Session) -> String {
    let json = Value::Object(s.clone()).to_string();
    let sealed = if b.legacy_cookie_format {
        let mut iv = [0u8; 16];
        rand::fill(&mut iv[..]);
        rails_cookie::seal_cbc(&b.secret_key_base, &json, iv)
    } else {
        let mut iv = [0u8; 12];
        rand::fill(&mut iv[..]);
        rails_cookie::seal(&b.secret_key_base, facts::COOKIE_RAILS_SESSION, &json, iv)
    };
    let encoded: String = url::form_urlencoded::byte_serialize(sealed.as_bytes()).collect();
    format!(
        "{}={encoded}{}",
        b.rails_cookie_name(),
        b.rails_cookie.attributes()
    )
}

/// Where Warden keeps the signed-in user in the session.
pub const USER_KEY: &str = "warden.user.user.key";

/// A fixed `authenticatable_salt`, for sessions whose salt nothing compares.
pub const FIXED_SALT: &str = "$2a$11$sessiondrillreferencesalt0";

/// Warden's serialized user: `[[id], "<first 29 characters of the bcrypt hash>"]`.
pub fn with_user(mut s: Session, user_id: u64, salt: &str) -> Session {
    s.insert(USER_KEY.into(), json!([[user_id], salt]));
    s
}

/// The signed cookies `warden_hooks.rb` writes at sign-in (expires_at: now + 30 minutes).
pub fn user_cookies(b: &Behaviour, user_id: u64) -> Vec<String> {
    let secure = if b.rails_cookie.secure {
        "; secure"
    } else {
        ""
    };
    let expires_at = (chrono::Utc::now() + chrono::Duration::minutes(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    [
        (facts::COOKIE_USER_ID, user_id.to_string()),
        (
            facts::COOKIE_USER_EXPIRES_AT,
            Value::String(expires_at).to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, value_json)| {
        let signed: String = url::form_urlencoded::byte_serialize(
            rails_cookie::sign(&b.secret_key_base, name, &value_json).as_bytes(),
        )
        .collect();
        format!("{name}={signed}; path=/{secure}")
    })
    .collect()
}

/// Deletes the signed user cookies (warden logout hook).
pub fn clear_user_cookies() -> Vec<String> {
    [facts::COOKIE_USER_ID, facts::COOKIE_USER_EXPIRES_AT]
        .iter()
        .map(|n| format!("{n}=; path=/; max-age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT"))
        .collect()
}
