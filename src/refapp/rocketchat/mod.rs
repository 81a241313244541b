//! The Rocket.Chat reference target: REST, DDP and a web client page, with
//! Rocket.Chat's session behaviour (see `apps::rocketchat::facts`).

pub mod behaviour;
pub mod ddp;
pub mod rest;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;

use self::behaviour::Behaviour;
use self::store::Store;
use super::{RefApp, RefOptions};
use crate::apps::rocketchat::facts;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub behaviour: Arc<Behaviour>,
    pub host: String,
    pub https_port: u16,
}

const HSTS: &str = "max-age=63072000; includeSubDomains";

pub async fn start(opts: RefOptions) -> anyhow::Result<RefApp> {
    let behaviour = Arc::new(Behaviour::from_options(&opts));
    let store = Arc::new(Store::new(behaviour.clone()));
    let email = format!("{}@{}", opts.login, opts.host);
    store.add_user(&opts.login, &email, opts.password.expose());

    let https = TcpListener::bind(SocketAddr::new(opts.bind, opts.https_port))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}:{} for HTTPS: {e}",
                opts.bind,
                opts.https_port
            )
        })?;
    let http = TcpListener::bind(SocketAddr::new(opts.bind, opts.http_port))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}:{} for HTTP: {e}",
                opts.bind,
                opts.http_port
            )
        })?;
    let https_addr = https.local_addr()?;
    let http_addr = http.local_addr()?;
    let state = AppState {
        store: store.clone(),
        behaviour: behaviour.clone(),
        host: opts.host.clone(),
        https_port: https_addr.port(),
    };

    let acceptor = super::tls::acceptor(std::slice::from_ref(&opts.host))?;
    let (tls_listener, accept_task) = super::tls::TlsListener::new(https, acceptor)?;
    let secure_app = app(state.clone()).layer(middleware::from_fn_with_state(state.clone(), hsts));
    let plain_app = if behaviour.https_redirect {
        Router::new()
            .fallback(redirect_to_https)
            .with_state(state.clone())
    } else {
        app(state.clone())
    };
    let https_task = tokio::spawn(async move {
        let _ = axum::serve(tls_listener, secure_app).await;
    });
    let http_task = tokio::spawn(async move {
        let _ = axum::serve(http, plain_app).await;
    });
    let sweep_store = store.clone();
    let interval = behaviour.sweep_interval;
    let sweep_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.tick().await;
        loop {
            tick.tick().await;
            sweep_store.sweep();
        }
    });
    Ok(RefApp::new(
        opts.app,
        https_addr,
        http_addr,
        &opts.host,
        behaviour.label.clone(),
        vec![
            accept_task,
            https_task.abort_handle(),
            http_task.abort_handle(),
            sweep_task.abort_handle(),
        ],
    ))
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
        .route(facts::USERS_LOGOUT, post(rest::users_logout))
        .route(facts::METHOD_CALL_ANON_LOGIN, post(rest::call_anon_login))
        .route(facts::INFO, get(rest::info))
        .route(facts::HEALTH, get(rest::health))
        .route(facts::WEBSOCKET, get(ddp::upgrade))
        .fallback(page)
        .with_state(state)
}

async fn hsts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if state.behaviour.hsts {
        resp.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}

async fn redirect_to_https(State(state): State<AppState>, uri: Uri) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Redirect::permanent(&format!(
        "https://{}:{}{}",
        state.host, state.https_port, path
    ))
    .into_response()
}

/// Every other GET renders the single-page client, as Rocket.Chat does.
async fn page(State(state): State<AppState>, uri: Uri) -> Response {
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
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rocket.Chat</title></head>\
         <body><div id=\"root\"></div>\
         <script id=\"refapp-config\" type=\"application/json\">{config}</script>\
         <script>{}</script></body></html>",
        include_str!("client.js")
    );
    let mut resp = Html(html).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
