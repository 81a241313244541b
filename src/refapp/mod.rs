//! Reference targets: faithful stand-ins for Rocket.Chat and Chatwoot that run
//! in-process (tests) or standalone (`sessiondrill serve`).
//!
//! A target runs in a *posture*: `as-shipped` reproduces the real application's
//! defaults, `hardened` does everything the checks ask for. Single *weaknesses*
//! switch one protection off, so the self-check can prove each check fails.

pub mod chatwoot;
pub mod cookie;
pub mod lockout;
pub mod mongo;
pub mod rocketchat;
pub mod serve;
pub mod servers;
pub mod tls;
pub mod tokens;

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::task::AbortHandle;
use url::Url;

use crate::model::AppId;
use crate::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posture {
    AsShipped,
    Hardened,
}

impl Posture {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "as-shipped" => Ok(Self::AsShipped),
            "hardened" => Ok(Self::Hardened),
            _ => Err(format!("unknown posture `{s}`: use as-shipped or hardened")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AsShipped => "as-shipped",
            Self::Hardened => "hardened",
        }
    }
}

macro_rules! weaknesses {
    ($($variant:ident = $name:literal : $desc:literal,)*) => {
        /// One protection switched off, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Weakness { $($variant,)* }

        impl Weakness {
            pub const ALL: &'static [Weakness] = &[$(Weakness::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Weakness::$variant => $name,)* }
            }

            pub fn describe(self) -> &'static str {
                match self { $(Weakness::$variant => $desc,)* }
            }
        }
    };
}

