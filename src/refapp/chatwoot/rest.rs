//! devise_token_auth's `/auth/*` and Chatwoot's `/api/v1/profile`, with the real
//! status codes, bodies and headers; Rack::Attack's sign-in throttle in front.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::AppState;
use super::rails;
use super::store::{Authed, user_json};
use crate::facts::chatwoot as facts;
use crate::refapp::Weakness;
use crate::refapp::request_cookies;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn add_headers(resp: &mut Response, pairs: &[(&str, String)]) {
    for (k, v) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
}

fn set_cookies(resp: &mut Response, cookies: impl IntoIterator<Item = String>) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The auth headers of a session, as devise_token_auth sends them (`update_auth_header`).
fn auth_headers(client: &str, token: &str, expiry: i64, uid: &str) -> Vec<(&'static str, String)> {
    let core = json!({
        facts::H_ACCESS_TOKEN: token, facts::H_TOKEN_TYPE: "Bearer", facts::H_CLIENT: client,
        facts::H_EXPIRY: expiry.to_string(), facts::H_UID: uid,
    });
    vec![
        (facts::H_ACCESS_TOKEN, token.to_string()),
        (facts::H_TOKEN_TYPE, "Bearer".to_string()),
        (facts::H_CLIENT, client.to_string()),
        (facts::H_EXPIRY, expiry.to_string()),
        (facts::H_UID, uid.to_string()),
        (
            facts::H_AUTHORIZATION,
            format!(
                "Bearer {}",
                base64::engine::general_purpose::STANDARD.encode(core.to_string())
            ),
        ),
    ]
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// (access-token, client, uid) from a cookie holding the auth headers as JSON.
fn from_cookie(
    headers: &HeaderMap,
    accept: impl Fn(&str) -> bool,
) -> Option<(String, String, String)> {
    request_cookies(headers)
        .into_iter()
        .filter(|(k, _)| accept(k))
        .find_map(|(_, v)| {
            let j: Value = serde_json::from_str(&url_decode(&v)).ok()?;
            let s = |k: &str| j.get(k).and_then(Value::as_str).map(str::to_string);
            Some((
                s(facts::H_ACCESS_TOKEN)?,
                s(facts::H_CLIENT)?,
                s(facts::H_UID)?,
            ))
        })
}

/// devise_token_auth authentication: headers; in the hardened posture also its HttpOnly cookie.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Option<Authed> {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let triple = match (h(facts::H_ACCESS_TOKEN), h(facts::H_UID)) {
        (Some(token), Some(uid)) => Some((
            token,
            h(facts::H_CLIENT).unwrap_or_else(|| "default".into()),
            uid,
        )),
        _ => state
            .behaviour
            .dta_cookie_name()
            .and_then(|name| from_cookie(headers, |k| k == name)),
    };
    let (token, client, uid) = triple?;
    state.store.authenticate(&uid, &client, &token)
}

fn echo(resp: &mut Response, a: &Authed) {
    add_headers(
        resp,
        &auth_headers(&a.client, &a.token, a.expiry.timestamp(), &a.user.email),
    );
}

/// `GET /api`.
pub async fn api_info() -> Response {
    reply(
        StatusCode::OK,
        json!({"version": "4.9.1", "timestamp": chrono::Utc::now().to_rfc3339(), "queue_services": "ok", "data_services": "ok"}),
    )
}

