//! The adapter of a profile application: every operation from the profile's data,
//! through [`super::ProfileClient`] over HTTP and [`super::ui`] in the browser. The planner
//! leaves out what the profile cannot do (`super::scope`), so the refusals below are
//! reached only by a scenario written against that rule.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use url::Url;

use super::client::{ProfileClient, SignedIn, json_at};
use super::schema::Profile;
use crate::apps::{
    Acceptance, Adapter, ApiSignIn, AppId, Fut, RealtimeLink, Target, UiSignIn, strong_password,
};
use crate::browser::BrowserSession;
use crate::model::{Credential, Observation};
use crate::probe::Reply;
use crate::secret::Secret;

pub struct ProfileAdapter {
    app: AppId,
    profile: Arc<Profile>,
    /// `valid.path`, for evidence that names the request.
    valid_path: &'static str,
    /// `sign_in.at_once`: sign-ins (page and API) in flight at once.
    sign_ins: Option<Arc<tokio::sync::Semaphore>>,
}

impl ProfileAdapter {
    pub fn new(app: AppId, profile: Arc<Profile>) -> Self {
        let valid_path = Box::leak(profile.valid.path.clone().into_boxed_str());
        let sign_ins = profile
            .sign_in
            .at_once
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
        Self {
            app,
            profile,
            valid_path,
            sign_ins,
        }
    }

    fn client<'a>(&'a self, t: &'a Target) -> ProfileClient<'a> {
        ProfileClient {
            profile: &self.profile,
            http: &t.http,
        }
    }

    /// Waits for a sign-in slot when the profile limits sign-ins in flight.
    async fn sign_in_turn(&self) -> anyhow::Result<Option<tokio::sync::SemaphorePermit<'_>>> {
        Ok(match &self.sign_ins {
            Some(s) => Some(s.acquire().await?),
            None => None,
        })
    }

    fn none(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!("{} has no {what} in its profile", self.profile.app.title)
    }
}

impl Adapter for ProfileAdapter {
    fn app(&self) -> AppId {
        self.app
    }

    fn login_page(&self, t: &Target) -> Url {
        t.http.url(&self.profile.login_page.path)
    }

    fn is_session_cookie(&self, name: &str) -> bool {
        let c = &self.profile.credential;
        c.cookies.iter().any(|n| n == name) || c.present.cookie.as_deref() == Some(name)
    }