weaknesses! {
    LogoutKeepsToken = "logout-keeps-token": "signing out leaves the token valid on the server",
    PasswordChangeKeepsSessions = "password-change-keeps-sessions": "a password change leaves other sessions valid",
    PasswordChangeWithoutCurrent = "password-change-without-current": "a password change is accepted whatever current password it carries, or none",
    DeactivationKeepsSessions = "deactivation-keeps-sessions": "deactivating an account leaves its sessions valid",
    DeactivationKeepsApiLogins = "deactivation-keeps-api-logins": "deactivating an account ends the web client's sessions but not those signed in through the REST API",
    DeactivationKeepsRealtime = "deactivation-keeps-realtime": "deactivating an account ends its tokens but leaves its open realtime connections open",
    NoSessionLimit = "no-session-limit": "an account keeps every session it signs in: no cap on sessions per account",
    EndOthersKeepsSessions = "end-others-keeps-sessions": "signing out the other sessions answers success but leaves their tokens valid",
    EndOthersKeepsRealtime = "end-others-keeps-realtime": "signing out the other sessions removes their tokens but leaves their open realtime connections open (Rocket.Chat #20627)",
    EndOthersKillsCurrent = "end-others-kills-current": "signing out the other sessions also ends the session that asked for it",
    NoRotationAtLogin = "no-rotation-at-login": "signing in again returns the same token",
    AdoptsPlantedToken = "adopts-planted-token": "a session token sent with the sign-in request is adopted",
    NoHttpOnly = "no-httponly": "the session cookie lacks HttpOnly",
    NoSecure = "no-secure": "the session cookie lacks Secure (and so its __Host- prefix)",
    NoSameSite = "no-samesite": "the session cookie sets no SameSite",
    NoHostPrefix = "no-host-prefix": "the session cookie has no __Host- prefix",
    BroadCookieScope = "broad-cookie-scope": "the session cookie is set with a Domain attribute",
    TokenInWebStorage = "token-in-web-storage": "the page stores the session token in localStorage",
    NoIdleTimeout = "no-idle-timeout": "idle sessions never expire",
    IdleIgnoresActivity = "idle-ignores-activity": "activity does not reset the idle timer",
    NoAbsoluteTimeout = "no-absolute-timeout": "sessions live for the as-shipped 90 days",
    NoHsts = "no-hsts": "HTTPS responses carry no Strict-Transport-Security",
    NoHttpsRedirect = "no-https-redirect": "plain HTTP serves the application instead of redirecting",
    LoginViaUrlToken = "login-via-url-token": "a ?resumeToken= link signs the browser in",
    KeepsCookiesAfterLogout = "keeps-cookies-after-logout": "signing out leaves the session cookie in the browser",
    AcceptsWrongPassword = "accepts-wrong-password": "any password signs the user in",
    LoginIssuesDeadToken = "login-issues-dead-token": "the token handed out at sign-in is already expired",
    KnownSecretKeyBase = "known-secret-key-base": "cookies are sealed with Chatwoot's .env.example SECRET_KEY_BASE",
    PasswordHistory = "password-history": "a password used before cannot be set again (Rocket.Chat's Accounts_Password_History_Enabled: error-password-in-history), so a changed password cannot be changed back",
    LegacyRailsCookie = "legacy-rails-cookie": "the Rails session cookie is in the format of apps that never called load_defaults 5.2 (AES-256-CBC with HMAC-SHA1, PBKDF2-SHA1 keys)",
    ApiTokenSurvives = "api-token-survives": "the permanent API access token survives sign-out and password change",
    PubsubSurvives = "pubsub-survives": "a session's pubsub token survives the end of the session",
    NoSessionRenewal = "no-session-renewal": "the Rails session keeps its id at sign-in and then holds the user",
    RealtimeOutlivesSession = "realtime-outlives-session": "the realtime channel accepts a token after the API refuses it (open connections are still closed)",
    RealtimeKeepsConnections = "realtime-keeps-connections": "open realtime connections stay open when their session ends",
    LoginStoresNothing = "login-stores-nothing": "the login page signs in but keeps no session credential in the browser",
    SilentLoginError = "silent-login-error": "a refused sign-in shows no error on the login page",
    AnonymousSessionCookie = "anonymous-session-cookie": "the login page gives every visitor a session cookie before sign-in, as PHP and Rails applications do; the API refuses it, and sign-in replaces it",
    AdoptsIssuedId = "adopts-issued-id": "the session id the login page issued before sign-in (anonymous-session-cookie) is kept through sign-in and then holds the user",
    LogoutSignsInAgain = "logout-signs-in-again": "the sign-out answer ends the session and signs the browser into a new one of the same user",
    CsrfInSession = "csrf-in-session": "the console's CSRF token lives in its session cookie, is dropped at sign-in and put back by the next page, re-issuing the cookie (Rails with Devise); a request with an older cookie fails CSRF verification",
    SlidingSession = "sliding-session": "the console's idle timer lives in its session cookie and is re-issued on every use (Devise timeoutable with the cookie store); an older copy looks idle",
    SessionCap = "session-cap": "an account keeps one session: each sign-in ends the older ones (MAX_RESUME_LOGIN_TOKENS of 1)",
    ShortIdleTimeout = "short-idle-timeout": "the idle timeout is a third of the one the suite expects",
    PlantedTokenAlsoValid = "planted-token-also-valid": "a token planted before sign-in is not adopted, but becomes valid beside the new one",
    RefusesEveryReplay = "refuses-every-replay": "mirror case: every replayed credential is refused from the start, as a wrong header name would make it look",
    RealtimeSilent = "realtime-silent": "mirror case: the realtime channel stays alive but never answers a sign-in",
    LegacyTls = "legacy-tls": "Debian's nginx in front speaks TLS 1.0 and 1.1 (ssl_ciphers DEFAULT:@SECLEVEL=0)",
    ExpiredCertificate = "expired-certificate": "the certificate expired two days ago",
    CertificateExpiringSoon = "certificate-expiring-soon": "the certificate expires in 10 days",
    CertificateWrongHost = "certificate-wrong-host": "the certificate is issued for another host name",
    UntrustedCertificate = "untrusted-certificate": "the certificate is self-signed",
    OpenSessionStore = "open-session-store": "the session stores answer clients without credentials",
    CounterTokens = "counter-tokens": "session tokens are a counter",
    TimestampTokens = "timestamp-tokens": "session tokens are a timestamp and 16 random bits",
    ShortRandomTokens = "short-random-tokens": "session tokens carry 64 random bits, the rest fixed",
    ShortRandomBase32Tokens = "short-random-base32-tokens": "session tokens are 32 RFC 4648 base32 characters, 13 of them random (65 bits)",
    ShortRandomPhp5Tokens = "short-random-php5-tokens": "session tokens are 32 characters of PHP's 5-bit alphabet (0-9a-v), 13 of them random (65 bits)",
    ShortRandomBase36Tokens = "short-random-base36-tokens": "session tokens are 32 characters of a-z0-9 as Django's keys, 13 of them random (67 bits)",
    ShortRandomBase58Tokens = "short-random-base58-tokens": "session tokens are 24 base58 characters as Rails' SecureRandom.base58, 11 of them random (64 bits)",
    ShortRandomBase62Tokens = "short-random-base62-tokens": "session tokens are 32 base62 characters, 11 of them random (65 bits)",
    ShortRandomPhp6Tokens = "short-random-php6-tokens": "session tokens are 26 characters of PHP's 6-bit alphabet (0-9a-zA-Z,-), 11 of them random (66 bits)",
    UuidTokens = "uuid-tokens": "session tokens are version-4 UUIDs, as Java's and .NET's: 122 random bits",
    CacheableSessionData = "cacheable-session-data": "answers carrying session data may be cached (max-age=0, private, must-revalidate)",
    MixedContent = "mixed-content": "the login and signed-in pages load an image over plain HTTP",
    CredentialsOverHttp = "credentials-over-http": "the login page also sends the credentials to a plain-HTTP address",
    TokenInUrl = "token-in-url": "the signed-in page requests an avatar with the session token in its query",
    TokenPrefixMatch = "token-prefix-match": "the server compares only the first 16 characters of a presented token",
    NoLoginThrottle = "no-login-throttle": "wrong passwords are never throttled or blocked",
    ThrottleTrustsForwardedFor = "throttle-trusts-forwarded-for": "sign-in blocking is keyed by the address X-Real-IP or X-Forwarded-For claims",
    PermanentLockout = "permanent-lockout": "an account blocked after wrong passwords stays blocked",
}

