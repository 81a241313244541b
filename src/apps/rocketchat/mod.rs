//! The Rocket.Chat adapter. Every app fact it relies on lives in [`facts`].

pub mod facts;

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use super::{Acceptance, Adapter, ApiSignIn, AppId, Fut, RealtimeLink, Target, UiSignIn};
use crate::browser::BrowserSession;
use crate::model::{Credential, Observation};
use crate::probe::ws::ws_url;
use crate::probe::{JsonSocket, Received};
use crate::secret::Secret;

pub struct RocketChat;

const PAGE_WAIT: Duration = Duration::from_secs(20);
const DDP_WAIT: Duration = Duration::from_secs(10);

impl RocketChat {
    fn auth_headers(cred: &Credential, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match cred.part("user_id") {
            // REST reads only these two headers (cookies are ignored on /api/v1).
            Some(uid) => rb
                .header(facts::HEADER_USER_ID, uid.expose())
                .header(facts::HEADER_AUTH_TOKEN, cred.token.expose()),
            // Without a user id (a cookie-only session) present the cookie instead.
            None => rb.header(
                "Cookie",
                format!("{}={}", facts::COOKIE_TOKEN, cred.token.expose()),
            ),
        }
    }

    /// Opens `/websocket`, completes the DDP handshake and sends `login {resume}`.
    async fn ddp_resume(
        t: &Target,
        token: &Secret,
    ) -> anyhow::Result<(JsonSocket, Result<Value, ResumeFailure>)> {
        let url = ws_url(t.url(), facts::WEBSOCKET);
        let mut ws = JsonSocket::connect(&url, t.config.insecure_tls, &[]).await?;
        ws.send(&json!({"msg": "connect", "version": "1", "support": ["1"]}))
            .await?;
        match ws
            .recv_until(
                DDP_WAIT,
                |m| m["msg"] == "connected" || m["msg"] == "failed",
                pong,
            )
            .await
        {
            Received::Message(m) if m["msg"] == "connected" => {}
            other => bail!("DDP handshake on {url} failed: {other:?}"),
        }
        ws.send(&json!({"msg": "method", "method": "login", "id": "sd-1", "params": [{"resume": token.expose()}]}))
            .await?;
        match ws
            .recv_until(
                DDP_WAIT,
                |m| m["msg"] == "result" && m["id"] == "sd-1",
                pong,
            )
            .await
        {
            Received::Message(m) => {
                let outcome = match m.get("error") {
                    Some(e) => Err(ResumeFailure::Error {
                        code: e.get("error").cloned().unwrap_or(Value::Null),
                        reason: e
                            .get("reason")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    }),
                    None => Ok(m.get("result").cloned().unwrap_or(Value::Null)),
                };
                Ok((ws, outcome))
            }
            Received::Closed(why) => Ok((ws, Err(ResumeFailure::Closed(why)))),
            Received::TimedOut => bail!("no answer to DDP login within {} s", DDP_WAIT.as_secs()),
        }
    }
}

/// Why a DDP `login {resume}` did not sign the connection in.
#[derive(Debug)]
enum ResumeFailure {
    /// A `Meteor.Error` in the method's result.
    Error { code: Value, reason: String },
    /// The server closed the socket instead of answering.
    Closed(String),
}

impl ResumeFailure {
    /// Meteor's refusal of a removed or expired token, as opposed to trouble.
    fn is_token_refusal(&self) -> bool {
        matches!(self, ResumeFailure::Error { code, reason } if facts::is_resume_refusal(code, reason))
    }
}

impl std::fmt::Display for ResumeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeFailure::Error { code, reason } => write!(f, "error {code} \"{reason}\""),
            ResumeFailure::Closed(why) => write!(f, "connection closed by the server ({why})"),
        }
    }
}

/// Answers DDP pings while waiting for something else.
fn pong(m: &Value) -> Option<Value> {
    (m["msg"] == "ping").then(|| json!({"msg": "pong"}))
}

/// `Meteor.loginTokenExpires` is a JavaScript `Date#toString()`; also accept ISO and epoch ms.
pub fn parse_js_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(ms) = s.trim().parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    // "Tue Feb 24 2026 10:00:00 GMT+0000 (Coordinated Universal Time)"
    let head: String = s.split(" (").next().unwrap_or(s).to_string();
    DateTime::parse_from_str(&head, "%a %b %d %Y %H:%M:%S GMT%z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn date_of(v: &Value) -> Option<DateTime<Utc>> {
    v.get("$date")
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
}

