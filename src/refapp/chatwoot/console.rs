//! A Devise-style console on the Chatwoot stand-in, whose credential is the Rails session
//! cookie itself, as in every Rails application with Devise's default session sign-in
//! (Chatwoot's own is its Super Admin console). It is not Chatwoot's UI: it exists so the
//! self-check can drive a cookie-credential profile (`tests/selfcheck/console.toml`)
//! against a stand-in, and prove that requests made as the user follow the cookie the
//! application re-issues:
//!
//! - `csrf-in-session`: the CSRF token lives in the cookie, is dropped at sign-in
//!   (Devise's `clean_up_csrf_token_on_authentication`) and put back, re-issuing the
//!   cookie, by the next page that renders it; a request carrying an older cookie fails
//!   CSRF verification (422). Without it the token survives sign-in.
//! - `sliding-session`: the idle timer lives in the cookie (Devise `timeoutable` with the
//!   cookie store keeps `last_request_at` in the session), re-issued on every use; an
//!   older copy looks idle. Without it the last use is kept on the server.
//!
//! Sign-out ends the session on the server (a list of live session ids), so replays are
//! judged against real revocation; a password change ends the others as Devise does, by
//! the password's salt that Warden keeps in the session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use super::rails::{self, Session, USER_KEY};
use crate::refapp::Weakness;

pub const SIGN_IN: &str = "/console/sign_in";
pub const HOME: &str = "/console";
pub const SIGN_OUT: &str = "/console/sign_out";
pub const PASSWORD: &str = "/console/password";

const TIMEOUTABLE: &str = "warden.user.user.session";
const CSRF: &str = "_csrf_token";
const REFUSED: &str = "Invalid Email or password.";
const CSRF_FAILED: &str = "Can't verify CSRF token authenticity.";

/// A session the server knows to be signed in.
struct Live {
    user_id: u64,
    created: Instant,
    last_used: Instant,
}

/// The console's live sessions by session id.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Live>>);

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(SIGN_IN, get(sign_in_page).post(sign_in))
        .route(HOME, get(home))
        .route(SIGN_OUT, axum::routing::delete(sign_out).post(sign_out))
        .route(PASSWORD, axum::routing::put(password).post(password))
}

fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

