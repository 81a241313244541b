//! The adapter of a profile application: every operation from the profile's data,
//! through [`crate::profile::ProfileClient`] over HTTP and [`login`] in the browser. The
//! planner leaves out what the profile cannot do (`profile::scope`), so the refusals below are
//! reached only by a scenario written against that rule.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use url::Url;

pub mod login;
pub mod plugins;

use crate::apps::page::Page;
use crate::apps::{
    Acceptance, Adapter, ApiSignIn, AppId, Fut, RealtimeLink, Target, UiSignIn, strong_password,
};
use crate::browser::BrowserSession;
use crate::model::{ChangeAttempt, Credential, Observation};
use crate::probe::Reply;
use crate::profile::client::{ProfileClient, SignedIn, json_at, same_cookie};
use crate::profile::schema::Profile;
use crate::secret::Secret;

pub struct ProfileAdapter {
    app: AppId,
    profile: Arc<Profile>,
    /// `valid.path`, for evidence that names the request.
    valid_path: &'static str,
    /// `plugins.realtime.path`, or empty.
    realtime_path: &'static str,
    /// `sign_in.at_once`: sign-ins (page and API) in flight at once.
    sign_ins: Option<Arc<tokio::sync::Semaphore>>,
    /// `plugins.page`: page code where the profile's selectors can't drive the page.
    page: Option<Box<dyn Page>>,
}

