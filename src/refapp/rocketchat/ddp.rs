//! `/websocket`: Meteor DDP with `connect`, `ping`, `login` (resume or password) and
//! `logout`. A socket is closed when its token is removed, as Rocket.Chat's
//! `processOnChange` does.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::store::{LoginError, Session};
use super::{AppState, cookie_token, resume_reason};
use crate::facts::rocketchat as facts;
use crate::refapp::Weakness;

/// A `Meteor.Error` as DDP carries it.
pub fn meteor_error(code: Value, reason: &str) -> Value {
    let code_text = match &code {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    json!({
        "isClientSafe": true,
        "error": code,
        "reason": reason,
        "message": format!("{reason} [{code_text}]"),
        "errorType": "Meteor.Error",
    })
}

/// The `login` method's result.
pub fn login_result(s: &Session, kind: &str) -> Value {
    json!({
        "id": s.user_id,
        "token": s.token,
        "tokenExpires": {"$date": s.expires.timestamp_millis()},
        "type": kind,
    })
}

/// Meteor's `login` method: `{resume}` or `{user, password: {digest, algorithm}}`.
pub fn meteor_login(
    state: &AppState,
    params: &Value,
    planted: Option<&str>,
    client: &str,
) -> Result<(Session, &'static str), Value> {
    if let Some(token) = params.get("resume").and_then(Value::as_str) {
        if state.behaviour.has(Weakness::RefusesEveryReplay) {
            return Err(meteor_error(json!(403), facts::MSG_LOGGED_OUT_BY_SERVER));
        }
        return state
            .store
            .resume(token)
            .map(|s| (s, "resume"))
            .map_err(|e| meteor_error(json!(403), resume_reason(&e)));
    }
    let user = params.get("user").cloned().unwrap_or(Value::Null);
    let login = ["username", "email"]
        .iter()
        .find_map(|k| user.get(*k).and_then(Value::as_str))
        .or_else(|| user.as_str())
        .unwrap_or_default();
    let digest = params
        .pointer("/password/digest")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if login.is_empty() || digest.is_empty() {
        return Err(meteor_error(json!(400), "Match failed"));
    }
    state
        .store
        .password_login(login, digest, planted, client, false)
        .map(|s| (s, "password"))
        .map_err(|e| match e {
            LoginError::BlockedForUser => meteor_error(
                json!(facts::ERR_BLOCKED_FOR_USER),
                facts::MSG_BLOCKED_FOR_USER,
            ),
            LoginError::BlockedForIp => {
                meteor_error(json!(facts::ERR_BLOCKED_FOR_IP), facts::MSG_BLOCKED_FOR_IP)
            }
            // Meteor 3 rewrites every password failure to this one error.
            LoginError::UserNotFound | LoginError::IncorrectPassword => {
                meteor_error(json!(401), facts::MSG_USER_NOT_FOUND)
            }
        })
}

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Hardened only: the page holds no token, so the socket is signed in by its HttpOnly cookie.
    let cookie_session = if state.behaviour.server_cookie.is_some() {
        cookie_token(&headers).and_then(|t| state.store.resume(&t).ok())
    } else {
        None
    };
    let client = crate::refapp::lockout::claimed_address(&headers);
    ws.on_upgrade(move |socket| connection(state, socket, cookie_session, client))
}

async fn send(socket: &mut WebSocket, v: Value) -> bool {
    socket.send(Message::text(v.to_string())).await.is_ok()
}

async fn connection(
    state: AppState,
    mut socket: WebSocket,
    mut session: Option<Session>,
    client: String,
) {
    let mut removals = state.store.removals();
    if !send(&mut socket, json!({"server_id": "0"})).await {
        return;
    }
    loop {
        tokio::select! {
            removed = removals.recv() => {
                let Ok(hash) = removed else { continue };
                if session.as_ref().is_some_and(|s| state.store.hash(&s.token) == hash)
                    && !state.behaviour.has(Weakness::RealtimeKeepsConnections)
                {
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
                if !handle(&state, &mut socket, &mut session, &v, &client).await {
                    return;
                }
            }
        }
    }
}

async fn handle(
    state: &AppState,
    socket: &mut WebSocket,
    session: &mut Option<Session>,
    v: &Value,
    client: &str,
) -> bool {
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    match v.get("msg").and_then(Value::as_str) {
        Some("connect") => {
            send(
                socket,
                json!({"msg": "connected", "session": super::store::random_id()}),
            )
            .await
        }
        Some("ping") => {
            let mut pong = json!({"msg": "pong"});
            if !id.is_null() {
                pong["id"] = id;
            }
            send(socket, pong).await
        }
        Some("method") => {
            let method = v.get("method").and_then(Value::as_str).unwrap_or_default();
            let params = v.pointer("/params/0").cloned().unwrap_or(Value::Null);
            // Mirror case: the socket lives (pings are answered) but sign-ins go unanswered.
            if method == "login" && state.behaviour.has(Weakness::RealtimeSilent) {
                return true;
            }
            let reply = match method {
                "login" => match meteor_login(state, &params, None, client) {
                    Ok((s, kind)) => {
                        let r =
                            json!({"msg": "result", "id": id, "result": login_result(&s, kind)});
                        *session = Some(s);
                        r
                    }
                    Err(e) => json!({"msg": "result", "id": id, "error": e}),
                },
                "logout" => {
                    // Meteor's logout destroys the connection's token and clears its user.
                    if let Some(s) = session.take()
                        && state.behaviour.logout_removes_token
                    {
                        state.store.remove_token(&s.token);
                    }
                    json!({"msg": "result", "id": id})
                }
                other => json!({"msg": "result", "id": id,
                                "error": meteor_error(json!(404), &format!("Method '{other}' not found"))}),
            };
            send(socket, reply).await
                && send(socket, json!({"msg": "updated", "methods": [v.get("id")]})).await
        }
        _ => true,
    }
}
