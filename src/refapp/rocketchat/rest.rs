//! `/api/v1/*` and friends, with Rocket.Chat's status codes and bodies.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::store::{LoginError, PasswordError, Session, User};
use super::{AppState, cookie_token, resume_reason};
use crate::facts::rocketchat as facts;
use crate::refapp::Weakness;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn with_cookies(mut resp: Response, cookies: impl IntoIterator<Item = String>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// REST authentication: `X-User-Id`/`X-Auth-Token` headers (real Rocket.Chat); the hardened
/// posture, whose page never sees the token, also accepts its own HttpOnly cookie.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Option<(User, String)> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let (Some(uid), Some(token)) = (h(facts::HEADER_USER_ID), h(facts::HEADER_AUTH_TOKEN)) {
        return state
            .store
            .authenticate(Some(&uid), &token)
            .map(|u| (u, token));
    }
    if state.behaviour.server_cookie.is_some() {
        let token = cookie_token(headers)?;
        return state.store.authenticate(None, &token).map(|u| (u, token));
    }
    None
}

fn not_logged_in() -> Response {
    reply(StatusCode::UNAUTHORIZED, facts::not_logged_in_body())
}

pub fn me_json(u: &User) -> Value {
    json!({
        "_id": u.id,
        "username": u.username,
        "name": u.name,
        "emails": [{"address": u.email, "verified": false}],
        "email": u.email,
        "status": "online",
        "statusConnection": "online",
        "active": u.is_active(),
        "roles": ["user"],
        "services": {"password": {"exists": true}},
        "requirePasswordChange": false,
        "settings": {"preferences": {}},
        "avatarUrl": format!("/avatar/{}", u.username),
    })
}

/// A Meteor.Error as the REST login reports it (legacy fields present before 9.0).
fn login_error(code: Value, reason: &str) -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({"status": "error", "error": code, "message": reason, "success": false}),
    )
}

fn session_cookies(state: &AppState, s: &Session) -> Vec<String> {
    state
        .behaviour
        .server_cookie
        .as_ref()
        .map(|c| c.set(&s.user_id, &s.token).to_vec())
        .unwrap_or_default()
}

/// `POST /api/v1/login`: `user`/`username`/`email` + `password`, or anything else passed
/// to Meteor's `login` unchanged (`{"resume": token}`).
pub async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let obj = crate::refapp::serve::body_object(&headers, &body);
    const PASSWORD_KEYS: [&str; 5] = ["user", "username", "email", "password", "code"];
    let password_form =
        obj.contains_key("password") && obj.keys().all(|k| PASSWORD_KEYS.contains(&k.as_str()));
    let result = if password_form {
        let login = ["user", "username", "email"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let digest = match obj.get("password") {
            Some(Value::String(p)) => facts::password_digest(p),
            Some(Value::Object(o)) => o
                .get("hashed")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        state
            .store
            .password_login(
                &login,
                &digest,
                cookie_token(&headers).as_deref(),
                &crate::refapp::lockout::claimed_address(&headers),
                true,
            )
            .map_err(|e| match e {
                LoginError::BlockedForUser => login_error(
                    json!(facts::ERR_BLOCKED_FOR_USER),
                    facts::MSG_BLOCKED_FOR_USER,
                ),
                LoginError::BlockedForIp => {
                    login_error(json!(facts::ERR_BLOCKED_FOR_IP), facts::MSG_BLOCKED_FOR_IP)
                }
                // Meteor 3: every password failure becomes 'User not found', which the REST
                // login reports as 401 Unauthorized (loginErrorMessageOverride.ts, ApiClass.ts).
                LoginError::UserNotFound | LoginError::IncorrectPassword => {
                    login_error(json!(facts::MSG_UNAUTHORIZED), facts::MSG_UNAUTHORIZED)
                }
            })
    } else if let Some(token) = obj.get("resume").and_then(Value::as_str) {
        state
            .store
            .resume(token)
            .map_err(|e| login_error(json!(403), resume_reason(&e)))
    } else {
        Err(login_error(json!(400), "Match failed"))
    };
    match result {
        Ok(s) => {
            let me = state
                .store
                .user(&s.user_id)
                .map(|u| me_json(&u))
                .unwrap_or(Value::Null);
            let resp = reply(
                StatusCode::OK,
                json!({"status": "success", "data": {"userId": s.user_id, "authToken": s.token, "me": me}, "success": true}),
            );
            with_cookies(resp, session_cookies(&state, &s))
        }
        Err(resp) => resp,
    }
}

/// `POST /api/v1/method.callAnon/login`: the web client's DDP login over REST.
pub async fn call_anon_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outer = crate::refapp::serve::body_object(&headers, &body);
    let inner: Value = outer
        .get("message")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null);
    let id = inner.get("id").cloned().unwrap_or(json!("1"));
    let params = inner.pointer("/params/0").cloned().unwrap_or(Value::Null);
    let (result, cookies) = match super::ddp::meteor_login(
        &state,
        &params,
        cookie_token(&headers).as_deref(),
        &crate::refapp::lockout::claimed_address(&headers),
    ) {
        Ok((s, kind)) => {
            let cookies = if state.behaviour.has(Weakness::LoginStoresNothing) {
                Vec::new()
            } else {
                session_cookies(&state, &s)
            };
            (
                json!({"msg": "result", "id": id, "result": super::ddp::login_result(&s, kind)}),
                cookies,
            )
        }
        Err(err) => (json!({"msg": "result", "id": id, "error": err}), Vec::new()),
    };
    let resp = reply(
        StatusCode::OK,
        json!({"message": result.to_string(), "success": true}),
    );
    with_cookies(resp, cookies)
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.behaviour.has(Weakness::RefusesEveryReplay) {
        return not_logged_in();
    }
    match authenticate(&state, &headers) {
        Some((u, _)) => {
            let mut body = me_json(&u);
            body["success"] = json!(true);
            reply(StatusCode::OK, body)
        }
        None => not_logged_in(),
    }
}