impl ProfileAdapter {
    pub fn new(app: AppId, profile: Arc<Profile>) -> Self {
        let valid_path = Box::leak(profile.valid.path.clone().into_boxed_str());
        let realtime_path = match &profile.plugins.realtime {
            Some(r) => Box::leak(r.path.clone().into_boxed_str()),
            None => "",
        };
        let sign_ins = profile
            .sign_in
            .at_once
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
        Self {
            app,
            page: profile
                .plugins
                .page
                .as_deref()
                .and_then(crate::apps::page_named),
            profile,
            valid_path,
            realtime_path,
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

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The realtime plug-in's path, or the error that the profile has none.
    fn realtime(&self) -> anyhow::Result<(&str, &str)> {
        match &self.profile.plugins.realtime {
            Some(r) => Ok((r.plugin.as_str(), self.realtime_path)),
            None => Err(self.none("realtime channel (`[plugins.realtime]`)")),
        }
    }

    fn cable_channel(&self) -> &str {
        self.profile
            .plugins
            .realtime
            .as_ref()
            .and_then(|r| r.channel.as_deref())
            .unwrap_or_default()
    }

    fn none(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!("{} has no {what} in its profile", self.profile.app.title)
    }

    /// Every credential the profile says where to find, preferred first.
    fn profile_credentials_in(&self, obs: &Observation) -> Vec<Credential> {
        let c = &self.profile.credential;
        let cookie_value = |v: &Secret| {
            if c.uri_encoded {
                crate::model::percent_decode(v.expose())
            } else {
                v.expose().to_string()
            }
        };
        // Web storage first: a script-kept token is what the page itself sends. A JSON
        // cookie or storage value carries its parts and expiry beside the token.
        let mut found: Vec<(String, String, Option<serde_json::Value>)> = Vec::new();
        for key in &c.storage {
            if let Some((v, place, json)) = storage_value(obs, key) {
                found.push((v, place, json));
            }
        }
        for name in c.present.cookie.iter().chain(&c.cookies) {
            for ck in obs.cookies.iter().filter(|k| same_cookie(&k.name, name)) {
                let raw = cookie_value(&ck.value);
                let place = format!("cookie {}", ck.name);
                match &c.cookie_json {
                    Some(path) => {
                        let Ok(j) = serde_json::from_str::<serde_json::Value>(&raw) else {
                            continue;
                        };
                        if let Some(t) = json_at(&j, path).and_then(|v| v.as_str()) {
                            found.push((t.to_string(), place, Some(j.clone())));
                        }
                    }
                    None => found.push((raw, place, None)),
                }
            }
        }
        let mut parts: Vec<(&'static str, Secret)> = Vec::new();
        for (name, spec) in &c.parts {
            let value = spec
                .storage
                .iter()
                .find_map(|k| storage_value(obs, k).map(|(v, _, _)| v))
                .or_else(|| {
                    spec.cookies.iter().find_map(|n| {
                        obs.cookies
                            .iter()
                            .find(|k| same_cookie(&k.name, n) && !k.value.is_empty())
                            .map(|k| cookie_value(&k.value))
                    })
                });
            if let Some(v) = value {
                parts.push((crate::profile::client::intern(name), Secret::new(v)));
            }
        }
        let mut out: Vec<Credential> = Vec::new();
        for (value, place, json) in found {
            if value.is_empty() || out.iter().any(|o| o.token.expose() == value) {
                continue;
            }
            let mut cred = Credential::new(Secret::new(value.clone()), place);
            cred.found_in = obs.places_holding(&value);
            if cred.found_in.is_empty() {
                cred.found_in = vec![cred_place(&cred)];
            }
            for (name, v) in &parts {
                cred.parts.insert(name, v.clone());
            }
            if let Some(j) = &json {
                let beside = |path: &str| {
                    json_at(j, path).and_then(|v| match v {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                for (name, spec) in &c.parts {
                    if let Some(v) = spec.beside.as_deref().and_then(beside) {
                        cred.parts
                            .insert(crate::profile::client::intern(name), Secret::new(v));
                    }
                }
                if let Some(e) = &c.expiry {
                    let raw = e.beside.as_deref().and_then(beside);
                    e.record(raw, &mut cred, obs.taken_at);
                }
            }
            if cred.expires_at.is_none() && cred.expiry_unread.is_none() {
                cred.expires_at = crate::model::jwt_expiry(cred.token.expose());
            }
            out.push(cred);
        }
        out
    }
}

fn cred_place(c: &Credential) -> String {
    c.found_in.first().cloned().unwrap_or_default()
}

/// The token a storage key holds (inside its JSON when the key says so), its place, and
/// the stored JSON when the token is inside it.
fn storage_value(
    obs: &Observation,
    key: &crate::profile::schema::StorageKey,
) -> Option<(String, String, Option<serde_json::Value>)> {
    let (store, label) = if key.session {
        (&obs.session_storage, "sessionStorage")
    } else {
        (&obs.local_storage, "localStorage")
    };
    let raw = store.get(&key.key)?;
    let (value, json) = match &key.json {
        Some(path) => {
            let j = serde_json::from_str::<serde_json::Value>(raw.expose()).ok()?;
            let token = json_at(&j, path)?.as_str()?.to_string();
            (token, Some(j))
        }
        None => (raw.expose().to_string(), None),
    };
    (!value.is_empty()).then(|| (value, format!("{label} {}", key.key), json))
}

impl Adapter for ProfileAdapter {
    fn app(&self) -> AppId {
        self.app
    }

    fn login_page(&self, t: &Target) -> Url {
        t.http.url(&self.profile.login_page.path)
    }

    fn token_alphabet(&self) -> Option<crate::checks::entropy::Alphabet> {
        // Checked when the profile was loaded.
        self.profile
            .credential
            .alphabet
            .as_deref()
            .and_then(crate::checks::entropy::Alphabet::parse)
    }

    fn is_session_cookie(&self, name: &str) -> bool {
        let c = &self.profile.credential;
        c.cookies.iter().any(|n| same_cookie(name, n))
            || c.present
                .cookie
                .as_deref()
                .is_some_and(|n| same_cookie(name, n))
            || self.is_server_session_cookie(name)
    }

    fn credentials_in(&self, obs: &Observation) -> Vec<Credential> {
        let mut found = self.profile_credentials_in(obs);
        if let Some(page) = &self.page {
            page.refine(obs, &mut found);
        }
        found
    }

    fn identify<'a>(&'a self, t: &'a Target) -> Fut<'a, String> {
        Box::pin(async move {
            match self.client(t).identify().await? {
                Ok(shown) => Ok(format!(
                    "{} at {}: {shown}",
                    self.profile.app.title,
                    t.url()
                )),
                Err(shown) => bail!(
                    "{} does not look like {}: {shown}. Check {}_URL",
                    t.url(),
                    self.profile.app.title,
                    self.app.env_prefix()
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
            // The page's sign-in counts against the same limit as the API's.
            let _turn = self.sign_in_turn().await?;
            match &self.page {
                Some(page) => {
                    page.sign_in(t, b, self.login_page(t), login, password)
                        .await
                }
                None => login::sign_in(b, t.url(), &self.profile.login_page, login, password).await,
            }
        })
    }

    fn is_signed_in_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool> {
        match &self.page {
            Some(page) => page.is_signed_in(t, b),
            None => Box::pin(login::is_signed_in(b, &self.profile.login_page)),
        }
    }

    fn sign_out_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()> {
        if let Some(page) = &self.page {
            return page.sign_out(t, b);
        }
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
                b.wait_any(&[css.as_str()], login::PAGE_WAIT)
                    .await
                    .with_context(|| format!("sign_out.ui: {css} did not appear"))?;
                b.click(css)
                    .await
                    .with_context(|| format!("sign_out.ui: clicking {css}"))?;
            }
            login::wait_signed_out(b, &self.profile.login_page).await
        })
    }

    fn plant<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        fake: &'a Secret,
    ) -> Fut<'a, Vec<String>> {
        if let Some(planted) = self
            .page
            .as_ref()
            .and_then(|p| p.plant(t, b, self.login_page(t), fake))
        {
            return planted;
        }
        Box::pin(async move {
            let page = self.login_page(t);
            b.goto(&page).await?;
            let https = t.url().scheme() == "https";
            let c = &self.profile.credential;
            let mut places = Vec::new();
            for bare in c.present.cookie.iter().chain(&c.cookies) {
                // Over HTTPS the application may read the prefixed name instead.
                let prefixed = https.then(|| format!("__Host-{bare}"));
                for name in std::iter::once(bare.clone()).chain(prefixed) {
                    if !places.contains(&format!("cookie {name}")) {
                        b.plant_cookie(&page, &name, fake.expose(), https).await?;
                        places.push(format!("cookie {name}"));
                    }
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

    fn planted_credential(&self, fake: &Secret, real: &Credential) -> Credential {
        self.page
            .as_ref()
            .and_then(|p| p.planted_credential(fake, real))
            .unwrap_or_else(|| crate::apps::planted_beside(fake, real))
    }

    fn token_link(&self, t: &Target, cred: &Credential) -> Option<Url> {
        let link = self.profile.token_link.as_ref()?;
        let (path, query) = link
            .path
            .split_once('?')
            .unwrap_or((link.path.as_str(), ""));
        let mut url = t.http.url(path);
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                // A pair naming a part the credential lacks is left out.
                crate::profile::client::fill_parts(v, cred).map(|v| (k.to_string(), v))
            })
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Some(url)
    }

    fn sign_in_api_claiming<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
        address: Option<&'a str>,
    ) -> Fut<'a, ApiSignIn> {
        Box::pin(async move {
            let _turn = self.sign_in_turn().await?;
            Ok(
                match self.client(t).sign_in(login, password, address).await? {
                    SignedIn::Accepted(cred) => ApiSignIn::SignedIn(cred),
                    SignedIn::Refused(evidence) => ApiSignIn::Rejected { evidence },
                    SignedIn::Throttled(evidence) => ApiSignIn::Throttled { evidence },
                },
            )
        })
    }

    fn failed_sign_in_block(&self) -> (u32, Duration) {
        // Without a documented lockout the planner leaves the brute-force steps out.
        match &self.profile.sign_in.lockout {
            Some(l) => (l.after, Duration::from_secs(l.seconds)),
            None => (u32::MAX, Duration::ZERO),
        }
    }

    fn who_am_i<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, (Reply, &'static str)> {
        Box::pin(async move { Ok((self.client(t).replay(cred).await?, self.valid_path)) })
    }

    fn realtime_path(&self) -> &'static str {
        self.realtime_path
    }

    fn accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move { self.client(t).accepts(cred).await })
    }

    fn uses<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move { self.client(t).uses(cred).await })
    }

    fn sign_out_api<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, String> {
        Box::pin(async move {
            self.client(t)
                .sign_out(cred)
                .await?
                .ok_or_else(|| self.none("sign-out request (`sign_out.request`)"))
        })
    }

    fn change_password_wrongly<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        wrong: &'a Secret,
        new: &'a Secret,
    ) -> Fut<'a, Option<Vec<ChangeAttempt>>> {
        Box::pin(async move {
            self.client(t)
                .change_password_wrongly(cred, wrong, new)
                .await
        })
    }

    fn can_deactivate(&self) -> bool {
        self.profile.deactivation.is_some()
    }

    fn set_active<'a>(
        &'a self,
        t: &'a Target,
        admin: &'a Credential,
        user: &'a Credential,
        active: bool,
    ) -> Fut<'a, Option<String>> {
        Box::pin(async move { self.client(t).set_active(admin, user, active).await })
    }

    fn sign_out_others<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Option<String>> {
        Box::pin(async move { self.client(t).sign_out_others(cred).await })
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

    fn realtime_accepts<'a>(&'a self, t: &'a Target, c: &'a Credential) -> Fut<'a, Acceptance> {
        Box::pin(async move {
            match self.realtime()? {
                ("meteor-ddp", path) => plugins::ddp::accepts(t, path, c).await,
                ("node-red-comms", path) => plugins::comms::accepts(t, path, c).await,
                ("actioncable-room", path) => {
                    plugins::cable::accepts(t, path, self.cable_channel(), c).await
                }
                (other, _) => bail!("unknown realtime plug-in {other}"),
            }
        })
    }

    fn realtime_open<'a>(
        &'a self,
        t: &'a Target,
        c: &'a Credential,
    ) -> Fut<'a, Box<dyn RealtimeLink>> {
        Box::pin(async move {
            match self.realtime()? {
                ("meteor-ddp", path) => plugins::ddp::open(t, path, c).await,
                ("node-red-comms", path) => plugins::comms::open(t, path, c).await,
                ("actioncable-room", path) => {
                    plugins::cable::open(t, path, self.cable_channel(), c).await
                }
                (other, _) => bail!("unknown realtime plug-in {other}"),
            }
        })
    }

    fn advertised_expiry<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        obs: Option<&'a Observation>,
    ) -> Fut<'a, Vec<(String, DateTime<Utc>)>> {
        Box::pin(async move {
            match self
                .profile
                .plugins
                .realtime
                .as_ref()
                .map(|r| r.plugin.as_str())
            {
                Some("meteor-ddp") => {
                    plugins::ddp::advertised_expiry(t, self.realtime_path, cred, obs).await
                }
                // The expiry the sign-in advertised, if the profile says where; the
                // cookies' own expiry the step reads itself.
                _ => {
                    if let Some(why) = &cred.expiry_unread {
                        anyhow::bail!("the advertised expiry cannot be read ({why})");
                    }
                    Ok(match (&self.profile.credential.expiry, cred.expires_at) {
                        (Some(e), Some(at)) => vec![(e.name.clone(), at)],
                        (None, Some(at))
                            if crate::model::jwt_expiry(cred.token.expose()).is_some() =>
                        {
                            vec![("the JWT's exp claim".to_string(), at)]
                        }
                        _ => Vec::new(),
                    })
                }
            }
        })
    }

    fn expiry_slack(&self) -> Duration {
        Duration::from_secs(self.profile.credential.expiry_slack_seconds)
    }

    fn realtime_close_deadline(&self) -> Duration {
        Duration::from_secs(
            self.profile
                .plugins
                .realtime
                .as_ref()
                .map_or(5, |r| r.close_within_seconds),
        )
    }

    fn new_password(&self) -> Secret {
        strong_password()
    }

    fn enrich<'a>(&'a self, t: &'a Target, cred: Credential) -> Fut<'a, Credential> {
        Box::pin(async move {
            let cred = self.client(t).enrich(cred).await?;
            t.remember(&cred);
            Ok(cred)
        })
    }

    fn long_lived_accepts<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Vec<(String, Acceptance)>> {
        Box::pin(async move { self.client(t).long_lived(cred).await })
    }

    fn is_server_session_cookie(&self, name: &str) -> bool {
        self.profile
            .plugins
            .server_session
            .as_ref()
            .is_some_and(|s| same_cookie(name, &s.cookie))
    }

    fn open_server_session(&self, t: &Target, value: &str) -> Option<crate::apps::ServerSession> {
        let s = self.profile.plugins.server_session.as_ref()?;
        plugins::rails::open(t, s, value)
    }

    fn known_secret_verdict(&self, obs: &Observation) -> Option<crate::checks::Verdict> {
        let s = self.profile.plugins.server_session.as_ref()?;
        Some(plugins::rails::known_secret_verdict(s, obs))
    }

    fn sign_in_throttle(&self) -> Option<(u32, Duration)> {
        self.profile
            .sign_in
            .throttle
            .as_ref()
            .map(|t| (t.attempts, Duration::from_secs(t.seconds)))
    }

    fn sessions_per_account(&self) -> Option<usize> {
        self.profile.app.sessions_per_account
    }
}
