//! `/cable`: ActionCable with RoomChannel subscriptions by `pubsub_token`. The
//! connection itself is unauthenticated (Chatwoot's `ApplicationCable::Connection`
//! is empty); a bad token gets no confirmation. As shipped, sockets are never closed
//! on sign-out or password change; the hardened posture closes them.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use crate::facts::chatwoot as facts;
use crate::refapp::Weakness;

pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.protocols([facts::CABLE_PROTOCOL])
        .on_upgrade(move |socket| connection(state, socket))
}

async fn send(socket: &mut WebSocket, v: Value) -> bool {
    socket.send(Message::text(v.to_string())).await.is_ok()
}

async fn connection(state: AppState, mut socket: WebSocket) {
    let mut revocations = state.store.revocations();
    let mut subscribed: Vec<String> = Vec::new();
    let mut ping = tokio::time::interval(facts::CABLE_BEAT);
    if !send(&mut socket, json!({"type": "welcome"})).await {
        return;
    }
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if !send(&mut socket, json!({"type": "ping", "message": chrono::Utc::now().timestamp()})).await {
                    return;
                }
            }
            revoked = revocations.recv() => {
                let Ok(pubsub) = revoked else { continue };
                if state.behaviour.close_sockets_on_revoke && subscribed.contains(&pubsub) {
                    let _ = send(&mut socket, json!({"type": "disconnect", "reason": "unauthorized", "reconnect": false})).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                if v["command"] != "subscribe" {
                    continue;
                }
                let identifier = v["identifier"].as_str().unwrap_or_default().to_string();
                let id: Value = serde_json::from_str(&identifier).unwrap_or(Value::Null);
                let pubsub = id["pubsub_token"].as_str().unwrap_or_default().to_string();
                let user_id = id["user_id"].as_u64();
                let account_id = id["account_id"].as_u64();
                // RoomChannel#subscribed raises on an unknown token or a missing account:
                // no confirmation at all.
                // Mirror cases: the socket lives (pings go on) but no subscription is confirmed.
                let silent = state.behaviour.has(Weakness::RealtimeSilent)
                    || state.behaviour.has(Weakness::RefusesEveryReplay);
                if id["channel"] == facts::ROOM_CHANNEL
                    && !silent
                    && state.store.pubsub_valid(&pubsub, user_id, account_id)
                {
                    subscribed.push(pubsub);
                    if !send(&mut socket, json!({"identifier": identifier, "type": "confirm_subscription"})).await {
                        return;
                    }
                }
            }
        }
    }
}
