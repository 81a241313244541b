//! `node-red-comms`: Node-RED's editor channel. A websocket on which the client's first
//! message is `{"auth": token}`; the server answers `{"auth": "ok"}`, or `{"auth": "fail"}`
//! and closes (`@node-red/editor-api/lib/editor/comms.js`, `handleAuthPacket`). When a
//! session expires the server sends `{"auth": "fail"}` on its open connections and closes
//! them (`handleSessionExpiry`); a revoked token only fails on the next connection.

use std::time::Duration;

use anyhow::bail;
use serde_json::{Value, json};

use crate::apps::{RealtimeLink, SocketLink, Target};
use crate::model::Acceptance;
use crate::model::Credential;
use crate::probe::ws::ws_url;
use crate::probe::{JsonSocket, Received};

/// How long the server may take to answer the auth packet (a token store read).
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// The server's answer to the auth packet.
#[derive(Debug)]
enum Auth {
    Ok,
    Fail,
    /// Closed without an answer.
    Closed(String),
}

/// The server's auth answer; every other message (topic batches arrive as arrays) is not one.
fn auth_answer(m: &Value) -> Option<&str> {
    m.get("auth").and_then(Value::as_str)
}

async fn authenticate(
    t: &Target,
    path: &str,
    cred: &Credential,
) -> anyhow::Result<(JsonSocket, Auth)> {
    let url = ws_url(t.url(), path);
    let mut ws = JsonSocket::connect(&url, t.config.insecure_tls, &[]).await?;
    ws.send(&json!({"auth": cred.token.expose()})).await?;
    let auth = match ws
        .recv_until(AUTH_WAIT, |m| auth_answer(m).is_some(), |_| None)
        .await
    {
        Received::Message(m) => match auth_answer(&m) {
            Some("ok") => Auth::Ok,
            Some("fail") => Auth::Fail,
            _ => bail!(
                "Node-RED's comms on {path} answered the auth packet with {}, neither \"ok\" nor \"fail\"",
                t.masker.scrub(&m.to_string())
            ),
        },
        Received::Closed(why) => Auth::Closed(why),
        Received::TimedOut => bail!(
            "Node-RED's comms on {path} did not answer the auth packet within {} s",
            AUTH_WAIT.as_secs()
        ),
    };
    Ok((ws, auth))
}

/// A fresh connection authenticated with `cred`: `ok`, or refused only with `fail`.
pub async fn accepts(t: &Target, path: &str, cred: &Credential) -> anyhow::Result<Acceptance> {
    let (ws, auth) = authenticate(t, path, cred).await?;
    ws.close().await;
    let what = format!("comms {path} {{auth: {}}}", cred.token);
    Ok(match auth {
        Auth::Ok => Acceptance {
            accepted: true,
            evidence: format!("{what} → {{auth: \"ok\"}}"),
        },
        Auth::Fail => Acceptance {
            accepted: false,
            evidence: format!("{what} → {{auth: \"fail\"}}"),
        },
        Auth::Closed(why) => bail!(
            "{what} → the server closed the connection without an answer ({why}), which is not the channel's refusal"
        ),
    })
}

/// An authenticated connection kept open to see whether the server ends it.
pub async fn open(
    t: &Target,
    path: &str,
    cred: &Credential,
) -> anyhow::Result<Box<dyn RealtimeLink>> {
    let (ws, auth) = authenticate(t, path, cred).await?;
    if !matches!(auth, Auth::Ok) {
        ws.close().await;
        bail!("the realtime channel refused the session before the test began: {auth:?}");
    }
    Ok(SocketLink::boxed(
        ws,
        |m| auth_answer(m) == Some("fail"),
        |_| None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_auth_field_is_an_answer() {
        assert_eq!(auth_answer(&json!({"auth": "ok"})), Some("ok"));
        assert_eq!(auth_answer(&json!({"auth": "fail"})), Some("fail"));
        assert_eq!(auth_answer(&json!([{"topic": "hb", "data": 1}])), None);
        assert_eq!(auth_answer(&json!({"topic": "auth"})), None);
    }
}
