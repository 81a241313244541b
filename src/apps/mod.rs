//! One adapter per application: how to sign in (page and API), where the session
//! credential lives, which request proves it valid, how to sign out, how to
//! change the password, and the realtime channel. Steps only talk to this trait,
//! so a new application is a new adapter, not new steps.

pub mod chatwoot;
pub mod page;
pub mod profiled;
pub mod rocketchat;
pub use crate::facts::ui;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::browser::BrowserSession;
use crate::config::TargetConfig;
use crate::model::{ChangeAttempt, Credential, Observation};
use crate::probe::{Http, ProbeError, Reply};
use crate::secret::{Masker, Secret};

pub use crate::model::AppId;
use crate::profile::registry::profile_of;

/// The page plug-in a profile names in `plugins.page` (the names in
/// [`crate::profile::schema::PAGE_PLUGINS`]).
pub fn page_named(name: &str) -> Option<Box<dyn page::Page>> {
    match name {
        "rocketchat-login" => Some(Box::new(rocketchat::Page)),
        "chatwoot-login" => Some(Box::new(chatwoot::Page)),
        _ => None,
    }
}

/// A future returned by an adapter; errors are infrastructure trouble, never findings.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = anyhow::Result<T>> + 'a>>;

/// How a sign-in through the login page ended.
#[derive(Debug, Clone)]
pub enum UiSignIn {
    SignedIn,
    /// The page refused and showed this.
    Rejected {
        shown: String,
    },
    /// The application throttles sign-ins from this address (infrastructure, not a verdict).
    Throttled {
        shown: String,
    },
    /// The form stayed, with neither the signed-in page nor any error, for this long.
    Silent {
        waited: Duration,
    },
}

/// How long a login page may take to answer a submitted form before its silence is believed.
pub const LOGIN_ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Judges the wait after a login form was submitted: what it found, or, when it timed out
/// with the form (`form`, a CSS selector) still there and nothing else, the page's silent
/// refusal as `Err(UiSignIn::Silent)`. Any other failure is trouble, described by `neither`.
pub async fn login_answer<T>(
    b: &BrowserSession,
    waited: Result<T, crate::browser::BrowserError>,
    form: &str,
    neither: impl FnOnce() -> String,
) -> anyhow::Result<Result<T, UiSignIn>> {
    match waited {
        Ok(found) => Ok(Ok(found)),
        Err(crate::browser::BrowserError::Timeout(_)) if b.is_visible(form).await => {
            Ok(Err(UiSignIn::Silent {
                waited: LOGIN_ANSWER_WAIT,
            }))
        }
        Err(e) => Err(anyhow::Error::new(e).context(neither())),
    }
}

/// How a sign-in through the API ended.
#[derive(Debug, Clone)]
pub enum ApiSignIn {
    SignedIn(Credential),
    Rejected { evidence: String },
    Throttled { evidence: String },
}

pub use crate::model::Acceptance;

/// What a framework session cookie holds, once opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSession {
    pub id: String,
    /// The signed-in user is stored in it (e.g. Warden's `warden.user.user.key`).
    pub holds_user: bool,
    /// Which secret opened it, for evidence.
    pub opened_with: String,
}

/// An authenticated realtime connection kept open.
pub trait RealtimeLink {
    /// Waits up to `within` for the server to end this connection's session; the reason if it did.
    fn ended_within(&mut self, within: Duration) -> Fut<'_, Option<String>>;
    fn close(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// An authenticated realtime connection over a websocket. It has ended when the server
/// closes it or sends a message `ended` recognises; `reply` answers protocol pings meanwhile.
pub struct SocketLink {
    ws: Option<crate::probe::JsonSocket>,
    ended: fn(&serde_json::Value) -> bool,
    reply: fn(&serde_json::Value) -> Option<serde_json::Value>,
}

impl SocketLink {
    pub fn boxed(
        ws: crate::probe::JsonSocket,
        ended: fn(&serde_json::Value) -> bool,
        reply: fn(&serde_json::Value) -> Option<serde_json::Value>,
    ) -> Box<dyn RealtimeLink> {
        Box::new(Self {
            ws: Some(ws),
            ended,
            reply,
        })
    }
}

impl RealtimeLink for SocketLink {
    fn ended_within(&mut self, within: Duration) -> Fut<'_, Option<String>> {
        Box::pin(async move {
            let Some(ws) = self.ws.as_mut() else {
                return Ok(Some("already closed".into()));
            };
            match ws.recv_until(within, self.ended, self.reply).await {
                crate::probe::Received::Closed(why) => {
                    self.ws = None;
                    Ok(Some(why))
                }
                crate::probe::Received::Message(m) => Ok(Some(format!("server sent {m}"))),
                crate::probe::Received::TimedOut => Ok(None),
            }
        })
    }

    fn close(mut self: Box<Self>) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            if let Some(ws) = self.ws.take() {
                ws.close().await;
            }
        })
    }
}