impl Adapter for RocketChat {
    fn app(&self) -> AppId {
        AppId::RocketChat
    }

    fn login_page(&self, t: &Target) -> Url {
        t.http.url(facts::HOME)
    }

    fn is_session_cookie(&self, name: &str) -> bool {
        facts::is_token_cookie(name)
    }

    fn credentials_in(&self, obs: &Observation) -> Vec<Credential> {
        // The client keeps the token in Meteor's storage keys and in rc_token; the
        // hardened reference target keeps it only in an HttpOnly cookie.
        let mut tokens: Vec<(Secret, String)> = Vec::new();
        for (area, store) in [
            ("localStorage", &obs.local_storage),
            ("sessionStorage", &obs.session_storage),
        ] {
            if let Some(v) = store.get(facts::STORAGE_TOKEN).filter(|v| !v.is_empty()) {
                tokens.push((v.clone(), format!("{area} {}", facts::STORAGE_TOKEN)));
            }
        }
        for c in obs
            .cookies
            .iter()
            .filter(|c| facts::is_token_cookie(&c.name) && !c.value.is_empty())
        {
            tokens.push((
                Secret::new(decode_uri(c.value.expose())),
                format!("cookie {}", c.name),
            ));
        }
        let user_id = [&obs.local_storage, &obs.session_storage]
            .iter()
            .find_map(|s| {
                s.get(facts::STORAGE_USER_ID)
                    .filter(|v| !v.is_empty())
                    .cloned()
            })
            .or_else(|| {
                obs.cookies
                    .iter()
                    .find(|c| facts::is_user_id_cookie(&c.name) && !c.value.is_empty())
                    .map(|c| Secret::new(decode_uri(c.value.expose())))
            });
        let expires = [&obs.local_storage, &obs.session_storage]
            .iter()
            .find_map(|s| s.get(facts::STORAGE_TOKEN_EXPIRES))
            .and_then(|v| parse_js_date(v.expose()));
        let mut out: Vec<Credential> = Vec::new();
        for (token, place) in tokens {
            if out.iter().any(|c| c.token == token) {
                continue;
            }
            let mut cred = Credential::new(token.clone(), place);
            cred.found_in = obs.places_holding(token.expose());
            if let Some(uid) = &user_id {
                cred.parts.insert("user_id", uid.clone());
            }
            cred.expires_at = expires;
            out.push(cred);
        }
        out
    }

