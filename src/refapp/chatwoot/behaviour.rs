//! What the Chatwoot reference target does, derived from posture and weaknesses.

use std::time::Duration;

use crate::facts::chatwoot as facts;
use crate::refapp::cookie::CookieStyle;
use crate::refapp::{Posture, RefOptions, Weakness};

/// Which tokens a password change keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnPasswordChange {
    /// devise_token_auth `remove_tokens_after_password_reset`: only the greatest expiry (the newest).
    KeepNewest,
    /// Only the session that changed it.
    KeepCaller,
    KeepAll,
}

#[derive(Clone, Debug)]
pub struct Behaviour {
    pub label: String,
    pub secret_key_base: String,
    /// The cookie store's format without `load_defaults 5.2`: AES-256-CBC with an HMAC.
    pub legacy_cookie_format: bool,
    /// The Rails session cookie (`_chatwoot_session`).
    pub rails_cookie: CookieStyle,
    /// devise_token_auth's own HttpOnly auth cookie (hardened), instead of script-readable headers.
    pub dta_cookie: Option<CookieStyle>,
    /// The dashboard writes `cw_d_session_info` with js-cookie (real client behaviour).
    pub session_info_cookie: bool,
    pub web_storage: bool,
    pub hsts: bool,
    pub https_redirect: bool,
    pub idle_timeout: Option<Duration>,
    pub idle_counts_activity: bool,
    pub lifespan: Duration,
    pub sign_out_removes_token: bool,
    pub on_password_change: OnPasswordChange,
    pub rotate_at_sign_in: bool,
    pub adopt_planted: bool,
    /// Hardened: each session has its own pubsub token, ending with the session.
    pub per_session_pubsub: bool,
    pub pubsub_rotates_on_password_change: bool,
    /// devise_token_auth's `check_current_password_before_update = :password`: `PUT /auth`
    /// changes a password only with the right `current_password` (unset as shipped).
    pub account_update_checks_current: bool,
    pub api_token_rotates: bool,
    /// Hardened: the server closes a cable connection whose session ended.
    pub close_sockets_on_revoke: bool,
    /// Warden renews the Rails session id at sign-in (hardened); Chatwoot signs in with
    /// `store: false`, so the id stays and only the CSRF token is cleaned.
    pub renew_session_at_sign_in: bool,
    /// The signed-in user is stored in the Rails session (hardened); not in Chatwoot.
    pub session_holds_user: bool,
    pub clear_cookies_on_sign_out: bool,
    pub throttle: bool,
    /// Devise `lockable` (hardened): failures per account, or per claimed address under
    /// `throttle-trusts-forwarded-for`.
    pub lockable: Option<crate::refapp::lockout::Policy>,
    pub throttle_loopback: bool,
    pub throttle_period: Duration,
    pub accept_wrong_password: bool,
    pub dead_token_at_login: bool,
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

impl Behaviour {
    pub fn from_options(o: &RefOptions) -> Self {
        let secret = o.secret_key_base.clone().unwrap_or_else(|| {
            let mut bytes = [0u8; 64];
            rand::fill(&mut bytes[..]);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        });
        let mut b = match o.posture {
            // Chatwoot 4.9.1 with FORCE_SSL=false (the .env.example default).
            Posture::AsShipped => Behaviour {
                label: o.label(),
                secret_key_base: secret,
                legacy_cookie_format: false,
                rails_cookie: CookieStyle {
                    prefix: "",
                    secure: false,
                    http_only: true,
                    same_site: Some("lax"),
                    domain: None,
                },
                dta_cookie: None,
                session_info_cookie: true,
                web_storage: false,
                hsts: false,
                https_redirect: false,
                idle_timeout: None,
                idle_counts_activity: true,
                lifespan: o.max_lifetime.unwrap_or(facts::TOKEN_LIFESPAN),
                sign_out_removes_token: true,
                on_password_change: OnPasswordChange::KeepNewest,
                rotate_at_sign_in: true,
                adopt_planted: false,
                per_session_pubsub: false,
                pubsub_rotates_on_password_change: true,
                account_update_checks_current: false,
                api_token_rotates: false,
                close_sockets_on_revoke: false,
                renew_session_at_sign_in: false,
                session_holds_user: false,
                clear_cookies_on_sign_out: true,
                throttle: true,
                lockable: None,
                throttle_loopback: o.throttle_loopback,
                throttle_period: o.throttle_period.unwrap_or(facts::SIGN_IN_THROTTLE.1),
                accept_wrong_password: false,
                dead_token_at_login: false,
                weaknesses: Default::default(),
                ledger: o.ledger.clone(),
            },
            Posture::Hardened => Behaviour {
                label: o.label(),
                secret_key_base: secret,
                legacy_cookie_format: false,
                rails_cookie: CookieStyle::hardened("lax"),
                dta_cookie: Some(CookieStyle::hardened("strict")),
                session_info_cookie: false,
                web_storage: false,
                hsts: true,
                https_redirect: true,
                idle_timeout: Some(o.idle_timeout.unwrap_or(Duration::from_secs(30 * 60))),
                idle_counts_activity: true,
                lifespan: o.max_lifetime.unwrap_or(Duration::from_secs(12 * 3600)),
                sign_out_removes_token: true,
                on_password_change: OnPasswordChange::KeepCaller,
                rotate_at_sign_in: true,
                adopt_planted: false,
                per_session_pubsub: true,
                pubsub_rotates_on_password_change: true,
                account_update_checks_current: true,
                api_token_rotates: true,
                close_sockets_on_revoke: true,
                renew_session_at_sign_in: true,
                session_holds_user: true,
                clear_cookies_on_sign_out: true,
                throttle: true,
                lockable: Some(crate::refapp::lockout::Policy {
                    attempts: facts::LOCKABLE.0,
                    period: o.lockout_period.unwrap_or(facts::LOCKABLE.1),
                    forever: false,
                }),
                throttle_loopback: o.throttle_loopback,
                throttle_period: o.throttle_period.unwrap_or(facts::SIGN_IN_THROTTLE.1),
                accept_wrong_password: false,
                dead_token_at_login: false,
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
        self.rails_cookie.weaken(w, host);
        if let Some(c) = self.dta_cookie.as_mut() {
            c.weaken(w, host);
        }
        match w {
            LogoutKeepsToken => self.sign_out_removes_token = false,
            PasswordChangeKeepsSessions => self.on_password_change = OnPasswordChange::KeepAll,
            PasswordChangeWithoutCurrent => self.account_update_checks_current = false,
            NoRotationAtLogin => self.rotate_at_sign_in = false,
            AdoptsPlantedToken => self.adopt_planted = true,
            TokenInWebStorage => self.web_storage = true,
            NoIdleTimeout => self.idle_timeout = None,
            IdleIgnoresActivity => self.idle_counts_activity = false,
            NoAbsoluteTimeout => self.lifespan = facts::TOKEN_LIFESPAN,
            NoHsts => self.hsts = false,
            NoHttpsRedirect => self.https_redirect = false,
            KeepsCookiesAfterLogout => self.clear_cookies_on_sign_out = false,
            AcceptsWrongPassword => self.accept_wrong_password = true,
            LoginIssuesDeadToken => self.dead_token_at_login = true,
            KnownSecretKeyBase => self.secret_key_base = "replace_with_lengthy_secure_hex".into(),
            LegacyRailsCookie => self.legacy_cookie_format = true,
            ApiTokenSurvives => self.api_token_rotates = false,
            PubsubSurvives => {
                self.per_session_pubsub = false;
                self.pubsub_rotates_on_password_change = false;
            }
            NoSessionRenewal => self.renew_session_at_sign_in = false,
            // The console's (`console.rs`).
            CsrfInSession | SlidingSession => {}
            // Rocket.Chat's own; `refapp::start` refuses them for Chatwoot.
            PasswordHistory
            | AnonymousSessionCookie
            | AdoptsIssuedId
            | SessionCap
            | ShortIdleTimeout
            | LogoutSignsInAgain
            | EndOthersKeepsSessions
            | EndOthersKeepsRealtime
            | DeactivationKeepsSessions
            | DeactivationKeepsApiLogins
            | DeactivationKeepsRealtime
            | EndOthersKillsCurrent => {}
            NoLoginThrottle => {
                self.lockable = None;
                self.throttle = false;
            }
            PermanentLockout => {
                if let Some(p) = self.lockable.as_mut() {
                    p.forever = true;
                }
            }
            // Keyed where the sign-in is handled.
            ThrottleTrustsForwardedFor => {}
            RealtimeKeepsConnections => self.close_sockets_on_revoke = false,
            LoginStoresNothing => {
                self.dta_cookie = None;
                self.session_info_cookie = false;
            }
            // Checked where they act (handlers and store).
            RealtimeOutlivesSession
            | NoSessionLimit
            | SilentLoginError
            | PlantedTokenAlsoValid
            | RefusesEveryReplay
            | RealtimeSilent => {}
            crate::refapp::served_alike!() => {}
            NoHttpOnly | NoSecure | NoSameSite | NoHostPrefix | BroadCookieScope
            | LoginViaUrlToken => {}
        }
    }

    pub fn rails_cookie_name(&self) -> String {
        format!(
            "{}{}",
            self.rails_cookie.prefix,
            facts::COOKIE_RAILS_SESSION
        )
    }

    pub fn dta_cookie_name(&self) -> Option<String> {
        self.dta_cookie
            .as_ref()
            .map(|c| format!("{}{}", c.prefix, facts::COOKIE_DTA))
    }
}