/// One deployment, ready to be probed.
pub struct Target {
    pub config: TargetConfig,
    pub http: Http,
    pub masker: Masker,
}

impl Target {
    pub fn new(config: TargetConfig, masker: Masker) -> Result<Self, ProbeError> {
        masker.register(&config.account.password);
        if let Some(a) = &config.admin {
            masker.register(&a.password);
        }
        if let Some(k) = &config.secret_key_base {
            masker.register(k);
        }
        let http = Http::new(&config.url, config.insecure_tls, masker.clone())?;
        Ok(Self {
            config,
            http,
            masker,
        })
    }

    pub fn app(&self) -> AppId {
        self.config.app
    }

    pub fn url(&self) -> &Url {
        &self.config.url
    }

    /// The page facts in force (the adapter's, with the user's overrides).
    pub fn ui(&self) -> &ui::Ui {
        &self.config.ui
    }

    /// Registers every secret of `cred` so no output shows it whole.
    pub fn remember(&self, cred: &Credential) {
        for s in cred.secrets() {
            self.masker.register(s);
        }
    }
}

pub trait Adapter: Send + Sync {
    fn app(&self) -> AppId;

    /// The page a signed-out browser opens to sign in.
    fn login_page(&self, t: &Target) -> Url;

    /// Whether a cookie of this name carries the session (known names, any prefix).
    fn is_session_cookie(&self, name: &str) -> bool;

    /// The alphabet the application writes its tokens in, where it is stated; the
    /// token-strength check reads it from the sample otherwise.
    fn token_alphabet(&self) -> Option<crate::checks::entropy::Alphabet> {
        None
    }

    /// Every session credential the browser holds, wherever the application keeps it,
    /// preferred first. Several can coexist (a stale or planted value beside the live one).
    fn credentials_in(&self, obs: &Observation) -> Vec<Credential>;

    /// Checks the URL serves this application; a short description for the log.
    fn identify<'a>(&'a self, t: &'a Target) -> Fut<'a, String>;

