//! What the Rocket.Chat reference target does, derived from posture and weaknesses.

use std::time::Duration;

use crate::facts::rocketchat as facts;
use crate::refapp::cookie::CookieStyle;
use crate::refapp::lockout::Policy;
use crate::refapp::{Posture, RefOptions, Weakness};

/// The server-set session cookies (hardened posture only: real Rocket.Chat sets none).
#[derive(Clone, Debug)]
pub struct ServerCookie {
    pub style: CookieStyle,
}

impl ServerCookie {
    pub fn token_name(&self) -> String {
        format!("{}{}", self.style.prefix, facts::COOKIE_TOKEN)
    }

    pub fn user_id_name(&self) -> String {
        format!("{}{}", self.style.prefix, facts::COOKIE_USER_ID)
    }

    /// `Set-Cookie` values for a signed-in session (browser-session cookies, no expiry).
    pub fn set(&self, user_id: &str, token: &str) -> [String; 2] {
        let attrs = self.style.attributes();
        [
            format!("{}={token}{attrs}", self.token_name()),
            format!("{}={user_id}{attrs}", self.user_id_name()),
        ]
    }

    /// `Set-Cookie` values that delete both cookies.
    pub fn clear(&self) -> [String; 2] {
        let attrs = format!("{}; max-age=0", self.style.attributes());
        [
            format!("{}={attrs}", self.token_name()),
            format!("{}={attrs}", self.user_id_name()),
        ]
    }
}

#[derive(Clone, Debug)]
pub struct Behaviour {
    pub label: String,
    /// `MAX_RESUME_LOGIN_TOKENS`: login tokens kept per user, the oldest dropped beyond.
    pub max_login_tokens: usize,
    pub server_cookie: Option<ServerCookie>,
    /// The page writes `rc_uid`/`rc_token` through `document.cookie` (real client behaviour).
    pub client_cookies: bool,
    /// Client cookies get `secure` on https (real client); a weakness drops it.
    pub client_cookies_secure_on_https: bool,
    pub web_storage: bool,
    pub hsts: bool,
    pub https_redirect: bool,
    pub idle_timeout: Option<Duration>,
    pub idle_counts_activity: bool,
    pub max_lifetime: Duration,
    /// Real REST ignores a token's `when` until the sweep removes it.
    pub rest_enforces_expiry: bool,
    pub sweep_interval: Duration,
    pub logout_removes_token: bool,
    pub password_change_removes_others: bool,
    /// `password-history`: a password used before is refused.
    pub password_history: bool,
    pub rotate_at_login: bool,
    pub adopt_planted: bool,
    pub url_token_login: bool,
    pub clear_cookies_on_logout: bool,
    pub accept_wrong_password: bool,
    pub dead_token_at_login: bool,
    /// `Block_Multiple_Failed_Logins` by user and by client address (`X-Real-IP` trusted).
    pub block_by_user: Option<Policy>,
    pub block_by_ip: Option<Policy>,
    /// Every weakness switched on, for those a handler checks directly.
    pub weaknesses: std::collections::BTreeSet<Weakness>,
    /// Records every secret handed out or given (for leak tests).
    pub ledger: crate::refapp::Ledger,
}

impl Behaviour {
    pub fn has(&self, w: Weakness) -> bool {
        self.weaknesses.contains(&w)
    }
}

/// Failed-login blocking on by default in both postures, with the block's length scaled.
fn block(o: &RefOptions, attempts: u32) -> Policy {
    Policy {
        attempts,
        period: o.lockout_period.unwrap_or(facts::BLOCK_PERIOD),
        forever: false,
    }
}

const NINETY_DAYS: Duration = Duration::from_secs(facts::DEFAULT_LOGIN_EXPIRATION_DAYS * 86_400);

