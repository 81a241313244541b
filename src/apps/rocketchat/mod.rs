//! Rocket.Chat: its shipped profile (`profiles/rocketchat.toml`) says everything as data,
//! with the `meteor-ddp` and `sha256-hex` plug-ins; only the login page's flows are code
//! here, plugged into the profile adapter. Every page fact it relies on lives in [`facts`].

pub use crate::facts::rocketchat as facts;

use std::time::Duration;

use anyhow::{Context as _, bail};
use url::Url;

use super::{Fut, Target, UiSignIn};
use crate::browser::BrowserSession;
use crate::model::{Credential, Observation};
use crate::secret::Secret;

/// Rocket.Chat's login page, user menu and Meteor client storage.
pub struct Page;

const PAGE_WAIT: Duration = Duration::from_secs(20);

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
            let user_field = ui.get(&facts::UI_USERNAME);
            let signed_in = ui.get(&facts::UI_SIGNED_IN);
            b.goto(&page).await?;
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

    fn is_signed_in<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
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

    fn sign_out<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
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

    fn refine(&self, obs: &Observation, found: &mut [Credential]) {
        // What the Meteor client was told at login, for the expiry checks.
        let expires = [&obs.local_storage, &obs.session_storage]
            .iter()
            .find_map(|s| s.get(crate::apps::profiled::plugins::ddp::STORAGE_TOKEN_EXPIRES))
            .and_then(|v| crate::apps::profiled::plugins::ddp::parse_js_date(v.expose()));
        for c in found.iter_mut() {
            c.expires_at = expires;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Adapter;
    use crate::apps::profiled::ProfileAdapter;
    use crate::model::AppId;
    use crate::model::BrowserCookie;

    fn rc() -> ProfileAdapter {
        let profile =
            crate::profile::shipped::shipped(AppId::RocketChat).expect("the shipped profile loads");
        ProfileAdapter::new(AppId::RocketChat, profile)
    }

    /// The shipped profile documents the selectors the page code uses.
    #[test]
    fn the_profile_names_the_page_codes_selectors() {
        let p = crate::profile::shipped::shipped(AppId::RocketChat).unwrap();
        let l = &p.login_page;
        assert_eq!(l.user, facts::SEL_USERNAME);
        assert_eq!(l.password, facts::SEL_PASSWORD);
        assert_eq!(l.submit, facts::SEL_SUBMIT);
        assert_eq!(l.refused.as_deref(), Some(facts::SEL_LOGIN_ERROR));
        assert_eq!(l.signed_in.selector.as_deref(), Some(facts::SEL_SIGNED_IN));
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
        let all = rc().credentials_in(&o);
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
        let c = &rc().credentials_in(&o)[0];
        assert_eq!(c.found_in, vec!["cookie __Host-rc_token"]);
        assert_eq!(c.part("user_id").unwrap().expose(), "uid");
        assert!(rc().credentials_in(&Observation::empty()).is_empty());
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
        let all = rc().credentials_in(&o);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].found_in, vec!["cookie __Host-rc_token"]);
    }
}
