//! `rails-cookie`: the Rails 7 session cookie (encrypted with a key derived from
//! SECRET_KEY_BASE). Opened with the deployment's configured secret or a publicly known
//! one, to read its session id and whether it holds the signed-in user; and judged for
//! being sealed with a publicly known secret at all.

use serde_json::Value;

use crate::apps::{ServerSession, Target};
use crate::checks::{Verdict, rails_cookie};
use crate::model::Observation;
use crate::profile::client::same_cookie;
use crate::profile::schema;

/// The session in the cookie `value`, if a known secret opens it.
pub fn open(t: &Target, spec: &schema::ServerSession, value: &str) -> Option<ServerSession> {
    let value = crate::model::percent_decode(value);
    let mut secrets: Vec<(String, String)> = t
        .config
        .secret_key_base
        .iter()
        .map(|k| {
            (
                k.expose().to_string(),
                "the configured SECRET_KEY_BASE".to_string(),
            )
        })
        .collect();
    secrets.extend(rails_cookie::known_secrets().into_iter().map(|k| {
        (
            k.value,
            format!("the publicly known SECRET_KEY_BASE from {}", k.source),
        )
    }));
    secrets.iter().find_map(|(secret, source)| {
        let (json, _) = rails_cookie::open(secret, &spec.cookie, &value)?;
        let session: Value = serde_json::from_str(&json).ok()?;
        Some(ServerSession {
            id: session.get("session_id")?.as_str()?.to_string(),
            holds_user: session.get(&spec.user_key).is_some(),
            opened_with: source.clone(),
        })
    })
}

/// Whether the session cookie or the signed cookies beside it open with a publicly known secret.
pub fn known_secret_verdict(spec: &schema::ServerSession, obs: &Observation) -> Verdict {
    // Full names: Rails' purpose names the cookie with its `__Host-` prefix.
    let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<(String, String)> {
        obs.cookies
            .iter()
            .filter(|c| pred(&c.name))
            .map(|c| {
                (
                    c.name.clone(),
                    crate::model::percent_decode(c.value.expose()),
                )
            })
            .collect()
    };
    let encrypted = pick(&|n| same_cookie(n, &spec.cookie));
    let signed = pick(&|n| spec.signed.iter().any(|s| same_cookie(n, s)));
    let looked_for = std::iter::once(spec.cookie.as_str())
        .chain(spec.signed.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(", ");
    rails_cookie::judge(
        &encrypted,
        &signed,
        &rails_cookie::known_secrets(),
        &looked_for,
    )
}