    fn identify<'a>(&'a self, t: &'a Target) -> Fut<'a, String> {
        Box::pin(async move {
            let r = t
                .http
                .send(t.http.request(Method::GET, facts::INFO))
                .await?;
            let ok = r.status == 200
                && r.json()
                    .and_then(|j| j.get("success").and_then(Value::as_bool))
                    == Some(true);
            if !ok {
                bail!(
                    "{} does not look like Rocket.Chat: GET {} answered {}. Check SESSIONDRILL_ROCKETCHAT_URL",
                    t.url(),
                    facts::INFO,
                    r.summary(&t.masker)
                );
            }
            Ok(format!(
                "Rocket.Chat at {} (GET {} → 200)",
                t.url(),
                facts::INFO
            ))
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
            let user_field = ui.get(&facts::UI_USERNAME);
            let signed_in = ui.get(&facts::UI_SIGNED_IN);
            b.goto(&self.login_page(t)).await?;
            let which = b
                .wait_any(&[user_field, signed_in], PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "neither {} nor {} appeared (is the setup wizard done?)",
                        ui.describe(&facts::UI_USERNAME),
                        ui.describe(&facts::UI_SIGNED_IN)
                    )
                })?;
            if which == 1 {
                bail!("the browser is already signed in; a fresh browser was expected");
            }
            b.fill(user_field, login)
                .await
                .with_context(|| ui.describe(&facts::UI_USERNAME))?;
            b.fill(ui.get(&facts::UI_PASSWORD), password.expose())
                .await
                .with_context(|| ui.describe(&facts::UI_PASSWORD))?;
            b.click(ui.get(&facts::UI_SUBMIT))
                .await
                .with_context(|| ui.describe(&facts::UI_SUBMIT))?;
            let waited = b
                .wait_any(
                    &[signed_in, ui.get(&facts::UI_LOGIN_ERROR)],
                    super::LOGIN_ANSWER_WAIT,
                )
                .await;
            let outcome = match super::login_answer(b, waited, user_field, || {
                format!(
                    "after submitting the login form neither {} nor {} appeared",
                    ui.describe(&facts::UI_SIGNED_IN),
                    ui.describe(&facts::UI_LOGIN_ERROR)
                )
            })
            .await?
            {
                Ok(found) => found,
                Err(silent) => return Ok(silent),
            };
            if outcome == 0 {
                return Ok(UiSignIn::SignedIn);
            }
            let shown = b
                .exec(
                    "const a = document.querySelector('[role=alert]'); return a ? a.textContent : 'fields marked invalid';",
                    vec![],
                )
                .await?;
            Ok(UiSignIn::Rejected {
                shown: shown.as_str().unwrap_or_default().to_string(),
            })
        })
    }

    fn is_signed_in_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
        Box::pin(async move {
            let ui = t.ui();
            let signed_in = ui.get(&facts::UI_SIGNED_IN);
            let which = b
                .wait_any(&[signed_in, ui.get(&facts::UI_USERNAME)], PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "the page showed neither {} nor {}",
                        ui.describe(&facts::UI_SIGNED_IN),
                        ui.describe(&facts::UI_USERNAME)
                    )
                })?;
            if which == 0 {
                return Ok(true);
            }
            // The form also shows while a token login from the URL is in flight
            // (AuthenticationCheck): only a settle window without the app proves "signed out".
            match b.wait_any(&[signed_in], facts::LINK_LOGIN_SETTLE).await {
                Ok(_) => Ok(true),
                Err(crate::browser::BrowserError::Timeout(_)) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn sign_out_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
        Box::pin(async move {
            let ui = t.ui();
            let menu = ui.get(&facts::UI_USER_MENU);
            b.wait_any(&[menu], Duration::from_secs(10))
                .await
                .with_context(|| format!("{} is not visible", ui.describe(&facts::UI_USER_MENU)))?;
            b.click(menu)
                .await
                .with_context(|| ui.describe(&facts::UI_USER_MENU))?;
            b.click_xpath(ui.get(&facts::UI_LOGOUT), Duration::from_secs(5))
                .await
                .with_context(|| format!("{} did not appear", ui.describe(&facts::UI_LOGOUT)))?;
            b.wait_any(&[ui.get(&facts::UI_USERNAME)], PAGE_WAIT)
                .await
                .with_context(|| {
                    format!(
                        "after Logout, {} did not come back",
                        ui.describe(&facts::UI_USERNAME)
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
            let https = t.url().scheme() == "https";
            let mut places = Vec::new();
            let mut names = vec![facts::COOKIE_TOKEN.to_string()];
            if https {
                names.push(format!("__Host-{}", facts::COOKIE_TOKEN));
            }
            for name in names {
                b.plant_cookie(&page, &name, fake.expose(), https).await?;
                places.push(format!("cookie {name}"));
            }
            b.plant_storage(facts::STORAGE_TOKEN, fake.expose()).await?;
            places.push(format!("localStorage {}", facts::STORAGE_TOKEN));
            Ok(places)
        })
    }

    fn token_link(&self, t: &Target, cred: &Credential) -> Option<Url> {
        let mut u = t.http.url(facts::HOME);
        u.query_pairs_mut()
            .append_pair(facts::QUERY_RESUME_TOKEN, cred.token.expose());
        if let Some(uid) = cred.part("user_id") {
            u.query_pairs_mut()
                .append_pair(facts::QUERY_USER_ID, uid.expose());
        }
        Some(u)
    }

    fn failed_sign_in_block(&self) -> (u32, Duration) {
        (facts::BLOCK_BY_USER_ATTEMPTS, facts::BLOCK_PERIOD)
    }

    fn sign_in_api_claiming<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
        address: Option<&'a str>,
    ) -> Fut<'a, ApiSignIn> {
        Box::pin(async move {
            let body = json!({"user": login, "password": password.expose()});
            let mut req = t.http.request(Method::POST, facts::LOGIN).json(&body);
            if let Some(a) = address {
                req = req.header("X-Forwarded-For", a).header("X-Real-IP", a);
            }
            let r = t.http.send(req).await?;
            let j = r.json().unwrap_or(Value::Null);
            match r.status {
                200 => {
                    let token = j
                        .pointer("/data/authToken")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            anyhow!(
                                "sign-in answered 200 without data.authToken: {}",
                                r.summary(&t.masker)
                            )
                        })?;
                    let uid = j
                        .pointer("/data/userId")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let cred =
                        Credential::new(Secret::new(token), "sign-in response data.authToken")
                            .with_part("user_id", Secret::new(uid));
                    t.remember(&cred);
                    Ok(ApiSignIn::SignedIn(cred))
                }
                401 if j["error"] == "totp-required" => bail!(
                    "the account has two-factor authentication; use a test user without 2FA (or disable \
                     Accounts_TwoFactorAuthentication_By_Email_Auto_Opt_In and create it unverified)"
                ),
                // Block_Multiple_Failed_Logins: `error-login-blocked-for-user|ip`.
                401 if j["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("error-login-blocked")) =>
                {
                    Ok(ApiSignIn::Throttled {
                        evidence: r.summary(&t.masker),
                    })
                }
                401 => Ok(ApiSignIn::Rejected {
                    evidence: r.summary(&t.masker),
                }),
                // The REST rate limiter (API_Enable_Rate_Limiter_Limit_Calls_Default per minute).
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
                .send(Self::auth_headers(
                    cred,
                    t.http.request(Method::GET, facts::ME),
                ))
                .await?;
            Ok((r, facts::ME))
        })
    }

    fn realtime_path(&self) -> &'static str {
        facts::WEBSOCKET
    }

    fn accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move {
            let (r, _) = self.who_am_i(t, cred).await?;
            super::judge_replay(t, &r, facts::ME, &|r| {
                r.status == 401
                    && super::body_says(r, &["message", "error"], facts::MSG_NOT_LOGGED_IN)
            })
        })
    }

    fn sign_out_api<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, String> {
        Box::pin(async move {
            let r = t
                .http
                .send(Self::auth_headers(
                    cred,
                    t.http.request(Method::POST, facts::LOGOUT),
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
            // The current password goes as its SHA-256 hex (2FA method "password").
            let body = json!({"data": {"newPassword": new.expose(), "currentPassword": facts::password_digest(current.expose())}});
            let rb = Self::auth_headers(
                cred,
                t.http.request(Method::POST, facts::UPDATE_OWN_BASIC_INFO),
            )
            .json(&body);
            let r = t.http.send(rb).await?;
            super::expect_success(t, &r, "the password change")
        })
    }

    fn realtime_accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move {
            let (ws, outcome) = Self::ddp_resume(t, &cred.token).await?;
            ws.close().await;
            let url = ws_url(t.url(), facts::WEBSOCKET);
            Ok(match outcome {
                Ok(result) => Acceptance {
                    accepted: true,
                    evidence: t.masker.scrub(&format!(
                        "DDP login {{resume}} on {} → result type {}",
                        url.path(),
                        result.get("type").cloned().unwrap_or(Value::Null)
                    )),
                },
                // Only Meteor's answers for a removed or expired token are a refusal.
                Err(e) if e.is_token_refusal() => Acceptance {
                    accepted: false,
                    evidence: format!("DDP login {{resume}} on {} → {e}", url.path()),
                },
                Err(e) => bail!(
                    "DDP login {{resume}} on {} answered {e}, which is not Rocket.Chat's refusal of a token",
                    url.path()
                ),
            })
        })
    }

    fn realtime_open<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Box<dyn RealtimeLink>> {
        Box::pin(async move {
            let (ws, outcome) = Self::ddp_resume(t, &cred.token).await?;
            if let Err(e) = outcome {
                ws.close().await;
                bail!("the realtime channel refused the session before the test began: {e}");
            }
            // Nothing arrives on an idle DDP socket but pings; only a close ends the session.
            Ok(super::SocketLink::boxed(ws, |_| false, pong))
        })
    }

    fn advertised_expiry<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        obs: Option<&'a Observation>,
    ) -> Fut<'a, Vec<(String, DateTime<Utc>)>> {
        Box::pin(async move {
            let mut out = Vec::new();
            if let Some(at) = obs
                .and_then(|o| self.credentials_in(o).into_iter().next())
                .and_then(|c| c.expires_at)
            {
                out.push((format!("localStorage {}", facts::STORAGE_TOKEN_EXPIRES), at));
            }
            // What every client is told at login: the DDP result's tokenExpires.
            let (ws, outcome) = Self::ddp_resume(t, &cred.token).await?;
            ws.close().await;
            // A refused resume leaves the expiry unread: that is no "nothing advertised".
            let result = outcome.map_err(|e| {
                anyhow!("could not read the advertised expiry: DDP login {{resume}} answered {e}")
            })?;
            match result.get("tokenExpires").and_then(date_of) {
                Some(at) => out.push(("DDP login result tokenExpires".to_string(), at)),
                None => bail!(
                    "the DDP login result carries no readable tokenExpires: {}",
                    t.masker.scrub(&result.to_string())
                ),
            }
            Ok(out)
        })
    }

    fn expiry_slack(&self) -> Duration {
        facts::EXPIRE_TOKENS_INTERVAL
    }

    fn realtime_close_deadline(&self) -> Duration {
        facts::SOCKET_CLOSE_DEADLINE
    }

    fn new_password(&self) -> Secret {
        super::strong_password()
    }
}