/// The weaknesses both reference targets serve the same way (`serve`, `tokens`,
/// `servers`, the shared page script), as one pattern for their `weaken`.
macro_rules! served_alike {
    () => {
        $crate::refapp::Weakness::LegacyTls
            | $crate::refapp::Weakness::ExpiredCertificate
            | $crate::refapp::Weakness::CertificateExpiringSoon
            | $crate::refapp::Weakness::CertificateWrongHost
            | $crate::refapp::Weakness::UntrustedCertificate
            | $crate::refapp::Weakness::OpenSessionStore
            | $crate::refapp::Weakness::CounterTokens
            | $crate::refapp::Weakness::TimestampTokens
            | $crate::refapp::Weakness::ShortRandomTokens
            | $crate::refapp::Weakness::ShortRandomBase32Tokens
            | $crate::refapp::Weakness::ShortRandomPhp5Tokens
            | $crate::refapp::Weakness::ShortRandomBase36Tokens
            | $crate::refapp::Weakness::ShortRandomBase58Tokens
            | $crate::refapp::Weakness::ShortRandomBase62Tokens
            | $crate::refapp::Weakness::ShortRandomPhp6Tokens
            | $crate::refapp::Weakness::UuidTokens
            | $crate::refapp::Weakness::CacheableSessionData
            | $crate::refapp::Weakness::MixedContent
            | $crate::refapp::Weakness::CredentialsOverHttp
            | $crate::refapp::Weakness::TokenInUrl
            | $crate::refapp::Weakness::TokenPrefixMatch
    };
}
pub(crate) use served_alike;

