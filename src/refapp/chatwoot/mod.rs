//! The Chatwoot reference target: devise_token_auth, the Rails session cookie,
//! ActionCable, Rack::Attack's sign-in throttle, and the dashboard's page scripts,
//! with Chatwoot 4.9.1's session behaviour (see `facts::chatwoot`).

pub mod behaviour;
pub mod cable;
pub mod console;
pub mod rails;
pub mod rest;
pub mod store;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;

use self::behaviour::Behaviour;
use self::store::Store;
use super::{RefApp, RefOptions};
use crate::facts::chatwoot as facts;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub behaviour: Arc<Behaviour>,
    /// Rack::Attack `login/ip` counters: fixed windows keyed by address.
    throttle: Arc<Mutex<HashMap<IpAddr, (u64, u32)>>>,
    /// Devise `lockable` failure counts.
    pub failures: Arc<crate::refapp::lockout::Lockout>,
    /// The cookie-session console's live sessions (`console`).
    pub console: Arc<console::Sessions>,
}

impl AppState {
    /// Counts a sign-in attempt and says whether it is over the limit. Rack::Attack
    /// safelists 127.0.0.1 and ::1 (Chatwoot's initializer) unless told to act as behind Docker.
    pub fn throttled(&self, ip: IpAddr) -> bool {
        let b = &self.behaviour;
        if !b.throttle || (ip.is_loopback() && !b.throttle_loopback) {
            return false;
        }
        let period = b.throttle_period.as_secs().max(1);
        let window = chrono::Utc::now().timestamp() as u64 / period;
        let mut counters = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
        let entry = counters.entry(ip).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        // Throttled requests count too, as in Rack::Attack.
        entry.1 += 1;
        entry.1 > facts::SIGN_IN_THROTTLE.0
    }
}

pub async fn start(opts: RefOptions) -> anyhow::Result<RefApp> {
    let behaviour = Arc::new(Behaviour::from_options(&opts));
    let store = Arc::new(Store::new(behaviour.clone()));
    store.add_user(&opts.login, "Drill Agent", opts.password.expose());

    let (https, http) = super::serve::bind(&opts).await?;
    let http_addr = http.local_addr()?;
    let state = AppState {
        store,
        behaviour: behaviour.clone(),
        throttle: Arc::new(Mutex::new(HashMap::new())),
        failures: Default::default(),
        console: Default::default(),
    };
    let serving = super::serve::Serving {
        app: app(state),
        hsts: behaviour.hsts,
        https_redirect: behaviour.https_redirect,
        cache_control: if opts.has(super::Weakness::CacheableSessionData) {
            super::serve::RAILS_DEFAULT_CACHE
        } else {
            if opts.posture == super::Posture::Hardened {
                super::serve::NO_STORE
            } else {
                super::serve::RAILS_DEFAULT_CACHE
            }
        },
    };
    let spawned = super::serve::spawn(&opts, https, http, serving).await?;
    let tasks = spawned.tasks;
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
    use axum::routing::{delete, post, put};
    Router::new()
        .route(facts::API_INFO, get(rest::api_info))
        .route(
            facts::SIGN_IN,
            post(rest::sign_in).get(|| async { Redirect::to("/app/login?error=access-denied") }),
        )
        .route(facts::SIGN_OUT, delete(rest::sign_out))
        .route(facts::VALIDATE_TOKEN, get(rest::validate_token))
        .route(facts::PROFILE, get(rest::profile).put(rest::update_profile))
        .route(facts::ACCOUNT_UPDATE, put(rest::account_update))
        .route(facts::CABLE, get(cable::upgrade))
        .merge(console::routes())
        .fallback(page)
        .with_state(state)
}

/// `/app/login` and every other `/app/*` route: the Vue app shell, which touches the
/// Rails session (`csrf_meta_tags`), so a browser always holds `_chatwoot_session`.
async fn page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let path = uri.path();
    // `root to: 'dashboard#index'`: "/" serves the app too.
    if !(path == "/" || path.starts_with("/app")) {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let b = &state.behaviour;
    let config = json!({
        "sessionInfoCookie": b.session_info_cookie,
        "silentLoginError": b.has(crate::refapp::Weakness::SilentLoginError),
        "serverCookie": b.dta_cookie.is_some(),
        "webStorage": b.web_storage,
        "mixedContent": b.has(crate::refapp::Weakness::MixedContent),
        "credentialsOverHttp": b.has(crate::refapp::Weakness::CredentialsOverHttp),
        "tokenInUrl": b.has(crate::refapp::Weakness::TokenInUrl),
    });
    let script = if path.starts_with(facts::LOGIN_PAGE) {
        include_str!("login.js")
    } else {
        include_str!("dashboard.js")
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chatwoot</title></head>\
         <body><div id=\"app\"></div>\
         <script id=\"refapp-config\" type=\"application/json\">{config}</script>\
         <script>{}{script}</script></body></html>",
        concat!(include_str!("../traffic.js"), include_str!("common.js"))
    );
    let mut resp = Html(html).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if rails::read(b, &headers).is_none()
        && let Ok(v) = HeaderValue::from_str(&rails::set_cookie(b, &rails::fresh()))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
