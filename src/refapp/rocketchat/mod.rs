//! The Rocket.Chat reference target: REST, DDP and a web client page, with
//! Rocket.Chat's session behaviour (see `facts::rocketchat`).

pub mod behaviour;
pub mod ddp;
pub mod rest;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use self::behaviour::Behaviour;
use self::store::{ResumeError, Store};
use super::{RefApp, RefOptions, request_cookies};
use crate::facts::rocketchat as facts;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub behaviour: Arc<Behaviour>,
}

pub async fn start(opts: RefOptions) -> anyhow::Result<RefApp> {
    let behaviour = Arc::new(Behaviour::from_options(&opts));
    let store = Arc::new(Store::new(behaviour.clone()));
    let email = format!("{}@{}", opts.login, opts.host);
    store.add_user(&opts.login, &email, opts.password.expose());
    let (admin, admin_password) = &opts.admin;
    store.add_admin(
        admin,
        &format!("{admin}@{}", opts.host),
        admin_password.expose(),
    );

    let (https, http) = super::serve::bind(&opts).await?;
    let http_addr = http.local_addr()?;
    let state = AppState {
        store: store.clone(),
        behaviour: behaviour.clone(),
    };
    let serving = super::serve::Serving {
        app: app(state),
        hsts: behaviour.hsts,
        https_redirect: behaviour.https_redirect,
        cache_control: if opts.has(super::Weakness::CacheableSessionData) {
            super::serve::RAILS_DEFAULT_CACHE
        } else {
            super::serve::NO_STORE
        },
    };
    let spawned = super::serve::spawn(&opts, https, http, serving).await?;
    let mut tasks = spawned.tasks;
    // Meteor's `_expireTokens` interval.
    let interval = behaviour.sweep_interval;
    let sweep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.tick().await;
        loop {
            tick.tick().await;
            store.sweep();
        }
    });
    tasks.push(sweep.abort_handle());
    let mut app = RefApp::new(
        opts.app,
        spawned.https,
        http_addr,
        &opts.host,
        behaviour.label.clone(),
        tasks,
    );
    app.hardening.ca_pem = Some(spawned.ca_pem);
    app.servers.extend(spawned.front);
    Ok(app)
}

fn app(state: AppState) -> Router {
    Router::new()
        .route(facts::LOGIN, post(rest::login))
        .route(facts::ME, get(rest::me))
        .route(facts::LOGOUT, post(rest::logout).get(rest::logout))
        .route(
            facts::UPDATE_OWN_BASIC_INFO,
            post(rest::update_own_basic_info),
        )
        .route(facts::REMOVE_OTHER_TOKENS, post(rest::remove_other_tokens))
        .route(
            facts::LOGOUT_OTHER_CLIENTS,
            post(rest::logout_other_clients),
        )
        .route(facts::USERS_LOGOUT, post(rest::users_logout))
        .route(facts::SET_ACTIVE_STATUS, post(rest::set_active_status))
        .route(facts::METHOD_CALL_ANON_LOGIN, post(rest::call_anon_login))
        .route(facts::INFO, get(rest::info))
        .route(facts::HEALTH, get(rest::health))
        .route(facts::WEBSOCKET, get(ddp::upgrade))
        .fallback(page)
        .with_state(state)
}

/// Every other GET renders the single-page client, as Rocket.Chat does.
async fn page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"success": false, "error": "Not found"})),
        )
            .into_response();
    }
    let b = &state.behaviour;
    let config = json!({
        "serverCookie": b.server_cookie.is_some(),
        "clientCookies": b.client_cookies,
        "clientCookiesSecure": b.client_cookies_secure_on_https,
        "clearClientCookiesOnLogout": b.client_cookies && b.clear_cookies_on_logout,
        "webStorage": b.web_storage,
        "urlTokenLogin": b.url_token_login,
        // A real resume takes round trips; the form shows meanwhile.
        "linkLoginDelayMs": 1500,
        "silentLoginError": b.has(crate::refapp::Weakness::SilentLoginError),
        "storesNothing": b.has(crate::refapp::Weakness::LoginStoresNothing),
        "mixedContent": b.has(crate::refapp::Weakness::MixedContent),
        "credentialsOverHttp": b.has(crate::refapp::Weakness::CredentialsOverHttp),
        "tokenInUrl": b.has(crate::refapp::Weakness::TokenInUrl),
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rocket.Chat</title></head>\
         <body><div id=\"root\"></div>\
         <script id=\"refapp-config\" type=\"application/json\">{config}</script>\
         <script>{}</script></body></html>",
        concat!(include_str!("../traffic.js"), include_str!("client.js"))
    );
    let mut resp = Html(html).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // PHP and Rails give every visitor a session before sign-in; this one authenticates
    // nothing until a sign-in replaces it (or, weakened, adopts it).
    let anonymous = b.has(crate::refapp::Weakness::AnonymousSessionCookie)
        || b.has(crate::refapp::Weakness::AdoptsIssuedId);
    if anonymous && cookie_token(&headers).is_none() {
        let id = state.store.issue_anonymous();
        let cookie = match &b.server_cookie {
            Some(c) => format!("{}={id}{}", c.token_name(), c.style.attributes()),
            None => format!("{}={id}; path=/", facts::COOKIE_TOKEN),
        };
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The session token a request's cookies carry, if any (`rc_token` with any prefix).
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    request_cookies(headers)
        .into_iter()
        .find(|(k, v)| facts::is_token_cookie(k) && !v.is_empty())
        .map(|(_, v)| v)
}

/// The error message Meteor gives for a token it no longer resumes.
pub fn resume_reason(e: &ResumeError) -> &'static str {
    match e {
        ResumeError::LoggedOut => facts::MSG_LOGGED_OUT_BY_SERVER,
        ResumeError::Expired => facts::MSG_SESSION_EXPIRED,
    }
}