    fn credentials_in(&self, obs: &Observation) -> Vec<Credential> {
        let c = &self.profile.credential;
        let mut out = Vec::new();
        for name in c.present.cookie.iter().chain(&c.cookies) {
            for ck in obs.cookies.iter().filter(|k| &k.name == name) {
                if !ck.value.is_empty() && !out.iter().any(|o: &Credential| o.token == ck.value) {
                    out.push(Credential::new(ck.value.clone(), format!("cookie {name}")));
                }
            }
        }
        for key in &c.storage {
            let (store, label) = if key.session {
                (&obs.session_storage, "sessionStorage")
            } else {
                (&obs.local_storage, "localStorage")
            };
            let Some(raw) = store.get(&key.key) else {
                continue;
            };
            let value = match &key.json {
                Some(path) => serde_json::from_str::<serde_json::Value>(raw.expose())
                    .ok()
                    .and_then(|v| {
                        json_at(&v, path)
                            .and_then(|v| v.as_str())
                            .map(str::to_string)
                    }),
                None => Some(raw.expose().to_string()),
            };
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                out.push(Credential::new(
                    Secret::new(v),
                    format!("{label} {}", key.key),
                ));
            }
        }
        out
    }

    fn identify<'a>(&'a self, t: &'a Target) -> Fut<'a, String> {
        Box::pin(async move {
            let path = &self.profile.login_page.path;
            let r = t
                .http
                .send(t.http.request(reqwest::Method::GET, path))
                .await?;
            if r.status >= 400 {
                bail!(
                    "the login page of the profile {} answers {}: is the URL right?",
                    self.profile.app.name,
                    r.summary(&t.masker)
                );
            }
            Ok(format!(
                "{} (profile): {path} answers {}",
                self.profile.app.title, r.status
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
            // The page's sign-in counts against the same limit as the API's.
            let _turn = self.sign_in_turn().await?;
            super::ui::sign_in(b, t.url(), &self.profile.login_page, login, password).await
        })
    }

    fn is_signed_in_ui<'a>(&'a self, _t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
        Box::pin(super::ui::is_signed_in(b, &self.profile.login_page))
    }

    fn sign_out_ui<'a>(&'a self, _t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
        Box::pin(async move {
            let clicks = self
                .profile
                .sign_out
                .as_ref()
                .map(|s| s.ui.clone())
                .unwrap_or_default();
            if clicks.is_empty() {
                return Err(self.none("sign-out through the page (`sign_out.ui`)"));
            }
            for css in &clicks {
                b.wait_any(&[css.as_str()], super::ui::PAGE_WAIT)
                    .await
                    .with_context(|| format!("sign_out.ui: {css} did not appear"))?;
                b.click(css)
                    .await
                    .with_context(|| format!("sign_out.ui: clicking {css}"))?;
            }
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
            let c = &self.profile.credential;
            let mut places = Vec::new();
            for name in c.present.cookie.iter().chain(&c.cookies) {
                if !places.contains(&format!("cookie {name}")) {
                    b.plant_cookie(&page, name, fake.expose(), https).await?;
                    places.push(format!("cookie {name}"));
                }
            }
            for key in c.storage.iter().filter(|k| !k.session) {
                let value = match &key.json {
                    Some(path) if !path.contains('.') => {
                        serde_json::json!({ path.as_str(): fake.expose() }).to_string()
                    }
                    Some(_) => continue,
                    None => fake.expose().to_string(),
                };
                b.plant_storage(&key.key, &value).await?;
                places.push(format!("localStorage {}", key.key));
            }
            Ok(places)
        })
    }

    fn token_link(&self, t: &Target, cred: &Credential) -> Option<Url> {
        let link = self.profile.token_link.as_ref()?;
        let token: String =
            url::form_urlencoded::byte_serialize(cred.token.expose().as_bytes()).collect();
        t.url()
            .join(link.path.replace("{token}", &token).trim_start_matches('/'))
            .ok()
    }

    fn sign_in_api_claiming<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
        _address: Option<&'a str>,
    ) -> Fut<'a, ApiSignIn> {
        Box::pin(async move {
            let _turn = self.sign_in_turn().await?;
            Ok(match self.client(t).sign_in(login, password).await? {
                SignedIn::Accepted(cred) => ApiSignIn::SignedIn(cred),
                SignedIn::Refused(evidence) => ApiSignIn::Rejected { evidence },
                SignedIn::Throttled(evidence) => ApiSignIn::Throttled { evidence },
            })
        })
    }

    fn failed_sign_in_block(&self) -> (u32, Duration) {
        // The planner leaves the brute-force steps out for profiles (no documented lockout).
        (u32::MAX, Duration::ZERO)
    }

    fn who_am_i<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, (Reply, &'static str)> {
        Box::pin(async move { Ok((self.client(t).replay(cred).await?, self.valid_path)) })
    }

    fn realtime_path(&self) -> &'static str {
        ""
    }

    fn accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move { self.client(t).accepts(cred).await })
    }

    fn sign_out_api<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, String> {
        Box::pin(async move {
            self.client(t)
                .sign_out(cred)
                .await?
                .ok_or_else(|| self.none("sign-out request (`sign_out.request`)"))
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
            self.client(t)
                .change_password(cred, current, new)
                .await?
                .ok_or_else(|| self.none("password change (`[password_change]`)"))
        })
    }

    fn realtime_accepts<'a>(&'a self, _t: &'a Target, _c: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move { Err(self.none("realtime channel")) })
    }

    fn realtime_open<'a>(
        &'a self,
        _t: &'a Target,
        _c: &'a Credential,
    ) -> Fut<'a, Box<dyn RealtimeLink>> {
        Box::pin(async move { Err(self.none("realtime channel")) })
    }

    fn advertised_expiry<'a>(
        &'a self,
        _t: &'a Target,
        _cred: &'a Credential,
        _obs: Option<&'a Observation>,
    ) -> Fut<'a, Vec<(String, DateTime<Utc>)>> {
        // Only the cookies' own expiry, which the step reads itself.
        Box::pin(async move { Ok(Vec::new()) })
    }

    fn expiry_slack(&self) -> Duration {
        Duration::ZERO
    }

    fn realtime_close_deadline(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn new_password(&self) -> Secret {
        strong_password()
    }
}
