//! One target: its address, account, expectations and hardening, from the environment
//! over the file.

use std::time::Duration;

use url::Url;

use crate::checks::timing::Expectations;
use crate::duration;
use crate::model::AppId;
use crate::secret::Secret;

use super::values::{parse_url, pick_duration};
use super::{ConfigError, Env, FileTarget};
use crate::probe::is_test_host;

#[derive(Clone, Debug)]
pub struct Account {
    /// Username or e-mail, whatever the application's login form takes.
    pub login: String,
    pub password: Secret,
}

/// One deployment to test.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    pub app: AppId,
    /// Where the application is served (normally https).
    pub url: Url,
    /// Where plain-HTTP requests go, to test the redirect; derived from `url` when unset.
    pub http_url: Option<Url>,
    pub account: Account,
    /// An administrator of the deployment (`_ADMIN_USER`/`_ADMIN_EMAIL`, `_ADMIN_PASSWORD`), for
    /// the checks where someone else ends the account's sessions (deactivation).
    pub admin: Option<Account>,
    /// Accept a certificate that is not publicly trusted (self-signed test deployments).
    pub insecure_tls: bool,
    pub expect: Expectations,
    /// Overrides how late the application may enforce token expiry on its API.
    pub expiry_slack: Option<Duration>,
    /// A human description, e.g. "reference target (hardened)".
    pub description: Option<String>,
    /// The deployment's own framework secret (Chatwoot's SECRET_KEY_BASE), when the user
    /// gives it: lets the suite read the Rails session id instead of guessing from ciphertext.
    pub secret_key_base: Option<Secret>,
    /// Selectors and page texts, with the user's `[<app>.ui]` overrides.
    pub ui: crate::facts::ui::Ui,
    /// Settings of the transport, token and store checks.
    pub hardening: Hardening,
}

/// Settings of the transport, token-strength, brute-force and session-store checks.
#[derive(Clone, Debug)]
pub struct Hardening {
    /// Extra trust anchors (PEM) for the certificate check: a private staging CA.
    pub ca_pem: Option<String>,
    /// A certificate expiring within this window is a finding.
    pub cert_warn: Duration,
    /// Session-store endpoints that must refuse clients without credentials.
    pub stores: Vec<crate::probe::store::Store>,
    /// Fresh tokens to collect for the strength analysis.
    pub token_samples: usize,
    /// The sign-in lockout bound: (wrong attempts, block period); the app's own when unset.
    pub lockout: Option<(u32, Duration)>,
    /// The sessions the deployment keeps per account; the profile's when unset.
    pub sessions_per_account: Option<usize>,
}

/// ASVS-minded default: warn a month ahead, as certificate monitors do.
pub const CERT_WARN_DEFAULT: Duration = Duration::from_secs(30 * 86_400);
/// Tokens collected from a configured target (each one a sign-in and a sign-out).
pub const TOKEN_SAMPLES_DEFAULT: usize = 1_000;

impl Default for Hardening {
    fn default() -> Self {
        Self {
            ca_pem: None,
            cert_warn: CERT_WARN_DEFAULT,
            stores: Vec::new(),
            token_samples: TOKEN_SAMPLES_DEFAULT,
            lockout: None,
            sessions_per_account: None,
        }
    }
}

/// `10/5m`: attempts before the block, and how long the block lasts.
fn parse_lockout(var: &str, s: &str) -> Result<(u32, Duration), ConfigError> {
    let invalid = |m: String| ConfigError::Invalid {
        var: var.to_string(),
        message: m,
    };
    let (n, period) = s
        .split_once('/')
        .ok_or_else(|| invalid(format!("`{s}` is not attempts/period, e.g. 10/5m")))?;
    let n: u32 = n
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| invalid(format!("`{n}` is not a positive number of attempts")))?;
    let period = duration::parse(period.trim()).map_err(|e| invalid(e.to_string()))?;
    Ok((n, period))
}