impl Behaviour {
    pub fn from_options(o: &RefOptions) -> Self {
        let mut b = match o.posture {
            // Rocket.Chat's defaults: client-written cookies, localStorage, 90-day tokens
            // checked only at DDP resume, no idle timeout, no HSTS of its own.
            Posture::AsShipped => Behaviour {
                label: o.label(),
                max_login_tokens: o.max_sessions.unwrap_or(facts::MAX_LOGIN_TOKENS),
                server_cookie: None,
                client_cookies: true,
                client_cookies_secure_on_https: true,
                web_storage: true,
                hsts: false,
                https_redirect: false,
                idle_timeout: None,
                idle_counts_activity: true,
                max_lifetime: o.max_lifetime.unwrap_or(NINETY_DAYS),
                rest_enforces_expiry: false,
                sweep_interval: o.sweep_interval.unwrap_or(facts::EXPIRE_TOKENS_INTERVAL),
                logout_removes_token: true,
                password_change_removes_others: true,
                password_history: false,
                rotate_at_login: true,
                adopt_planted: false,
                url_token_login: true,
                clear_cookies_on_logout: false,
                accept_wrong_password: false,
                dead_token_at_login: false,
                block_by_user: Some(block(o, facts::BLOCK_BY_USER_ATTEMPTS)),
                block_by_ip: Some(block(o, facts::BLOCK_BY_IP_ATTEMPTS)),
                weaknesses: Default::default(),
                ledger: o.ledger.clone(),
            },
            Posture::Hardened => Behaviour {
                label: o.label(),
                max_login_tokens: o.max_sessions.unwrap_or(facts::MAX_LOGIN_TOKENS),
                server_cookie: Some(ServerCookie {
                    style: CookieStyle::hardened("Strict"),
                }),
                client_cookies: false,
                client_cookies_secure_on_https: true,
                web_storage: false,
                hsts: true,
                https_redirect: true,
                idle_timeout: Some(o.idle_timeout.unwrap_or(Duration::from_secs(30 * 60))),
                idle_counts_activity: true,
                max_lifetime: o.max_lifetime.unwrap_or(Duration::from_secs(12 * 3600)),
                rest_enforces_expiry: true,
                sweep_interval: o.sweep_interval.unwrap_or(Duration::from_secs(60)),
                logout_removes_token: true,
                password_change_removes_others: true,
                password_history: false,
                rotate_at_login: true,
                adopt_planted: false,
                url_token_login: false,
                clear_cookies_on_logout: true,
                accept_wrong_password: false,
                dead_token_at_login: false,
                block_by_user: Some(block(o, facts::BLOCK_BY_USER_ATTEMPTS)),
                block_by_ip: Some(block(o, facts::BLOCK_BY_IP_ATTEMPTS)),
                weaknesses: Default::default(),
                ledger: o.ledger.clone(),
            },
        };
        for w in &o.weaknesses {
            b.weaken(*w, &o.host);
        }
        b.weaknesses = o.weaknesses.clone();
        b
    }

    fn weaken(&mut self, w: Weakness, host: &str) {
        use Weakness::*;
        if let Some(c) = self.server_cookie.as_mut() {
            c.style.weaken(w, host);
        }
        match w {
            LogoutKeepsToken => self.logout_removes_token = false,
            PasswordChangeKeepsSessions => self.password_change_removes_others = false,
            PasswordHistory => self.password_history = true,
            NoRotationAtLogin => self.rotate_at_login = false,
            AdoptsPlantedToken => self.adopt_planted = true,
            NoSecure => self.client_cookies_secure_on_https = false,
            NoHttpOnly | NoSameSite | NoHostPrefix | BroadCookieScope => {}
            TokenInWebStorage => self.web_storage = true,
            NoIdleTimeout => self.idle_timeout = None,
            IdleIgnoresActivity => self.idle_counts_activity = false,
            ShortIdleTimeout => self.idle_timeout = self.idle_timeout.map(|d| d / 3),
            NoAbsoluteTimeout => self.max_lifetime = NINETY_DAYS,
            NoHsts => self.hsts = false,
            NoHttpsRedirect => self.https_redirect = false,
            LoginViaUrlToken => self.url_token_login = true,
            KeepsCookiesAfterLogout => self.clear_cookies_on_logout = false,
            AcceptsWrongPassword => self.accept_wrong_password = true,
            LoginIssuesDeadToken => self.dead_token_at_login = true,
            NoLoginThrottle => {
                self.block_by_user = None;
                self.block_by_ip = None;
            }
            // Only the address block, as strict as the user block, keyed by X-Real-IP.
            ThrottleTrustsForwardedFor => {
                self.block_by_ip = self.block_by_user.take();
            }
            PermanentLockout => {
                for p in [&mut self.block_by_user, &mut self.block_by_ip]
                    .into_iter()
                    .flatten()
                {
                    p.forever = true;
                }
            }
            SessionCap => self.max_login_tokens = 1,
            NoSessionLimit => self.max_login_tokens = usize::MAX,
            // Chatwoot's own; `refapp::start` refuses them for Rocket.Chat.
            KnownSecretKeyBase | LegacyRailsCookie | ApiTokenSurvives | PubsubSurvives
            | NoSessionRenewal | CsrfInSession | SlidingSession => {}
            // Checked where they act (handlers and store).
            RealtimeOutlivesSession
            | RealtimeKeepsConnections
            | PasswordChangeWithoutCurrent
            | EndOthersKeepsSessions
            | EndOthersKeepsRealtime
            | DeactivationKeepsSessions
            | DeactivationKeepsApiLogins
            | DeactivationKeepsRealtime
            | EndOthersKillsCurrent
            | LoginStoresNothing
            | SilentLoginError
            | PlantedTokenAlsoValid
            | AnonymousSessionCookie
            | AdoptsIssuedId
            | LogoutSignsInAgain
            | RefusesEveryReplay
            | RealtimeSilent => {}
            crate::refapp::served_alike!() => {}
        }
    }
}