impl Weakness {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|w| w.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|w| w.name()).collect();
                format!("unknown weakness `{s}`; known: {}", names.join(", "))
            })
    }

    /// Whether the weakness exists in `app`'s reference target.
    pub fn applies_to(self, app: AppId) -> bool {
        use Weakness::*;
        match app {
            AppId::Chatwoot => !matches!(
                self,
                LoginViaUrlToken
                    | PasswordHistory
                    | AnonymousSessionCookie
                    | AdoptsIssuedId
                    | SessionCap
                    | ShortIdleTimeout
                    | LogoutSignsInAgain
                    | EndOthersKeepsSessions
                    | EndOthersKeepsRealtime
                    | EndOthersKillsCurrent
                    | DeactivationKeepsSessions
                    | DeactivationKeepsApiLogins
                    | DeactivationKeepsRealtime
            ),
            AppId::RocketChat => !matches!(
                self,
                CsrfInSession
                    | SlidingSession
                    | KnownSecretKeyBase
                    | LegacyRailsCookie
                    | ApiTokenSurvives
                    | PubsubSurvives
                    | NoSessionRenewal
            ),
            AppId::Profile(_) => false,
        }
    }

    /// Parses a comma-separated list.
    pub fn parse_list(s: &str) -> Result<BTreeSet<Self>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Self::parse)
            .collect()
    }
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Tokens `token-strength` collects from a reference target. Its generator is known,
/// and 2,000 tokens already show every generator weakness the self-check plants; the
/// 20,000-token figure (one FIPS 140-2 block per bit) is measured by `ci/bench-peers`
/// and the entropy unit tests, and a user can ask for it (`TOKEN_SAMPLES`).
pub const REFERENCE_TOKEN_SAMPLES: usize = 2_000;