/// Cookie values are `encodeURI`'d by the client.
fn decode_uri(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BrowserCookie;

    #[test]
    fn parses_meteor_token_expiry_strings() {
        let d = parse_js_date("Tue Feb 24 2026 10:00:00 GMT+0000 (Coordinated Universal Time)")
            .unwrap();
        assert_eq!(d.to_rfc3339(), "2026-02-24T10:00:00+00:00");
        assert!(parse_js_date("2026-02-24T10:00:00Z").is_some());
        assert!(parse_js_date("1771927200000").is_some());
        assert!(parse_js_date("soon").is_none());
    }

    fn cookie(name: &str, value: &str) -> BrowserCookie {
        BrowserCookie {
            name: name.into(),
            value: Secret::new(value),
            domain: "rocketchat.test".into(),
            path: "/".into(),
            secure: true,
            http_only: false,
            same_site: None,
            expires: None,
        }
    }

    #[test]
    fn finds_the_credential_in_storage_and_cookies() {
        let mut o = Observation::empty();
        o.local_storage.insert(
            facts::STORAGE_TOKEN.into(),
            Secret::new("TOKEN-abcdefghijklmnopqrstuvwxyz0123456789"),
        );
        o.local_storage.insert(
            facts::STORAGE_USER_ID.into(),
            Secret::new("uid17charsxxxxxxx"),
        );
        o.cookies.push(cookie(
            "rc_token",
            "TOKEN-abcdefghijklmnopqrstuvwxyz0123456789",
        ));
        let all = RocketChat.credentials_in(&o);
        assert_eq!(all.len(), 1, "one token in two places is one candidate");
        let c = &all[0];
        assert_eq!(c.part("user_id").unwrap().expose(), "uid17charsxxxxxxx");
        assert_eq!(
            c.found_in,
            vec!["cookie rc_token", "localStorage Meteor.loginToken"]
        );
    }

    #[test]
    fn finds_a_cookie_only_credential() {
        let mut o = Observation::empty();
        o.cookies.push(cookie(
            "__Host-rc_token",
            "TOKEN-abcdefghijklmnopqrstuvwxyz0123456789",
        ));
        o.cookies.push(cookie("__Host-rc_uid", "uid"));
        let c = &RocketChat.credentials_in(&o)[0];
        assert_eq!(c.found_in, vec!["cookie __Host-rc_token"]);
        assert_eq!(c.part("user_id").unwrap().expose(), "uid");
        assert!(RocketChat.credentials_in(&Observation::empty()).is_empty());
    }

    #[test]
    fn a_planted_storage_value_beside_a_cookie_is_a_second_candidate() {
        let mut o = Observation::empty();
        o.local_storage.insert(
            facts::STORAGE_TOKEN.into(),
            Secret::new("PLANTED-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        );
        o.cookies.push(cookie(
            "__Host-rc_token",
            "REAL-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ));
        let all = RocketChat.credentials_in(&o);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].found_in, vec!["cookie __Host-rc_token"]);
    }
}
