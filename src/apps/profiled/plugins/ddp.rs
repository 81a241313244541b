//! `meteor-ddp`: Meteor's realtime channel. A websocket speaking DDP, authenticated by
//! the `login {resume: token}` method; a removed or expired token gets Meteor's 403
//! errors, which are the channel's only refusal (accounts-base `_attemptLogin`).

use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::apps::{RealtimeLink, SocketLink, Target};
use crate::model::Acceptance;
use crate::model::{Credential, Observation};
use crate::probe::ws::ws_url;
use crate::probe::{JsonSocket, Received};
use crate::secret::Secret;

const DDP_WAIT: Duration = Duration::from_secs(10);

/// accounts-base's reasons for refusing a resume token.
const LOGGED_OUT_BY_SERVER: &str = "You've been logged out by the server. Please log in again.";
const SESSION_EXPIRED: &str = "Your session has expired. Please log in again.";

/// Where the Meteor client keeps the expiry it was given at login.
pub const STORAGE_TOKEN_EXPIRES: &str = "Meteor.loginTokenExpires";

/// Why a DDP `login {resume}` did not sign the connection in.
#[derive(Debug)]
enum ResumeFailure {
    /// A `Meteor.Error` in the method's result.
    Error { code: Value, reason: String },
    /// The server closed the socket instead of answering.
    Closed(String),
}

impl ResumeFailure {
    /// Meteor's refusal of a removed or expired token, as opposed to trouble.
    fn is_token_refusal(&self) -> bool {
        matches!(self, ResumeFailure::Error { code, reason }
            if code.as_u64() == Some(403)
                && (reason.contains(LOGGED_OUT_BY_SERVER) || reason.contains(SESSION_EXPIRED)))
    }
}

impl std::fmt::Display for ResumeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeFailure::Error { code, reason } => write!(f, "error {code} \"{reason}\""),
            ResumeFailure::Closed(why) => write!(f, "connection closed by the server ({why})"),
        }
    }
}

/// Answers DDP pings while waiting for something else.
fn pong(m: &Value) -> Option<Value> {
    (m["msg"] == "ping").then(|| json!({"msg": "pong"}))
}

/// Opens the websocket at `path`, completes the DDP handshake and sends `login {resume}`.
async fn resume(
    t: &Target,
    path: &str,
    token: &Secret,
) -> anyhow::Result<(JsonSocket, Result<Value, ResumeFailure>)> {
    let url = ws_url(t.url(), path);
    let mut ws = JsonSocket::connect(&url, t.config.insecure_tls, &[]).await?;
    ws.send(&json!({"msg": "connect", "version": "1", "support": ["1"]}))
        .await?;
    match ws
        .recv_until(
            DDP_WAIT,
            |m| m["msg"] == "connected" || m["msg"] == "failed",
            pong,
        )
        .await
    {
        Received::Message(m) if m["msg"] == "connected" => {}
        other => bail!("DDP handshake on {url} failed: {other:?}"),
    }
    ws.send(&json!({"msg": "method", "method": "login", "id": "sd-1", "params": [{"resume": token.expose()}]}))
        .await?;
    match ws
        .recv_until(
            DDP_WAIT,
            |m| m["msg"] == "result" && m["id"] == "sd-1",
            pong,
        )
        .await
    {
        Received::Message(m) => {
            let outcome = match m.get("error") {
                Some(e) => Err(ResumeFailure::Error {
                    code: e.get("error").cloned().unwrap_or(Value::Null),
                    reason: e
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                }),
                None => Ok(m.get("result").cloned().unwrap_or(Value::Null)),
            };
            Ok((ws, outcome))
        }
        Received::Closed(why) => Ok((ws, Err(ResumeFailure::Closed(why)))),
        Received::TimedOut => bail!("no answer to DDP login within {} s", DDP_WAIT.as_secs()),
    }
}