fn session_id(s: &Session) -> String {
    s.get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The user the session holds and the password salt it was signed in with.
fn user_in(s: &Session) -> Option<(u64, String)> {
    let key = s.get(USER_KEY)?;
    Some((
        key.get(0)?.get(0)?.as_u64()?,
        key.get(1)?.as_str()?.to_string(),
    ))
}

/// The session holding `uid` with the salt of its password now.
fn hold_user(state: &AppState, s: Session, uid: u64) -> Session {
    let salt = state.store.session_salt(uid).unwrap_or_default();
    rails::with_user(s, uid, &salt)
}

/// The request's session and, if it is signed in and neither idle nor past its
/// lifetime, its user. An ended session is signed out of the cookie, as Devise does.
fn current(state: &AppState, headers: &HeaderMap) -> (Option<Session>, Session, Option<u64>) {
    let b = &state.behaviour;
    let sent = rails::read(b, headers);
    let mut s = sent.clone().unwrap_or_else(rails::fresh);
    let Some((uid, salt)) = user_in(&s) else {
        return (sent, s, None);
    };
    // Devise's `serialize_from_session` compares the salt (unless weakened).
    let salt_ok = b.has(Weakness::PasswordChangeKeepsSessions)
        || state.store.session_salt(uid).as_deref() == Some(salt.as_str());
    let id = session_id(&s);
    let sliding = b.has(Weakness::SlidingSession);
    let mut live = state.console.lock();
    let alive = live.get(&id).is_some_and(|l| {
        let idle_since = if sliding {
            let last = s
                .get(TIMEOUTABLE)
                .and_then(|t| t.get("last_request_at"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            std::time::Duration::from_secs_f64((now_secs() - last).max(0.0))
        } else {
            l.last_used.elapsed()
        };
        salt_ok
            && l.user_id == uid
            && l.created.elapsed() < b.lifespan
            && b.idle_timeout.is_none_or(|t| idle_since < t)
    });
    if !alive {
        live.remove(&id);
        s.remove(USER_KEY);
        s.remove(TIMEOUTABLE);
        return (sent, s, None);
    }
    if let Some(l) = live.get_mut(&id) {
        l.last_used = Instant::now();
    }
    if sliding {
        s.insert(TIMEOUTABLE.into(), json!({ "last_request_at": now_secs() }));
    }
    (sent, s, Some(uid))
}

/// The session's CSRF token, put in when missing (as `csrf_meta_tags` and
/// `form_authenticity_token` do).
fn csrf_token(s: &mut Session) -> String {
    if s.get(CSRF).and_then(Value::as_str).is_none() {
        let fresh = rails::fresh();
        s.insert(CSRF.into(), fresh[CSRF].clone());
    }
    s.get(CSRF)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn csrf_ok(s: &Session, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| form.get("authenticity_token").cloned());
    matches!(
        (s.get(CSRF).and_then(Value::as_str), given.as_deref()),
        (Some(a), Some(b)) if a == b
    )
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The answer, with the session cookie re-issued when the session changed.
fn answer(state: &AppState, sent: &Option<Session>, s: &Session, mut resp: Response) -> Response {
    if sent.as_ref() != Some(s)
        && let Ok(v) = HeaderValue::from_str(&rails::set_cookie(&state.behaviour, s))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A 422 with Rails' message, the session as it stands.
fn unprocessable(state: &AppState, sent: &Option<Session>, s: &Session, why: &str) -> Response {
    let resp = (StatusCode::UNPROCESSABLE_ENTITY, why.to_string()).into_response();
    answer(state, sent, s, resp)
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn page(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>\
         <body><h1>{title}</h1>{body}</body></html>"
    )
}

fn sign_in_form(token: &str, alert: &str) -> Html<String> {
    Html(page(
        "Console sign-in",
        "",
        &format!(
            "<p class=\"alert\">{alert}</p>\
             <form action=\"{SIGN_IN}\" method=\"post\">\
             <input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\">\
             <input type=\"email\" id=\"user_email\" name=\"user[email]\">\
             <input type=\"password\" id=\"user_password\" name=\"user[password]\">\
             <input type=\"submit\" name=\"commit\" value=\"Log in\"></form>"
        ),
    ))
}

async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (sent, mut s, user) = current(&state, &headers);
    if user.is_some() {
        // Devise's `require_no_authentication`.
        return answer(&state, &sent, &s, redirect(HOME));
    }
    let token = csrf_token(&mut s);
    answer(&state, &sent, &s, sign_in_form(&token, "").into_response())
}

async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (sent, mut s, _) = current(&state, &headers);
    let f = form(&body);
    if !csrf_ok(&s, &headers, &f) {
        return unprocessable(&state, &sent, &s, CSRF_FAILED);
    }
    let (email, pass) = (
        f.get("user[email]").cloned().unwrap_or_default(),
        f.get("user[password]").cloned().unwrap_or_default(),
    );
    let Some(uid) = state.store.check_password(&email, &pass) else {
        // Devise's failure app re-renders the form with the flash.
        let token = csrf_token(&mut s);
        return answer(
            &state,
            &sent,
            &s,
            sign_in_form(&token, REFUSED).into_response(),
        );
    };
    let b = &state.behaviour;
    // Warden renews the id at sign-in; the token goes unless kept (Devise's setting).
    let mut s = hold_user(&state, rails::renewed(s), uid);
    if b.has(Weakness::CsrfInSession) {
        s.remove(CSRF);
    }
    if b.has(Weakness::SlidingSession) {
        s.insert(TIMEOUTABLE.into(), json!({ "last_request_at": now_secs() }));
    }
    let now = Instant::now();
    state.console.lock().insert(
        session_id(&s),
        Live {
            user_id: uid,
            created: now,
            last_used: now,
        },
    );
    answer(&state, &sent, &s, redirect(HOME))
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (sent, mut s, user) = current(&state, &headers);
    if user.is_none() {
        return answer(&state, &sent, &s, redirect(SIGN_IN));
    }
    let token = csrf_token(&mut s);
    let html = page(
        "Console",
        &format!(
            "<meta name=\"csrf-param\" content=\"authenticity_token\">\
             <meta name=\"csrf-token\" content=\"{token}\">"
        ),
        &format!(
            "<form action=\"{SIGN_OUT}\" method=\"post\">\
             <input type=\"hidden\" name=\"_method\" value=\"delete\">\
             <input type=\"hidden\" name=\"authenticity_token\" value=\"{token}\">\
             <button type=\"submit\">Sign out</button></form>"
        ),
    );
    answer(&state, &sent, &s, Html(html).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (sent, s, _) = current(&state, &headers);
    if !csrf_ok(&s, &headers, &form(&body)) {
        return unprocessable(&state, &sent, &s, CSRF_FAILED);
    }
    state.console.lock().remove(&session_id(&s));
    // `reset_session`: a new, empty session.
    let fresh = rails::fresh();
    let done = if method == Method::DELETE {
        StatusCode::NO_CONTENT.into_response()
    } else {
        redirect(SIGN_IN)
    };
    answer(&state, &sent, &fresh, done)
}

async fn password(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (sent, s, user) = current(&state, &headers);
    let Some(uid) = user else {
        return answer(&state, &sent, &s, redirect(SIGN_IN));
    };
    let f = form(&body);
    if !csrf_ok(&s, &headers, &f) {
        return unprocessable(&state, &sent, &s, CSRF_FAILED);
    }
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let new = get("user[password]");
    if new.is_empty() || new != get("user[password_confirmation]") {
        return unprocessable(&state, &sent, &s, "Password confirmation doesn't match");
    }
    if state
        .store
        .change_password(uid, "", Some(&get("user[current_password]")), &new)
        .is_err()
    {
        return unprocessable(&state, &sent, &s, "Current password is invalid");
    }
    // `bypass_sign_in` stores the user again with the new salt: this cookie is re-issued,
    // and every older one (this session's included) holds the old salt.
    let s = hold_user(&state, s, uid);
    answer(&state, &sent, &s, redirect(HOME))
}