/// `POST /auth/sign_in`, behind Rack::Attack's `login/ip` throttle.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<crate::refapp::tls::Peer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if state.throttled(peer.0.ip()) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain")],
            facts::THROTTLED_BODY,
        )
            .into_response();
    }
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let email = obj.get("email").and_then(Value::as_str).unwrap_or_default();
    let password = obj
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let planted =
        from_cookie(&headers, crate::facts::chatwoot::is_header_cookie).map(|(t, c, _)| (t, c));
    let b = &state.behaviour;
    // Devise lockable, checked before the password as Warden's strategy does.
    let lock_key = if b.has(Weakness::ThrottleTrustsForwardedFor) {
        format!("ip:{}", crate::refapp::lockout::claimed_address(&headers))
    } else {
        format!("user:{}", email.trim().to_lowercase())
    };
    if let Some(p) = &b.lockable
        && state.failures.blocked(p, &lock_key)
    {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"success": false, "errors": [facts::MSG_LOCKED]}),
        );
    }
    let signed_in = state.store.sign_in(email, password, planted);
    if b.lockable.is_some() {
        match &signed_in {
            Some(_) => state.failures.succeeded(&lock_key),
            None => state.failures.failed(&lock_key),
        }
    }
    let Some((user, issued)) = signed_in else {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"success": false, "errors": [facts::MSG_BAD_CREDENTIALS]}),
        );
    };
    let mut resp = reply(
        StatusCode::OK,
        json!({"data": user_json(&user, &issued.pubsub)}),
    );
    add_headers(
        &mut resp,
        &auth_headers(
            &issued.client,
            &issued.token,
            issued.expiry.timestamp(),
            &user.email,
        ),
    );
    let mut cookies = Vec::new();
    // The cookie store rewrites the session at every sign-in (the CSRF token is cleaned),
    // so its value always changes; whether the id does depends on Warden's `store`.
    let mut session = rails::read(b, &headers).unwrap_or_else(rails::fresh);
    session = rails::new_csrf(session);
    if b.renew_session_at_sign_in {
        session = rails::renewed(session);
    }
    if b.session_holds_user {
        session = rails::with_user(session, user.id, rails::FIXED_SALT);
    }
    cookies.push(rails::set_cookie(b, &session));
    cookies.extend(rails::user_cookies(b, user.id));
    if let (Some(style), Some(name)) = (&b.dta_cookie, b.dta_cookie_name()) {
        let value = json!({
            facts::H_ACCESS_TOKEN: issued.token, facts::H_TOKEN_TYPE: "Bearer", facts::H_CLIENT: issued.client,
            facts::H_EXPIRY: issued.expiry.timestamp().to_string(), facts::H_UID: user.email,
        })
        .to_string();
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        cookies.push(format!("{name}={encoded}{}", style.attributes()));
    }
    set_cookies(&mut resp, cookies);
    resp
}

/// `DELETE /auth/sign_out`: deletes this client's token and resets the Rails session.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(a) = authenticate(&state, &headers) else {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"success": false, "errors": [facts::MSG_SIGN_OUT_NOT_FOUND]}),
        );
    };
    let b = &state.behaviour;
    if b.sign_out_removes_token {
        state.store.sign_out(a.user.id, &a.client);
    }
    let mut resp = reply(StatusCode::OK, json!({"success": true}));
    let mut cookies = vec![rails::set_cookie(b, &rails::fresh())];
    cookies.extend(rails::clear_user_cookies());
    if let (Some(style), Some(name), true) = (
        &b.dta_cookie,
        b.dta_cookie_name(),
        b.clear_cookies_on_sign_out,
    ) {
        cookies.push(format!("{name}={}; max-age=0", style.attributes()));
    }
    set_cookies(&mut resp, cookies);
    resp
}

/// `GET /auth/validate_token`: what the dashboard calls at start.
pub async fn validate_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.behaviour.has(Weakness::RefusesEveryReplay) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"success": false, "errors": [facts::MSG_VALIDATE_INVALID]}),
        );
    }
    match authenticate(&state, &headers) {
        Some(a) => {
            let mut data = user_json(&a.user, &a.pubsub);
            data["created_at"] = json!("2026-01-01T00:00:00.000Z");
            let mut resp = reply(
                StatusCode::OK,
                json!({"payload": {"success": true, "data": data}}),
            );
            echo(&mut resp, &a);
            resp
        }
        None => reply(
            StatusCode::UNAUTHORIZED,
            json!({"success": false, "errors": [facts::MSG_VALIDATE_INVALID]}),
        ),
    }
}

