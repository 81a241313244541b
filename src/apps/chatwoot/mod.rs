//! Chatwoot: its shipped profile (`profiles/chatwoot.toml`) says everything as data, with
//! the `actioncable-room` and `rails-cookie` plug-ins; only the login page's flows and the
//! planted JSON cookie are code here, plugged into the profile adapter. Every page fact it
//! relies on lives in [`facts`].

pub use crate::facts::chatwoot as facts;

use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::Utc;
use serde_json::json;
use url::Url;

use super::{Fut, Target, UiSignIn};
use crate::browser::BrowserSession;
use crate::model::Credential;
use crate::secret::Secret;

/// Chatwoot's login page, profile menu and the dashboard's session cookie.
pub struct Page;

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

impl super::page::Page for Page {
    fn sign_in<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        page: Url,
        login: &'a str,
        password: &'a Secret,
    ) -> Fut<'a, UiSignIn> {
        Box::pin(async move {
            let ui = t.ui();
            b.goto(&page).await?;
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

    fn is_signed_in<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
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

    fn sign_out<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
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
        page: Url,
        fake: &'a Secret,
    ) -> Option<Fut<'a, Vec<String>>> {
        Some(Box::pin(async move {
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
        }))
    }

    fn planted_credential(&self, fake: &Secret, real: &Credential) -> Option<Credential> {
        let mut c = Credential::new(fake.clone(), "planted before sign-in");
        c.parts = real.parts.clone();
        // devise_token_auth finds the token by its client: present the planted pair.
        c.parts.insert("client", Secret::new(PLANTED_CLIENT));
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Adapter;
    use crate::apps::profiled::ProfileAdapter;
    use crate::model::AppId;
    use crate::model::{BrowserCookie, Observation};

    fn cw() -> ProfileAdapter {
        let profile =
            crate::profile::shipped::shipped(AppId::Chatwoot).expect("the shipped profile loads");
        ProfileAdapter::new(AppId::Chatwoot, profile)
    }

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
        let all = cw().credentials_in(&o);
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
        assert!(cw().is_server_session_cookie("__Host-_chatwoot_session"));
    }
}