/// `POST|GET /api/v1/logout`: removes only the caller's token.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((user, token)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    if state.behaviour.logout_removes_token {
        state.store.remove_token(&token);
    }
    let resp = reply(
        StatusCode::OK,
        json!({"status": "success", "data": {"message": facts::MSG_LOGGED_OUT}, "success": true}),
    );
    let clear = match (
        &state.behaviour.server_cookie,
        state.behaviour.clear_cookies_on_logout,
    ) {
        // Weakened: the answer signs the browser into a new session of the same user.
        (Some(c), _) if state.behaviour.has(Weakness::LogoutSignsInAgain) => state
            .store
            .issue_for(&user.id)
            .map(|t| c.set(&user.id, &t).to_vec())
            .unwrap_or_default(),
        (Some(c), true) => c.clear().to_vec(),
        _ => Vec::new(),
    };
    with_cookies(resp, clear)
}

/// `POST /api/v1/users.updateOwnBasicInfo` with `data.newPassword`; `data.currentPassword`
/// (or `X-2fa-Code`) is the SHA-256 hex of the current password.
pub async fn update_own_basic_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((user, token)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let data = obj.get("data").cloned().unwrap_or(Value::Null);
    let Some(new_password) = data.get("newPassword").and_then(Value::as_str) else {
        let u = state
            .store
            .user(&user.id)
            .map(|u| me_json(&u))
            .unwrap_or(Value::Null);
        return reply(StatusCode::OK, json!({"user": u, "success": true}));
    };
    let code = data
        .get("currentPassword")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            headers
                .get("x-2fa-code")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    match state
        .store
        .change_password(&user.id, &token, code.as_deref(), new_password)
    {
        Ok(()) => {
            let u = state
                .store
                .user(&user.id)
                .map(|u| me_json(&u))
                .unwrap_or(Value::Null);
            reply(StatusCode::OK, json!({"user": u, "success": true}))
        }
        Err(PasswordError::CodeRequired) => reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": "TOTP Required [totp-required]", "errorType": "totp-required",
                   "details": {"method": "password", "codeGenerated": false}}),
        ),
        Err(PasswordError::CodeInvalid) => reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": "TOTP invalid [totp-invalid]", "errorType": "totp-invalid",
                   "details": {"method": "password"}}),
        ),
        Err(PasswordError::InHistory) => reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false,
                   "error": "Password has already been used [error-password-in-history]",
                   "errorType": "error-password-in-history"}),
        ),
        Err(PasswordError::SameAsCurrent) => reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false,
                   "error": "Password is same as current password [error-password-same-as-current]",
                   "errorType": "error-password-same-as-current"}),
        ),
    }
}

/// `POST /api/v1/users.removeOtherTokens`: keeps only the caller's token.
pub async fn remove_other_tokens(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((user, token)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    state.store.remove_other_tokens(&user.id, &token);
    reply(StatusCode::OK, json!({"success": true}))
}

/// `POST /api/v1/users.logoutOtherClients`: keeps the caller's token and answers it with
/// its expiry (Rocket.Chat computes `when + Accounts_LoginExpiration * 1000` ms, days
/// read as seconds; the stand-in answers the same arithmetic).
pub async fn logout_other_clients(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((user, token)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    let Some(when) = state.store.logout_other_clients(&user.id, &token) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": "Invalid user id [error-invalid-user-id]",
                   "errorType": "error-invalid-user-id"}),
        );
    };
    let days = state.behaviour.max_lifetime.as_secs_f64() / 86_400.0;
    let expires = when + chrono::Duration::milliseconds((days * 1000.0) as i64);
    reply(
        StatusCode::OK,
        json!({"token": token, "tokenExpires": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "success": true}),
    )
}

/// `POST /api/v1/users.setActiveStatus` `{userId, activeStatus}`: an administrator
/// (`edit-other-user-active-status`) activates or deactivates a user; deactivating unsets
/// the user's login tokens (`setUserActiveStatus`, `Users.unsetLoginTokens`).
pub async fn set_active_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((caller, _)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    if !state.store.is_admin(&caller.id) {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"}),
        );
    }
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let (Some(user_id), Some(active)) = (
        obj.get("userId").and_then(Value::as_str),
        obj.get("activeStatus").and_then(Value::as_bool),
    ) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": "must have required property 'userId' and 'activeStatus' [invalid-params]"}),
        );
    };
    match state.store.set_active(user_id, active) {
        Some(active) => reply(
            StatusCode::OK,
            json!({"user": {"_id": user_id, "active": active}, "success": true}),
        ),
        None => reply(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": "Invalid user [error-invalid-user]"}),
        ),
    }
}

/// `POST /api/v1/users.logout`: unsets all tokens of the caller (another user needs a permission).
pub async fn users_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((user, _)) = authenticate(&state, &headers) else {
        return not_logged_in();
    };
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let target = obj
        .get("userId")
        .and_then(Value::as_str)
        .unwrap_or(&user.id)
        .to_string();
    if target != user.id {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"success": false, "error": "unauthorized"}),
        );
    }
    state.store.remove_all_tokens(&target);
    reply(
        StatusCode::OK,
        json!({"message": format!("User {target} has been logged out!"), "success": true}),
    )
}

/// `GET /api/info` (unauthenticated).
pub async fn info() -> Response {
    reply(StatusCode::OK, json!({"success": true}))
}

/// `GET /health`.
pub async fn health() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response()
}
