//! The Chatwoot adapter (devise_token_auth headers, ActionCable). Every app fact
//! it relies on lives in [`facts`].

pub mod facts;

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use super::{Acceptance, Adapter, ApiSignIn, AppId, Fut, RealtimeLink, Target, UiSignIn};
use crate::browser::BrowserSession;
use crate::checks::{Verdict, rails_cookie};
use crate::model::{Credential, Observation};
use crate::probe::ws::ws_url;
use crate::probe::{JsonSocket, Received, Reply};
use crate::secret::Secret;

pub struct Chatwoot;

/// How a RoomChannel subscription ended.
#[derive(Debug)]
enum Subscribed {
    Confirmed,
    Rejected,
    /// No confirmation within the window; `pings` counts ActionCable's keep-alives meanwhile.
    Silent {
        pings: u32,
    },
    Closed(String),
}

const PAGE_WAIT: Duration = Duration::from_secs(20);
/// The client id planted beside a planted token.
const PLANTED_CLIENT: &str = "planted-client-0000000";

/// The login page's state after submitting: signed in (dashboard path), refused (toast),
/// throttled, or bounced (the form accepted the credentials and navigated away, but the
/// dashboard's own validity check sent the browser back: the marker set on the form's
/// document is gone). Whether that session is valid is for the checks to judge.
fn sign_in_state(ui: &super::ui::Ui) -> String {
    format!(
        "if (location.pathname.startsWith({path})) return 'in';
         const text = document.body ? document.body.innerText : '';
         if ({throttled}.some(w => text.includes(w))) return 'throttled';
         if ({refused}.some(w => text.includes(w))) return 'refused';
         if (!window.__sessiondrillForm && document.querySelector({email})) return 'bounced';
         return null;",
        path = json!(ui.get(&facts::UI_SIGNED_IN_PATH)),
        throttled = json!(ui.texts(&facts::UI_THROTTLED_TEXT)),
        refused = json!(ui.texts(&facts::UI_REFUSED_TEXT)),
        email = json!(ui.get(&facts::UI_EMAIL)),
    )
}

