//! `actioncable-room`: an ActionCable channel subscribed with the session's pubsub token,
//! as Chatwoot's dashboard does (`{channel, pubsub_token, account_id, user_id}`). The
//! channel never rejects: a bad token gets silence, which counts as a refusal only on a
//! socket shown alive by ActionCable's own pings through the wait.

use std::time::Duration;

use anyhow::{anyhow, bail};
use serde_json::{Value, json};

use crate::apps::{RealtimeLink, SocketLink, Target};
use crate::model::Acceptance;
use crate::model::Credential;
use crate::probe::ws::ws_url;
use crate::probe::{JsonSocket, Received};

/// ActionCable's JSON subprotocol.
const PROTOCOL: &str = "actioncable-v1-json";
/// How long a subscription may take to be confirmed.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(4);
/// ActionCable's server pings every connection this often (`BEAT_INTERVAL`).
const BEAT: Duration = Duration::from_secs(3);

/// How a subscription ended.
#[derive(Debug)]
enum Subscribed {
    Confirmed,
    Rejected,
    /// No confirmation within the window; `pings` counts keep-alives meanwhile.
    Silent {
        pings: u32,
    },
    Closed(String),
}

/// Opens the socket at `path` and subscribes to `channel` with the session's pubsub token.
async fn subscribe(
    t: &Target,
    path: &str,
    channel: &str,
    cred: &Credential,
) -> anyhow::Result<(JsonSocket, Subscribed)> {
    let pubsub = cred.extras.get("pubsub_token").ok_or_else(|| {
        anyhow!("no pubsub_token is known for this session (the user object could not be read)")
    })?;
    if cred.part("account_id").is_none() {
        bail!(
            "no account_id is known for this session: {channel} needs it and would stay silent without it"
        );
    }
    let url = ws_url(t.url(), path);
    let origin = t.url().origin().ascii_serialization();
    let mut ws = JsonSocket::connect(
        &url,
        t.config.insecure_tls,
        &[
            ("Sec-WebSocket-Protocol", PROTOCOL.to_string()),
            ("Origin", origin),
        ],
    )
    .await?;
    match ws
        .recv_until(
            Duration::from_secs(10),
            |m| m["type"] == "welcome",
            |_| None,
        )
        .await
    {
        Received::Message(_) => {}
        other => bail!("ActionCable on {url} sent no welcome: {other:?}"),
    }
    let number = |name: &str| {
        cred.part(name)
            .and_then(|v| v.expose().parse::<u64>().ok())
            .map(Value::from)
            .unwrap_or(Value::Null)
    };
    let identifier = json!({
        "channel": channel,
        "pubsub_token": pubsub.expose(),
        "account_id": number("account_id"),
        "user_id": number("user_id"),
    })
    .to_string();
    ws.send(&json!({"command": "subscribe", "identifier": identifier}))
        .await?;
    let wanted = |m: &Value| {
        matches!(
            m["type"].as_str(),
            Some("confirm_subscription" | "reject_subscription" | "ping")
        )
    };
    let started = tokio::time::Instant::now();
    let mut pings = 0u32;
    let outcome = loop {
        // Wait the subscribe window; without a ping by then, up to one more beat for one.
        let window = if pings == 0 {
            SUBSCRIBE_WAIT + BEAT
        } else {
            SUBSCRIBE_WAIT
        };
        let left = window.saturating_sub(started.elapsed());
        if left.is_zero() {
            break Subscribed::Silent { pings };
        }
        match ws.recv_until(left, wanted, |_| None).await {
            Received::Message(m) if m["type"] == "ping" => pings += 1,
            Received::Message(m) if m["type"] == "confirm_subscription" => {
                break Subscribed::Confirmed;
            }
            Received::Message(_) => break Subscribed::Rejected,
            Received::Closed(why) => break Subscribed::Closed(why),
            Received::TimedOut => {}
        }
    };
    Ok((ws, outcome))
}

/// A fresh subscription with `cred`: confirmed, or refused (rejected, or silent on a live socket).
pub async fn accepts(
    t: &Target,
    path: &str,
    channel: &str,
    cred: &Credential,
) -> anyhow::Result<Acceptance> {
    let (ws, outcome) = subscribe(t, path, channel, cred).await?;
    ws.close().await;
    let what = format!(
        "subscribe {channel} with the pubsub_token {}",
        cred.extras
            .get("pubsub_token")
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    Ok(match outcome {
        Subscribed::Confirmed => Acceptance {
            accepted: true,
            evidence: format!("{what} → confirm_subscription"),
        },
        Subscribed::Rejected => Acceptance {
            accepted: false,
            evidence: format!("{what} → reject_subscription"),
        },
        Subscribed::Silent { pings } if pings > 0 => Acceptance {
            accepted: false,
            evidence: format!(
                "{what} → no confirmation within {} s while the socket kept receiving pings ({pings})",
                SUBSCRIBE_WAIT.as_secs()
            ),
        },
        Subscribed::Silent { .. } => bail!(
            "{what} → no confirmation and no ActionCable ping either: the channel is silent, which proves nothing"
        ),
        Subscribed::Closed(why) => bail!(
            "{what} → the server closed the connection ({why}), which is not the channel's refusal"
        ),
    })
}

/// A confirmed subscription kept open to see whether the server ends it.
pub async fn open(
    t: &Target,
    path: &str,
    channel: &str,
    cred: &Credential,
) -> anyhow::Result<Box<dyn RealtimeLink>> {
    let (ws, outcome) = subscribe(t, path, channel, cred).await?;
    if !matches!(outcome, Subscribed::Confirmed) {
        ws.close().await;
        bail!(
            "the realtime channel did not confirm the session before the test began: {outcome:?}"
        );
    }
    Ok(SocketLink::boxed(
        ws,
        |m| {
            matches!(
                m["type"].as_str(),
                Some("disconnect" | "reject_subscription")
            )
        },
        |_| None,
    ))
}