/// Every secret a reference target hands out or is given (tokens, passwords), so a
/// test can search the suite's output for them independently of the suite's masker.
#[derive(Clone, Default)]
pub struct Ledger(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Ledger {
    pub fn record(&self, value: &str) {
        if !value.is_empty() {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(value.to_string());
        }
    }

    pub fn values(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ledger({} values)", self.values().len())
    }
}

/// How to run one reference target.
#[derive(Clone, Debug)]
pub struct RefOptions {
    pub app: AppId,
    pub posture: Posture,
    pub weaknesses: BTreeSet<Weakness>,
    /// Hardened idle timeout (as-shipped has none); default 30 minutes.
    pub idle_timeout: Option<Duration>,
    /// Token lifetime: hardened default 12 hours, as-shipped the app's own default.
    pub max_lifetime: Option<Duration>,
    /// How often expired tokens are swept (Rocket.Chat: every 10 minutes).
    pub sweep_interval: Option<Duration>,
    /// The host name the target answers as (browsers map `*.test` to loopback).
    pub host: String,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub https_port: u16,
    pub http_port: u16,
    pub login: String,
    pub password: Secret,
    /// Chatwoot: the Rails SECRET_KEY_BASE (default: random per start).
    pub secret_key_base: Option<String>,
    /// Chatwoot: apply the sign-in throttle to loopback too, as behind Docker's bridge.
    pub throttle_loopback: bool,
    /// Chatwoot: the sign-in throttle's window (Rack::Attack: 5 minutes).
    pub throttle_period: Option<Duration>,
    /// How long a block after failed sign-ins lasts (the applications': 5 minutes).
    pub lockout_period: Option<Duration>,
    /// Where the target records every secret it hands out or is given.
    pub ledger: Ledger,
    /// Start session stores beside the target (real Redis and PostgreSQL for Chatwoot,
    /// an OP_MSG responder for Rocket.Chat's MongoDB).
    pub stores: bool,
    /// Rocket.Chat: `MAX_RESUME_LOGIN_TOKENS` (default 50; `session-cap` makes it 1).
    pub max_sessions: Option<usize>,
    /// Rocket.Chat: an administrator beside the test user (the deactivation check).
    pub admin: (String, Secret),
}

/// The stand-ins' administrator: `drill-admin`, with the test user's password and `-admin`.
pub fn admin_of(password: &Secret) -> (String, Secret) {
    (
        "drill-admin".to_string(),
        Secret::new(format!("{}-admin", password.expose())),
    )
}

impl RefOptions {
    pub fn new(app: AppId, posture: Posture, login: &str, password: Secret) -> Self {
        Self {
            app,
            posture,
            weaknesses: BTreeSet::new(),
            idle_timeout: None,
            max_lifetime: None,
            sweep_interval: None,
            host: format!("{}.test", app.tag()),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https_port: 0,
            http_port: 0,
            login: login.to_string(),
            password: password.clone(),
            secret_key_base: None,
            throttle_loopback: false,
            throttle_period: None,
            lockout_period: None,
            ledger: Ledger::default(),
            stores: false,
            max_sessions: None,
            admin: admin_of(&password),
        }
    }

    pub fn has(&self, w: Weakness) -> bool {
        self.weaknesses.contains(&w)
    }

    /// `hardened + no-httponly` style label.
    pub fn label(&self) -> String {
        let mut s = self.posture.name().to_string();
        for w in &self.weaknesses {
            s.push_str(" + ");
            s.push_str(w.name());
        }
        s
    }
}

/// A running reference target; dropping it stops its servers.
pub struct RefApp {
    pub app: AppId,
    /// What a configuration pointed at this target needs for the transport, token and
    /// store checks: the CA it trusts, its stores, how many tokens to sample.
    pub hardening: crate::config::Hardening,
    /// Real servers running for it (nginx in front, session stores); killed on drop.
    pub servers: Vec<servers::Server>,
    /// Every secret this target handed out or was given.
    pub ledger: Ledger,
    pub https_url: Url,
    pub http_url: Url,
    pub label: String,
    pub(crate) tasks: Vec<AbortHandle>,
}

impl RefApp {
    pub fn new(
        app: AppId,
        https: SocketAddr,
        http: SocketAddr,
        host: &str,
        label: String,
        tasks: Vec<AbortHandle>,
    ) -> Self {
        let url = |scheme: &str, port: u16| {
            Url::parse(&format!("{scheme}://{host}:{port}/"))
                .unwrap_or_else(|_| Url::parse("http://invalid.test/").expect("static URL"))
        };
        Self {
            app,
            hardening: crate::config::Hardening {
                token_samples: REFERENCE_TOKEN_SAMPLES,
                ..Default::default()
            },
            servers: Vec::new(),
            ledger: Ledger::default(),
            https_url: url("https", https.port()),
            http_url: url("http", http.port()),
            label,
            tasks,
        }
    }
}

impl Drop for RefApp {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Cookies of the request as name/value pairs.
pub fn request_cookies(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            pair.trim()
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Starts the reference target for `opts.app`.
pub async fn start(opts: RefOptions) -> anyhow::Result<RefApp> {
    if let Some(w) = opts.weaknesses.iter().find(|w| !w.applies_to(opts.app)) {
        anyhow::bail!(
            "the weakness {w} does not exist in the {} reference target",
            opts.app.name()
        );
    }
    let ledger = opts.ledger.clone();
    let (stores, open) = (
        opts.stores,
        opts.has(Weakness::OpenSessionStore)
            || (opts.app == AppId::RocketChat && opts.posture == Posture::AsShipped),
    );
    let app_id = opts.app;
    let mut app = match opts.app {
        AppId::RocketChat => rocketchat::start(opts).await?,
        AppId::Chatwoot => chatwoot::start(opts).await?,
        AppId::Profile(p) => anyhow::bail!("{} has no reference target", p.title),
    };
    app.ledger = ledger;
    if stores {
        // Rocket.Chat's official compose runs MongoDB without authentication; Chatwoot's
        // gives Redis and PostgreSQL passwords.
        match app_id {
            AppId::RocketChat => {
                let (task, store) = mongo::spawn(open).await?;
                app.tasks.push(task);
                app.hardening.stores.push(store);
            }
            AppId::Chatwoot => {
                let (redis, r) = servers::redis(open).await?;
                let (pg, p) = servers::postgres(open).await?;
                app.servers.extend([redis, pg]);
                app.hardening.stores.extend([r, p]);
            }
            AppId::Profile(_) => {}
        }
    }
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weakness_names_round_trip() {
        for w in Weakness::ALL {
            assert_eq!(Weakness::parse(w.name()).unwrap(), *w);
        }
        let err = Weakness::parse("no-such-thing").unwrap_err();
        assert!(err.contains("known: logout-keeps-token"), "{err}");
        assert_eq!(Weakness::parse_list("no-hsts, no-secure").unwrap().len(), 2);
    }
}