/// `'in'` on a signed-in page, `'form'` when the login form shows; with `form_only`, only the form counts.
fn form_or_app(ui: &super::ui::Ui, form_only: bool) -> String {
    format!(
        "if (!{form_only} && location.pathname.startsWith({path})) return 'in';
         const f = document.querySelector({email});
         if (f && f.offsetParent !== null) return 'form';
         return null;",
        path = json!(ui.get(&facts::UI_SIGNED_IN_PATH)),
        email = json!(ui.get(&facts::UI_EMAIL)),
    )
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

impl Chatwoot {
    /// devise_token_auth's request headers for a session.
    fn auth(cred: &Credential, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut rb = rb
            .header(facts::H_ACCESS_TOKEN, cred.token.expose())
            .header(facts::H_TOKEN_TYPE, "Bearer");
        for (name, header) in [("client", facts::H_CLIENT), ("uid", facts::H_UID)] {
            if let Some(v) = cred.part(name) {
                rb = rb.header(header, v.expose());
            }
        }
        rb
    }

    /// A credential from the auth headers of a response.
    fn from_headers(r: &Reply, found_in: &str) -> Option<Credential> {
        let token = r.header(facts::H_ACCESS_TOKEN)?;
        let mut cred = Credential::new(Secret::new(token), found_in)
            .with_part(
                "client",
                Secret::new(r.header(facts::H_CLIENT).unwrap_or_default()),
            )
            .with_part(
                "uid",
                Secret::new(r.header(facts::H_UID).unwrap_or_default()),
            );
        cred.expires_at = r
            .header(facts::H_EXPIRY)
            .and_then(|e| e.parse::<i64>().ok())
            .and_then(|s| DateTime::from_timestamp(s, 0));
        Some(cred)
    }

    /// Puts the user JSON's long-lived tokens and ids into `cred`.
    fn absorb_user(mut cred: Credential, user: &Value) -> Credential {
        for (field, key) in [
            ("access_token", "api_access_token"),
            ("pubsub_token", "pubsub_token"),
        ] {
            if let Some(v) = user.get(field).and_then(Value::as_str) {
                cred.extras.insert(key, Secret::new(v));
            }
        }
        if let Some(id) = user.get("id") {
            cred.parts.insert("user_id", Secret::new(id.to_string()));
        }
        if let Some(id) = user.get("account_id") {
            cred.parts.insert("account_id", Secret::new(id.to_string()));
        }
        cred
    }

    /// Opens `/cable` and subscribes to RoomChannel with the session's pubsub token.
    async fn subscribe(t: &Target, cred: &Credential) -> anyhow::Result<(JsonSocket, Subscribed)> {
        let pubsub = cred.extras.get("pubsub_token").ok_or_else(|| {
            anyhow!("no pubsub_token is known for this session (the profile could not be read)")
        })?;
        if cred.part("account_id").is_none() {
            bail!(
                "no account_id is known for this session: RoomChannel needs it and would stay silent without it"
            );
        }
        let url = ws_url(t.url(), facts::CABLE);
        let origin = t.url().origin().ascii_serialization();
        let mut ws = JsonSocket::connect(
            &url,
            t.config.insecure_tls,
            &[
                ("Sec-WebSocket-Protocol", facts::CABLE_PROTOCOL.to_string()),
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
            "channel": facts::ROOM_CHANNEL,
            "pubsub_token": pubsub.expose(),
            "account_id": number("account_id"),
            "user_id": number("user_id"),
        })
        .to_string();
        ws.send(&json!({"command": "subscribe", "identifier": identifier}))
            .await?;
        // RoomChannel never rejects: a bad token gets silence. Silence is a refusal only on
        // a socket shown alive by ActionCable's pings through the wait; an explicit
        // reject_subscription is a refusal too.
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
                facts::SUBSCRIBE_WAIT + facts::CABLE_BEAT
            } else {
                facts::SUBSCRIBE_WAIT
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
}

impl Adapter for Chatwoot {
    fn app(&self) -> AppId {
        AppId::Chatwoot
    }

    fn login_page(&self, t: &Target) -> Url {
        t.http.url(facts::LOGIN_PAGE)
    }

    fn is_session_cookie(&self, name: &str) -> bool {
        facts::is_session_cookie(name)
    }

    fn credentials_in(&self, obs: &Observation) -> Vec<Credential> {
        // The dashboard keeps the auth headers as JSON in cw_d_session_info; with
        // devise_token_auth's cookie mode they are in an HttpOnly auth cookie instead.
        let mut out: Vec<Credential> = Vec::new();
        for c in obs
            .cookies
            .iter()
            .filter(|c| facts::is_header_cookie(&c.name))
        {
            let Ok(j) = serde_json::from_str::<Value>(&decode(c.value.expose())) else {
                continue;
            };
            let Some(token) = j
                .get(facts::H_ACCESS_TOKEN)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            else {
                continue;
            };
            if out.iter().any(|o| o.token.expose() == token) {
                continue;
            }
            let field = |k: &str| Secret::new(j.get(k).and_then(Value::as_str).unwrap_or_default());
            let mut cred = Credential::new(Secret::new(token), format!("cookie {}", c.name))
                .with_part("client", field(facts::H_CLIENT))
                .with_part("uid", field(facts::H_UID));
            cred.found_in = obs.places_holding(token);
            cred.expires_at = j
                .get(facts::H_EXPIRY)
                .and_then(|e| {
                    e.as_str()
                        .and_then(|s| s.parse::<i64>().ok())
                        .or_else(|| e.as_i64())
                })
                .and_then(|s| DateTime::from_timestamp(s, 0));
            out.push(cred);
        }
        out
    }

    fn identify<'a>(&'a self, t: &'a Target) -> Fut<'a, String> {
        Box::pin(async move {
            let r = t
                .http
                .send(t.http.request(Method::GET, facts::API_INFO))
                .await?;
            let version = r
                .json()
                .and_then(|j| j.get("version").and_then(Value::as_str).map(str::to_string));
            match (r.status, version) {
                (200, Some(v)) => Ok(format!(
                    "Chatwoot {v} at {} (GET {} → 200)",
                    t.url(),
                    facts::API_INFO
                )),
                _ => bail!(
                    "{} does not look like Chatwoot: GET {} answered {}. Check SESSIONDRILL_CHATWOOT_URL",
                    t.url(),
                    facts::API_INFO,
                    r.summary(&t.masker)
                ),
            }
        })
    }

    fn sign_in_ui<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        login: &'a str,
        password: &'a Secret,
    ) -> Fut<'a, UiSignIn> {
        Box::pin(async move {
            let ui = t.ui();
            b.goto(&self.login_page(t)).await?;
            let state = b
                .poll_js(&form_or_app(ui, false), PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "neither {} nor {} appeared",
                        ui.describe(&facts::UI_EMAIL),
                        ui.describe(&facts::UI_SIGNED_IN_PATH)
                    )
                })?;
            if state == "in" {
                bail!("the browser is already signed in; a fresh browser was expected");
            }
            b.fill(ui.get(&facts::UI_EMAIL), login)
                .await
                .with_context(|| ui.describe(&facts::UI_EMAIL))?;
            b.fill(ui.get(&facts::UI_PASSWORD), password.expose())
                .await
                .with_context(|| ui.describe(&facts::UI_PASSWORD))?;
            b.exec("window.__sessiondrillForm = true; return true;", vec![])
                .await?;
            b.click(ui.get(&facts::UI_SUBMIT))
                .await
                .with_context(|| ui.describe(&facts::UI_SUBMIT))?;
            let waited = b
                .poll_js(&sign_in_state(ui), super::LOGIN_ANSWER_WAIT)
                .await;
            let outcome = match super::login_answer(b, waited, ui.get(&facts::UI_EMAIL), || {
                format!(
                    "after submitting the login form neither {} nor {} appeared",
                    ui.describe(&facts::UI_SIGNED_IN_PATH),
                    ui.describe(&facts::UI_REFUSED_TEXT)
                )
            })
            .await?
            {
                Ok(found) => found,
                Err(silent) => return Ok(silent),
            };
            // The toast's own text: the smallest element holding the message.
            let mut words = ui.texts(&facts::UI_THROTTLED_TEXT);
            words.extend(ui.texts(&facts::UI_REFUSED_TEXT));
            let script = format!(
                "const words = {};\
                 let best = null;\
                 for (const el of document.querySelectorAll('body *')) {{\
                   const t = el.innerText || '';\
                   if (words.some(w => t.includes(w)) && (!best || t.length < best.length)) best = t;\
                 }}\
                 return (best || '').trim().slice(0, 200);",
                json!(words)
            );
            let shown = || async {
                b.exec(&script, vec![])
                    .await
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            Ok(match outcome.as_str() {
                "in" | "bounced" => UiSignIn::SignedIn,
                "throttled" => UiSignIn::Throttled {
                    shown: shown().await,
                },
                _ => UiSignIn::Rejected {
                    shown: shown().await,
                },
            })
        })
    }

    fn is_signed_in_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
        Box::pin(async move {
            let ui = t.ui();
            let state = b
                .poll_js(&form_or_app(ui, false), PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "the page showed neither {} nor {}",
                        ui.describe(&facts::UI_EMAIL),
                        ui.describe(&facts::UI_SIGNED_IN_PATH)
                    )
                })?;
            Ok(state == "in")
        })
    }

    fn sign_out_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
        Box::pin(async move {
            let ui = t.ui();
            // The profile menu's trigger shows the user's e-mail.
            let email = t.config.account.login.replace('\'', "");
            let trigger = ui.get(&facts::UI_PROFILE_MENU).replace("{email}", &email);
            b.click_xpath(&trigger, Duration::from_secs(10))
                .await
                .with_context(|| {
                    format!("{} is not visible", ui.describe(&facts::UI_PROFILE_MENU))
                })?;
            b.click_xpath(ui.get(&facts::UI_LOGOUT), Duration::from_secs(5))
                .await
                .with_context(|| format!("{} did not appear", ui.describe(&facts::UI_LOGOUT)))?;
            // The dashboard leaves only when its sign-out request succeeds.
            b.poll_js(&form_or_app(ui, true), PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "after Log out, {} did not come back (the dashboard stays when its sign-out request fails)",
                        ui.describe(&facts::UI_EMAIL)
                    )
                })?;
            Ok(())
        })
    }

    fn plant<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        fake: &'a Secret,
    ) -> Fut<'a, Vec<String>> {
        Box::pin(async move {
            let page = self.login_page(t);
            b.goto(&page).await?;
            let expiry = (Utc::now() + chrono::Duration::days(30))
                .timestamp()
                .to_string();
            let headers = json!({
                "access-token": fake.expose(), "token-type": "Bearer", "client": PLANTED_CLIENT,
                "expiry": expiry, "uid": t.config.account.login,
            })
            .to_string();
            let value: String = url::form_urlencoded::byte_serialize(headers.as_bytes()).collect();
            let https = t.url().scheme() == "https";
            let mut places = Vec::new();
            let mut names = vec![facts::COOKIE_SESSION_INFO.to_string()];
            if https {
                names.push(format!("__Host-{}", facts::COOKIE_DTA));
            }
            for name in names {
                b.plant_cookie(&page, &name, &value, https).await?;
                places.push(format!("cookie {name}"));
            }
            Ok(places)
        })
    }

    fn planted_credential(&self, fake: &Secret, real: &Credential) -> Credential {
        let mut c = Credential::new(fake.clone(), "planted before sign-in");
        c.parts = real.parts.clone();
        // devise_token_auth finds the token by its client: present the planted pair.
        c.parts.insert("client", Secret::new(PLANTED_CLIENT));
        c
    }

    fn token_link(&self, _t: &Target, _cred: &Credential) -> Option<Url> {
        None
    }

    fn failed_sign_in_block(&self) -> (u32, Duration) {
        facts::SIGN_IN_THROTTLE
    }

    fn sign_in_api_claiming<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
        address: Option<&'a str>,
    ) -> Fut<'a, ApiSignIn> {
        Box::pin(async move {
            let body = json!({"email": login, "password": password.expose()});
            let mut req = t.http.request(Method::POST, facts::SIGN_IN).json(&body);
            if let Some(a) = address {
                req = req.header("X-Forwarded-For", a).header("X-Real-IP", a);
            }
            let r = t.http.send(req).await?;
            match r.status {
                200 => {
                    let cred =
                        Self::from_headers(&r, "sign-in response headers").ok_or_else(|| {
                            anyhow!("sign-in answered 200 without an access-token header")
                        })?;
                    let user = r
                        .json()
                        .and_then(|j| j.get("data").cloned())
                        .unwrap_or(Value::Null);
                    let cred = Self::absorb_user(cred, &user);
                    t.remember(&cred);
                    Ok(ApiSignIn::SignedIn(cred))
                }
                206 => bail!(
                    "the account has multi-factor authentication; use a test account without MFA"
                ),
                // devise_token_auth on a `lockable` account that is locked.
                401 if super::body_says(&r, &["errors"], facts::MSG_LOCKED) => {
                    Ok(ApiSignIn::Throttled {
                        evidence: r.summary(&t.masker),
                    })
                }
                401 => Ok(ApiSignIn::Rejected {
                    evidence: r.summary(&t.masker),
                }),
                429 => Ok(ApiSignIn::Throttled {
                    evidence: r.summary(&t.masker),
                }),
                _ => bail!("unexpected answer to sign-in: {}", r.summary(&t.masker)),
            }
        })
    }

    fn who_am_i<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, (crate::probe::Reply, &'static str)> {
        Box::pin(async move {
            t.remember(cred);
            let r = t
                .http
                .send(Self::auth(
                    cred,
                    t.http.request(Method::GET, facts::VALIDATE_TOKEN),
                ))
                .await?;
            Ok((r, facts::VALIDATE_TOKEN))
        })
    }

    fn realtime_path(&self) -> &'static str {
        facts::CABLE
    }

    fn accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move {
            let (r, _) = self.who_am_i(t, cred).await?;
            super::judge_replay(t, &r, facts::VALIDATE_TOKEN, &|r| {
                r.status == 401 && super::body_says(r, &["errors"], facts::MSG_VALIDATE_INVALID)
            })
        })
    }

    fn sign_out_api<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, String> {
        Box::pin(async move {
            let r = t
                .http
                .send(Self::auth(
                    cred,
                    t.http.request(Method::DELETE, facts::SIGN_OUT),
                ))
                .await?;
            super::expect_success(t, &r, "sign-out through the API")
        })
    }

    fn change_password<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        current: &'a Secret,
        new: &'a Secret,
    ) -> Fut<'a, String> {
        Box::pin(async move {
            let body = json!({"profile": {
                "current_password": current.expose(), "password": new.expose(), "password_confirmation": new.expose()
            }});
            let r = t
                .http
                .send(Self::auth(cred, t.http.request(Method::PUT, facts::PROFILE)).json(&body))
                .await?;
            super::expect_success(t, &r, "the password change")
        })
    }

    fn realtime_accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move {
            let (ws, outcome) = Self::subscribe(t, cred).await?;
            ws.close().await;
            let what = format!(
                "subscribe {} with the pubsub_token {}",
                facts::ROOM_CHANNEL,
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
                        facts::SUBSCRIBE_WAIT.as_secs()
                    ),
                },
                Subscribed::Silent { .. } => bail!(
                    "{what} → no confirmation and no ActionCable ping either: the channel is silent, which proves nothing"
                ),
                Subscribed::Closed(why) => {
                    bail!(
                        "{what} → the server closed the connection ({why}), which is not Chatwoot's refusal"
                    )
                }
            })
        })
    }

    fn realtime_open<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Box<dyn RealtimeLink>> {
        Box::pin(async move {
            let (ws, outcome) = Self::subscribe(t, cred).await?;
            if !matches!(outcome, Subscribed::Confirmed) {
                ws.close().await;
                bail!(
                    "the realtime channel did not confirm the session before the test began: {outcome:?}"
                );
            }
            Ok(super::SocketLink::boxed(
                ws,
                |m| {
                    matches!(
                        m["type"].as_str(),
                        Some("disconnect" | "reject_subscription")
                    )
                },
                |_| None,
            ))
        })
    }

    fn advertised_expiry<'a>(
        &'a self,
        _t: &'a Target,
        cred: &'a Credential,
        _obs: Option<&'a Observation>,
    ) -> Fut<'a, Vec<(String, DateTime<Utc>)>> {
        Box::pin(async move {
            Ok(cred
                .expires_at
                .map(|at| vec![("token expiry (devise_token_auth `expiry`)".to_string(), at)])
                .unwrap_or_default())
        })
    }

    fn expiry_slack(&self) -> Duration {
        // devise_token_auth checks a token's expiry on every request.
        Duration::ZERO
    }

    fn realtime_close_deadline(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn new_password(&self) -> Secret {
        super::strong_password()
    }

    fn enrich<'a>(&'a self, t: &'a Target, cred: Credential) -> Fut<'a, Credential> {
        Box::pin(async move {
            // The sign-in response handed the page the user's permanent API token and
            // pubsub token; the profile shows the same to this session.
            let r = t
                .http
                .send(Self::auth(
                    &cred,
                    t.http.request(Method::GET, facts::PROFILE),
                ))
                .await?;
            if r.status != 200 {
                return Ok(cred);
            }
            let cred = Self::absorb_user(cred, &r.json().unwrap_or(Value::Null));
            t.remember(&cred);
            Ok(cred)
        })
    }

    fn long_lived_accepts<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Vec<(String, Acceptance)>> {
        Box::pin(async move {
            let Some(token) = cred.extras.get("api_access_token") else {
                return Ok(Vec::new());
            };
            let rb = t
                .http
                .request(Method::GET, facts::PROFILE)
                .header(facts::H_API_ACCESS_TOKEN, token.expose());
            let r = t.http.send(rb).await?;
            let acceptance = super::judge_replay(t, &r, facts::PROFILE, &|r| {
                r.status == 401 && super::body_says(r, &["error"], facts::MSG_INVALID_ACCESS_TOKEN)
            })?;
            Ok(vec![(format!("api_access_token {token}"), acceptance)])
        })
    }

    fn is_server_session_cookie(&self, name: &str) -> bool {
        facts::is_rails_session(name)
    }

    fn open_server_session(&self, t: &Target, value: &str) -> Option<super::ServerSession> {
        let value = decode(value);
        let mut secrets: Vec<(String, String)> = t
            .config
            .secret_key_base
            .iter()
            .map(|k| {
                (
                    k.expose().to_string(),
                    "the configured SECRET_KEY_BASE".to_string(),
                )
            })
            .collect();
        secrets.extend(rails_cookie::known_secrets().into_iter().map(|k| {
            (
                k.value,
                format!("the publicly known SECRET_KEY_BASE from {}", k.source),
            )
        }));
        secrets.iter().find_map(|(secret, source)| {
            let (json, _) = rails_cookie::open(secret, facts::COOKIE_RAILS_SESSION, &value)?;
            let session: Value = serde_json::from_str(&json).ok()?;
            Some(super::ServerSession {
                id: session.get("session_id")?.as_str()?.to_string(),
                holds_user: session.get(facts::RAILS_WARDEN_USER_KEY).is_some(),
                opened_with: source.clone(),
            })
        })
    }

    fn known_secret_verdict(&self, obs: &Observation) -> Option<Verdict> {
        let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<(String, String)> {
            obs.cookies
                .iter()
                .filter(|c| pred(&c.name))
                .map(|c| {
                    // Rails needs the bare name for the purpose field.
                    let bare = c
                        .name
                        .trim_start_matches("__Host-")
                        .trim_start_matches("__Secure-")
                        .to_string();
                    (bare, decode(c.value.expose()))
                })
                .collect()
        };
        let encrypted = pick(&facts::is_rails_session);
        let signed = pick(&|n| n == facts::COOKIE_USER_ID || n == facts::COOKIE_USER_EXPIRES_AT);
        Some(rails_cookie::judge(
            &encrypted,
            &signed,
            &rails_cookie::known_secrets(),
        ))
    }

    fn sign_in_throttle(&self) -> Option<(u32, Duration)> {
        Some(facts::SIGN_IN_THROTTLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BrowserCookie;

    fn cookie(name: &str, value: &str) -> BrowserCookie {
        BrowserCookie {
            name: name.into(),
            value: Secret::new(value),
            domain: "chatwoot.test".into(),
            path: "/".into(),
            secure: false,
            http_only: false,
            same_site: None,
            expires: Some(1_900_000_000.0),
        }
    }

    #[test]
    fn reads_the_headers_json_js_cookie_writes() {
        // js-cookie 3 encodes with encodeURIComponent and decodes a few characters back.
        let json = r#"{"access-token":"tok-AAAAAAAAAAAAAAAAAAAA","token-type":"Bearer","client":"cli-BBBBBBBBBBBBBBBBBB","expiry":"1900000000","uid":"a@b.test","content-type":"application/json"}"#;
        let encoded: String = url::form_urlencoded::byte_serialize(json.as_bytes()).collect();
        let mut o = Observation::empty();
        o.cookies.push(cookie("cw_d_session_info", &encoded));
        o.cookies.push(cookie("_chatwoot_session", "opaque"));
        let all = Chatwoot.credentials_in(&o);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].token.expose(), "tok-AAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            all[0].part("client").unwrap().expose(),
            "cli-BBBBBBBBBBBBBBBBBB"
        );
        assert_eq!(all[0].found_in, vec!["cookie cw_d_session_info"]);
        assert_eq!(all[0].expires_at.unwrap().timestamp(), 1_900_000_000);
    }

    #[test]
    fn session_cookie_names() {
        for n in [
            "cw_d_session_info",
            "_chatwoot_session",
            "__Host-_chatwoot_session",
            "__Host-auth_cookie",
        ] {
            assert!(facts::is_session_cookie(n), "{n}");
        }
        assert!(!facts::is_session_cookie("user.id"));
        assert!(Chatwoot.is_server_session_cookie("__Host-_chatwoot_session"));
    }
}