fn hardening_from(
    var: &dyn Fn(&str) -> String,
    env: Env<'_>,
    ft: &FileTarget,
) -> Result<Hardening, ConfigError> {
    let mut h = Hardening::default();
    if let Some(path) = env(&var("CA_FILE")).or(ft.ca_file.clone()) {
        let pem = std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
            var: var("CA_FILE"),
            message: format!("cannot read {path}: {e}"),
        })?;
        crate::checks::certificate::parse_pem(&pem).map_err(|m| ConfigError::Invalid {
            var: var("CA_FILE"),
            message: format!("{path}: {m}"),
        })?;
        h.ca_pem = Some(pem);
    }
    if let Some(w) = pick_duration(env, &var("CERT_WARN"), ft.cert_warn.clone())? {
        h.cert_warn = w;
    }
    if let Some(list) = env(&var("STORE")).or(ft.store.clone()) {
        h.stores = list
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(crate::probe::store::Store::parse)
            .collect::<Result<_, _>>()
            .map_err(|message| ConfigError::Invalid {
                var: var("STORE"),
                message,
            })?;
    }
    if let Some(n) = env(&var("TOKEN_SAMPLES")).or(ft.token_samples.map(|n| n.to_string())) {
        h.token_samples = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= crate::checks::entropy::MIN_SAMPLES)
            .ok_or_else(|| ConfigError::Invalid {
                var: var("TOKEN_SAMPLES"),
                message: format!(
                    "`{n}` is not a number of tokens of at least {}",
                    crate::checks::entropy::MIN_SAMPLES
                ),
            })?;
    }
    if let Some(n) =
        env(&var("SESSIONS_PER_ACCOUNT")).or(ft.sessions_per_account.map(|n| n.to_string()))
    {
        h.sessions_per_account = Some(n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(
            || ConfigError::Invalid {
                var: var("SESSIONS_PER_ACCOUNT"),
                message: format!(
                    "`{n}` is not a positive number of sessions (Rocket.Chat: MAX_RESUME_LOGIN_TOKENS, Chatwoot: devise_token_auth's max_number_of_devices)"
                ),
            },
        )?);
    }
    if let Some(l) = env(&var("LOCKOUT")).or(ft.lockout.clone()) {
        h.lockout = Some(parse_lockout(&var("LOCKOUT"), &l)?);
    }
    Ok(h)
}

impl TargetConfig {
    /// The plain-HTTP URL to probe: configured, or the same host on port 80.
    pub fn plain_http_url(&self) -> Url {
        if let Some(u) = &self.http_url {
            return u.clone();
        }
        let mut u = self.url.clone();
        if u.scheme() == "https" {
            let _ = u.set_scheme("http");
            let _ = u.set_port(None);
        }
        u
    }
}

/// The variable suffix of an application's account: `EMAIL` for Chatwoot, else `USER`.
pub fn login_key(app: AppId) -> &'static str {
    match app {
        AppId::Chatwoot => "EMAIL",
        _ => "USER",
    }
}

pub(super) fn target_from(
    app: AppId,
    ft: FileTarget,
    env: Env<'_>,
    insecure_default: Option<bool>,
    expect: Expectations,
) -> Result<Option<TargetConfig>, ConfigError> {
    let prefix = app.env_prefix();
    let login_key = login_key(app);
    let var = |suffix: &str| format!("{prefix}_{suffix}");
    let hardening = hardening_from(&var, env, &ft)?;
    let url = env(&var("URL")).or(ft.url);
    let login = env(&var(login_key)).or(ft.user).or(ft.email);
    let password = env(&var("PASSWORD")).or(ft.password);
    let Some(url_text) = url else {
        if login.is_some() || password.is_some() {
            return Err(ConfigError::Incomplete {
                var: var(login_key),
                missing: var("URL"),
            });
        }
        return Ok(None);
    };
    let url = parse_url(&var("URL"), &url_text)?;
    let login = login.ok_or_else(|| ConfigError::Incomplete {
        var: var("URL"),
        missing: var(login_key),
    })?;
    let password = password.ok_or_else(|| ConfigError::Incomplete {
        var: var("URL"),
        missing: var("PASSWORD"),
    })?;
    let admin_login = env(&var(&format!("ADMIN_{login_key}"))).or(ft.admin_user.clone());
    let admin = match (
        admin_login,
        env(&var("ADMIN_PASSWORD")).or(ft.admin_password.clone()),
    ) {
        (Some(login), Some(password)) => Some(Account {
            login,
            password: Secret::new(password),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError::Incomplete {
                var: var(&format!("ADMIN_{login_key}")),
                missing: var("ADMIN_PASSWORD"),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::Incomplete {
                var: var("ADMIN_PASSWORD"),
                missing: var(&format!("ADMIN_{login_key}")),
            });
        }
    };
    let http_url = match env(&var("HTTP_URL")).or(ft.http_url) {
        Some(s) => Some(parse_url(&var("HTTP_URL"), &s)?),
        None => None,
    };
    let insecure_tls = match ft.insecure_tls {
        Some(b) => b,
        None => insecure_default.unwrap_or_else(|| is_test_host(&url)),
    };
    let expiry_slack = pick_duration(env, &var("EXPIRY_SLACK"), ft.expiry_slack)?;
    let overrides = ft.ui.unwrap_or_default();
    crate::facts::ui::check_keys(app.tag(), crate::facts::ui_facts(app), &overrides).map_err(
        |message| ConfigError::Invalid {
            var: "sessiondrill.toml".into(),
            message,
        },
    )?;
    let ui = crate::facts::ui::Ui::new(app.tag(), overrides);
    Ok(Some(TargetConfig {
        app,
        url,
        http_url,
        account: Account {
            login,
            password: Secret::new(password),
        },
        admin,
        insecure_tls,
        expect,
        expiry_slack,
        description: None,
        secret_key_base: env(&var("SECRET_KEY_BASE"))
            .or(ft.secret_key_base)
            .map(Secret::new),
        ui,
        hardening,
    }))
}