    fn sign_in_ui<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        login: &'a str,
        password: &'a Secret,
    ) -> Fut<'a, UiSignIn>;

    /// Whether the page shows a signed-in user (waits for the page to settle).
    fn is_signed_in_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool>;

    fn sign_out_ui<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()>;

    /// Plants `fake` wherever the application reads a session from; returns the places.
    fn plant<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        fake: &'a Secret,
    ) -> Fut<'a, Vec<String>>;

    /// The planted token as the application would read it back: `fake` with whatever
    /// else [`Adapter::plant`] wrote beside it, or else the real session's other parts.
    fn planted_credential(&self, fake: &Secret, real: &Credential) -> Credential {
        planted_beside(fake, real)
    }

    /// A link that would sign a browser in with `cred`, if the application has such links.
    fn token_link(&self, t: &Target, cred: &Credential) -> Option<Url>;

    fn sign_in_api<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
    ) -> Fut<'a, ApiSignIn> {
        self.sign_in_api_claiming(t, login, password, None)
    }

    /// A sign-in through the API whose request claims, when `address` is given, to come
    /// from that client address (`X-Forwarded-For` and `X-Real-IP`). A blocked sign-in
    /// (the application's lockout or throttle) is [`ApiSignIn::Throttled`].
    fn sign_in_api_claiming<'a>(
        &'a self,
        t: &'a Target,
        login: &'a str,
        password: &'a Secret,
        address: Option<&'a str>,
    ) -> Fut<'a, ApiSignIn>;

    /// The application's documented block of repeated failed sign-ins: failures before
    /// the block, and how long it lasts.
    fn failed_sign_in_block(&self) -> (u32, Duration);

    /// The raw answer of the API's "who am I" request for `cred`, and its path.
    fn who_am_i<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, (Reply, &'static str)>;

    /// The path of the realtime channel's websocket (its TLS endpoint is probed too).
    fn realtime_path(&self) -> &'static str;

    /// Replays `cred` against the API's "who am I" request. Accepted: 200. Refused: only
    /// the application's documented refusal (status and body). Anything else is an error.
    fn accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance>;

    /// Uses the session on the same request as the user does, through its live cookie
    /// jar (a sliding session is followed as it re-issues its cookie). Where the
    /// application keeps no cookies this is the same as `accepts`.
    fn uses<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance> {
        self.accepts(t, cred)
    }

    fn sign_out_api<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, String>;

    /// Whether an administrator can deactivate an account ([`Adapter::set_active`]).
    fn can_deactivate(&self) -> bool {
        false
    }

    /// Deactivates (`active` false) or reactivates the test account whose session is `user`,
    /// as the administrator whose session is `admin`; the evidence, or `None` if the
    /// application has no such request.
    fn set_active<'a>(
        &'a self,
        t: &'a Target,
        admin: &'a Credential,
        user: &'a Credential,
        active: bool,
    ) -> Fut<'a, Option<String>>;

    /// Signs out every other session of the account using `cred`, keeping `cred`'s; the
    /// evidence of the exchange, or `None` if the application offers no such request.
    fn sign_out_others<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Option<String>>;

    /// Changes the password using `cred`; the evidence of the exchange.
    fn change_password<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        current: &'a Secret,
        new: &'a Secret,
    ) -> Fut<'a, String>;

    /// Sends every request that changes the password with `wrong` as the current password
    /// (or none, where a request carries none), until one is accepted; `None` if the
    /// application has no password change.
    fn change_password_wrongly<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        wrong: &'a Secret,
        new: &'a Secret,
    ) -> Fut<'a, Option<Vec<ChangeAttempt>>>;

    /// Opens a fresh realtime connection and authenticates it with `cred`. Refused: only
    /// the channel's documented refusal (Rocket.Chat: the DDP errors for a removed or
    /// expired token; Chatwoot: silence on a socket that kept receiving pings). A closed
    /// socket, another error or no answer at all is an error.
    fn realtime_accepts<'a>(&'a self, t: &'a Target, cred: &'a Credential) -> Fut<'a, Acceptance>;

    fn realtime_open<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
    ) -> Fut<'a, Box<dyn RealtimeLink>>;

    /// Expiries the application advertised to its client for this session (not cookies).
    fn advertised_expiry<'a>(
        &'a self,
        t: &'a Target,
        cred: &'a Credential,
        obs: Option<&'a Observation>,
    ) -> Fut<'a, Vec<(String, DateTime<Utc>)>>;

    /// How late the application may enforce expiry on its API (a periodic sweep).
    fn expiry_slack(&self) -> Duration;

    /// How long the server may take to close a realtime connection whose session ended.
    fn realtime_close_deadline(&self) -> Duration;

    /// A strong password the application's policy accepts.
    fn new_password(&self) -> Secret;

    /// Adds what the application hands out with a session but keeps outside the
    /// browser's cookies (Chatwoot's API access token and pubsub token).
    fn enrich<'a>(&'a self, _t: &'a Target, cred: Credential) -> Fut<'a, Credential> {
        Box::pin(async move { Ok(cred) })
    }

    /// Replays the long-lived secrets handed out with the session; empty if there are none.
    /// Refused only with the application's documented refusal, as for [`Adapter::accepts`].
    fn long_lived_accepts<'a>(
        &'a self,
        _t: &'a Target,
        _cred: &'a Credential,
    ) -> Fut<'a, Vec<(String, Acceptance)>> {
        Box::pin(async move { Ok(Vec::new()) })
    }

    /// Whether `name` is the server framework's own session cookie (Rails `_chatwoot_session`).
    fn is_server_session_cookie(&self, _name: &str) -> bool {
        false
    }

    /// Opens the framework's own session cookie with the deployment's configured secret or
    /// a publicly known one: its session id and whether it holds the signed-in user.
    fn open_server_session(&self, _t: &Target, _value: &str) -> Option<ServerSession> {
        None
    }

    /// Whether the application's sealed cookies open with a publicly known secret;
    /// `None` when it has no such cookies.
    fn known_secret_verdict(&self, _obs: &Observation) -> Option<crate::checks::Verdict> {
        None
    }

    /// The application's own sign-in throttle, if it has one: (attempts, period).
    fn sign_in_throttle(&self) -> Option<(u32, Duration)> {
        None
    }

    /// The sessions the application keeps per account before a sign-in ends the oldest.
    fn sessions_per_account(&self) -> Option<usize> {
        None
    }
}