/// `GET /api/v1/profile`: devise_token_auth headers or the permanent `api_access_token`.
pub async fn profile(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = headers
        .get(facts::H_API_ACCESS_TOKEN)
        .and_then(|v| v.to_str().ok())
    {
        let found = state
            .store
            .by_api_token(token)
            .filter(|_| !state.behaviour.has(Weakness::RefusesEveryReplay));
        return match found {
            Some(u) => reply(StatusCode::OK, user_json(&u, &u.pubsub_token)),
            None => reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": facts::MSG_INVALID_ACCESS_TOKEN}),
            ),
        };
    }
    match authenticate(&state, &headers) {
        Some(a) => {
            let mut resp = reply(StatusCode::OK, user_json(&a.user, &a.pubsub));
            echo(&mut resp, &a);
            resp
        }
        None => not_signed_in(),
    }
}

/// `PUT /api/v1/profile` with `profile.current_password`: the password change.
pub async fn update_profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(a) = authenticate(&state, &headers) else {
        return not_signed_in();
    };
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let p = obj.get("profile").cloned().unwrap_or(Value::Null);
    let field = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (current, new, confirmation) = (
        field("current_password"),
        field("password"),
        field("password_confirmation"),
    );
    if new.is_empty() {
        return reply(StatusCode::OK, user_json(&a.user, &a.pubsub));
    }
    if new != confirmation {
        return reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Password confirmation doesn't match Password", "attributes": ["password_confirmation"]}),
        );
    }
    match state
        .store
        .change_password(a.user.id, &a.client, Some(&current), &new)
    {
        Err(super::store::WrongCurrentPassword) => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": facts::MSG_BAD_CURRENT_PASSWORD}),
        ),
        Ok(survived) => changed(&state, &a, survived, |user| user),
    }
}

/// `PUT /auth`, devise_token_auth's registrations#update: the account's own update. A new
/// password needs `current_password` only when it is sent, unless the deployment set
/// `check_current_password_before_update` (hardened); then a missing one is "blank".
pub async fn account_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(a) = authenticate(&state, &headers) else {
        return not_signed_in();
    };
    let obj = crate::refapp::serve::body_object(&headers, &body);
    let field = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(new) = field("password") else {
        return reply(
            StatusCode::OK,
            json!({"status": "success", "data": user_json(&a.user, &a.pubsub)}),
        );
    };
    let invalid = |what: &str| {
        reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": "error", "errors": {"current_password": [what],
                   "full_messages": [format!("Current password {what}")]}}),
        )
    };
    if field("password_confirmation").as_deref() != Some(new.as_str()) {
        return reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": "error", "errors": {"password_confirmation": ["doesn't match Password"],
                   "full_messages": ["Password confirmation doesn't match Password"]}}),
        );
    }
    let current = field("current_password");
    let checks = state.behaviour.account_update_checks_current;
    if checks && current.as_deref().unwrap_or_default().is_empty() {
        return invalid("can't be blank");
    }
    match state
        .store
        .change_password(a.user.id, &a.client, current.as_deref(), &new)
    {
        Err(super::store::WrongCurrentPassword) => invalid("is invalid"),
        Ok(survived) => changed(
            &state,
            &a,
            survived,
            |user| json!({"status": "success", "data": user}),
        ),
    }
}

/// The answer to a password change: the user as it is now, in `wrap`'s shape, with the
/// auth headers only when the caller's own token survived the change.
fn changed(
    state: &AppState,
    a: &Authed,
    survived: bool,
    wrap: impl FnOnce(Value) -> Value,
) -> Response {
    let user = state
        .store
        .user(a.user.id)
        .unwrap_or_else(|| a.user.clone());
    let mut resp = reply(StatusCode::OK, wrap(user_json(&user, &user.pubsub_token)));
    if survived {
        echo(&mut resp, a);
    }
    resp
}

/// Devise's answer to a request without a valid session.
fn not_signed_in() -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({"errors": [facts::MSG_AUTHENTICATE_ERROR]}),
    )
}