/// A fresh connection resumes `cred`: accepted, or refused only with Meteor's refusal.
pub async fn accepts(t: &Target, path: &str, cred: &Credential) -> anyhow::Result<Acceptance> {
    let (ws, outcome) = resume(t, path, &cred.token).await?;
    ws.close().await;
    Ok(match outcome {
        Ok(result) => Acceptance {
            accepted: true,
            evidence: t.masker.scrub(&format!(
                "DDP login {{resume}} on {path} → result type {}",
                result.get("type").cloned().unwrap_or(Value::Null)
            )),
        },
        Err(e) if e.is_token_refusal() => Acceptance {
            accepted: false,
            evidence: format!("DDP login {{resume}} on {path} → {e}"),
        },
        Err(e) => bail!(
            "DDP login {{resume}} on {path} answered {e}, which is not Meteor's refusal of a token"
        ),
    })
}

/// A connection signed in with `cred`, kept open to see whether the server ends it.
pub async fn open(
    t: &Target,
    path: &str,
    cred: &Credential,
) -> anyhow::Result<Box<dyn RealtimeLink>> {
    let (ws, outcome) = resume(t, path, &cred.token).await?;
    if let Err(e) = outcome {
        ws.close().await;
        bail!("the realtime channel refused the session before the test began: {e}");
    }
    // Nothing arrives on an idle DDP socket but pings; only a close ends the session.
    Ok(SocketLink::boxed(ws, |_| false, pong))
}

/// What the client was told about the session's expiry: the Meteor client's stored
/// expiry (from `obs`) and the DDP login result's `tokenExpires`.
pub async fn advertised_expiry(
    t: &Target,
    path: &str,
    cred: &Credential,
    obs: Option<&Observation>,
) -> anyhow::Result<Vec<(String, DateTime<Utc>)>> {
    let mut out = Vec::new();
    let stored = obs.and_then(|o| {
        [&o.local_storage, &o.session_storage]
            .iter()
            .find_map(|s| s.get(STORAGE_TOKEN_EXPIRES))
            .and_then(|v| parse_js_date(v.expose()))
    });
    if let Some(at) = stored {
        out.push((format!("localStorage {STORAGE_TOKEN_EXPIRES}"), at));
    }
    let (ws, outcome) = resume(t, path, &cred.token).await?;
    ws.close().await;
    // A refused resume leaves the expiry unread: that is no "nothing advertised".
    let result = outcome.map_err(|e| {
        anyhow!("could not read the advertised expiry: DDP login {{resume}} answered {e}")
    })?;
    match result
        .get("tokenExpires")
        .and_then(|v| v.get("$date"))
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
    {
        Some(at) => out.push(("DDP login result tokenExpires".to_string(), at)),
        None => bail!(
            "the DDP login result carries no readable tokenExpires: {}",
            t.masker.scrub(&result.to_string())
        ),
    }
    Ok(out)
}

/// `Meteor.loginTokenExpires` is a JavaScript `Date#toString()`; also accept ISO and epoch ms.
pub fn parse_js_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(ms) = s.trim().parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    // "Tue Feb 24 2026 10:00:00 GMT+0000 (Coordinated Universal Time)"
    let head: String = s.split(" (").next().unwrap_or(s).to_string();
    DateTime::parse_from_str(&head, "%a %b %d %Y %H:%M:%S GMT%z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meteor_token_expiry_strings() {
        let d = parse_js_date("Tue Feb 24 2026 10:00:00 GMT+0000 (Coordinated Universal Time)")
            .unwrap();
        assert_eq!(d.to_rfc3339(), "2026-02-24T10:00:00+00:00");
        assert!(parse_js_date("2026-02-24T10:00:00Z").is_some());
        assert!(parse_js_date("1771927200000").is_some());
        assert!(parse_js_date("soon").is_none());
    }

    #[test]
    fn only_meteors_reasons_are_a_refusal() {
        let e = |code: Value, reason: &str| ResumeFailure::Error {
            code,
            reason: reason.into(),
        };
        assert!(e(json!(403), SESSION_EXPIRED).is_token_refusal());
        assert!(e(json!(403), LOGGED_OUT_BY_SERVER).is_token_refusal());
        assert!(!e(json!(400), SESSION_EXPIRED).is_token_refusal());
        assert!(!e(json!(403), "Too many requests").is_token_refusal());
        assert!(!ResumeFailure::Closed("1006".into()).is_token_refusal());
    }
}