/// The live session among the credentials a browser holds: the only candidate, or the
/// one the API accepts, preferring one that is not `planted` (a value the scenario wrote
/// itself). Several candidates none of which the API accepts cannot be told apart: an
/// error, never a guess. The note says how it was chosen when there was a choice.
pub async fn live_credential(
    a: &dyn Adapter,
    t: &Target,
    obs: &Observation,
    planted: Option<&Secret>,
) -> anyhow::Result<Option<(Credential, Option<String>)>> {
    let candidates = a.credentials_in(obs);
    for c in &candidates {
        t.remember(c);
    }
    if candidates.len() <= 1 {
        return Ok(candidates.into_iter().next().map(|c| (c, None)));
    }
    let mut accepted = Vec::new();
    for c in &candidates {
        if a.accepts(t, c).await?.accepted {
            accepted.push(c.clone());
        }
    }
    let is_planted = |c: &Credential| planted.is_some_and(|p| *p == c.token);
    let chosen = accepted
        .iter()
        .find(|c| !is_planted(c))
        .or_else(|| accepted.first())
        .cloned();
    match chosen {
        Some(c) => {
            let note = format!(
                "{} candidate tokens in the browser; the API accepts {} of them; the session is the one in {}",
                candidates.len(),
                accepted.len(),
                c.found_in.join(", ")
            );
            Ok(Some((c, Some(note))))
        }
        None => anyhow::bail!(
            "the browser holds {} candidate session tokens ({}) and the API accepts none of them: \
             which one is the session cannot be told",
            candidates.len(),
            candidates
                .iter()
                .map(|c| c.found_in.join(" + "))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// A planted token with the real session's other parts, as the application reads it back
/// when nothing else was planted beside it.
pub fn planted_beside(fake: &Secret, real: &Credential) -> Credential {
    let mut c = Credential::new(fake.clone(), "planted before sign-in");
    c.parts = real.parts.clone();
    c
}

/// The adapter for `app`.
pub fn adapter(app: AppId) -> Option<Arc<dyn Adapter>> {
    let profile = match app {
        // The shipped profiles are checked by the unit tests; they cannot fail at run time.
        AppId::RocketChat | AppId::Chatwoot => crate::profile::shipped::shipped(app).ok()?,
        AppId::Profile(_) => profile_of(app)?,
    };
    Some(Arc::new(crate::apps::profiled::ProfileAdapter::new(
        app, profile,
    )))
}

/// Judges a replay's answer: 200 accepts; only the application's own refusal (status
/// and body, as `is_refusal` recognises it) refuses; anything else (a rate limit, an
/// error page, a proxy's 401) is trouble, never a verdict.
pub fn judge_replay(
    t: &Target,
    r: &Reply,
    what: &str,
    is_refusal: &dyn Fn(&Reply) -> bool,
) -> anyhow::Result<Acceptance> {
    let evidence = r.summary(&t.masker);
    match r.status {
        200 => Ok(Acceptance {
            accepted: true,
            evidence,
        }),
        _ if is_refusal(r) => Ok(Acceptance {
            accepted: false,
            evidence,
        }),
        429 => anyhow::bail!("rate-limited while replaying the session: {evidence}"),
        _ => {
            anyhow::bail!("unexpected answer to {what}, not the application's refusal: {evidence}")
        }
    }
}

/// Whether a JSON body holds `message` in one of `fields` (a string or a list of strings).
pub fn body_says(r: &Reply, fields: &[&str], message: &str) -> bool {
    let Some(j) = r.json() else { return false };
    fields.iter().any(|f| match j.get(*f) {
        Some(serde_json::Value::String(s)) => s == message,
        Some(serde_json::Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(message)),
        _ => false,
    })
}

/// The evidence of an action that must succeed (200), or what went wrong.
pub fn expect_success(t: &Target, r: &Reply, action: &str) -> anyhow::Result<String> {
    let evidence = r.summary(&t.masker);
    if r.status != 200 {
        anyhow::bail!("{action} failed: {evidence}");
    }
    Ok(evidence)
}

/// A password with upper, lower, digit and special characters and no long repeats.
pub fn strong_password() -> Secret {
    const ALNUM: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes[..]);
    let body: String = bytes
        .iter()
        .map(|b| ALNUM[*b as usize % ALNUM.len()] as char)
        .collect();
    Secret::new(format!("Sd-{body}-9aZ!"))
}
