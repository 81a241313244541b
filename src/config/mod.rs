//! Targets, accounts and expectations, from environment variables and an optional
//! `sessiondrill.toml`. The environment wins over the file, so CI can override a
//! checked-in file without editing it.

mod target;
mod values;

use target::target_from;
pub use target::{
    Account, CERT_WARN_DEFAULT, Hardening, TOKEN_SAMPLES_DEFAULT, TargetConfig, login_key,
};
use values::{parse_bool, parse_count, parse_url, pick_bool, pick_duration};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::checks::timing::Expectations;
use crate::model::AppId;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{var}: {message}")]
    Invalid { var: String, message: String },
    #[error("{var} is set but {missing} is not: a target needs a URL, a user and a password")]
    Incomplete { var: String, missing: String },
}

/// The account the suite signs in as.
#[derive(Clone, Debug)]
pub struct Config {
    pub targets: Vec<TargetConfig>,
    pub webdriver_url: Option<Url>,
    /// Run `@destructive` scenarios (password change) against configured targets.
    pub allow_destructive: bool,
    /// Run `@slow` scenarios even when their wait exceeds a minute.
    pub allow_slow: bool,
    pub max_browsers: usize,
    /// `max_browsers` was set by the user; otherwise a Selenium Grid's capacity decides.
    pub max_browsers_set: bool,
    /// Hosts besides the targets the browser may reach (an SSO login page); every other fails to resolve.
    pub browser_hosts: Vec<String>,
    /// Expectations to use for every target unless the target says otherwise.
    pub expect: Expectations,
    /// `SESSIONDRILL_INSECURE_TLS` or the file's `insecure_tls`, for targets added later.
    pub insecure_default: Option<bool>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            targets: Vec::new(),
            webdriver_url: None,
            allow_destructive: false,
            allow_slow: false,
            max_browsers: 4,
            max_browsers_set: false,
            browser_hosts: Vec::new(),
            expect: Expectations::ASVS,
            insecure_default: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    webdriver_url: Option<String>,
    allow_destructive: Option<bool>,
    allow_slow: Option<bool>,
    insecure_tls: Option<bool>,
    max_browsers: Option<usize>,
    browser_hosts: Option<Vec<String>>,
    expect: Option<FileExpect>,
    rocketchat: Option<FileTarget>,
    chatwoot: Option<FileTarget>,
    /// Profile files of further applications, relative to the working directory.
    profiles: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileExpect {
    idle_timeout: Option<String>,
    max_lifetime: Option<String>,
    grace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTarget {
    url: Option<String>,
    http_url: Option<String>,
    user: Option<String>,
    email: Option<String>,
    password: Option<String>,
    /// An administrator's login and password (the deactivation check).
    admin_user: Option<String>,
    admin_password: Option<String>,
    insecure_tls: Option<bool>,
    expiry_slack: Option<String>,
    secret_key_base: Option<String>,
    ca_file: Option<String>,
    cert_warn: Option<String>,
    /// Comma-separated store URLs.
    store: Option<String>,
    token_samples: Option<usize>,
    lockout: Option<String>,
    sessions_per_account: Option<usize>,
    ui: Option<std::collections::BTreeMap<String, String>>,
}

/// Where the settings come from; a function so tests can supply their own environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Loads `path` (or `SESSIONDRILL_CONFIG`, or `./sessiondrill.toml` if present) and the environment.
    pub fn load(path: Option<&Path>, env: Env<'_>) -> Result<Self, ConfigError> {
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| env("SESSIONDRILL_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(p) => Some(read_file(&p)?),
            None => {
                let default = PathBuf::from("sessiondrill.toml");
                if default.is_file() {
                    Some(read_file(&default)?)
                } else {
                    None
                }
            }
        };
        Self::from_parts(file.unwrap_or_default(), env)
    }

    fn from_parts(file: FileConfig, env: Env<'_>) -> Result<Self, ConfigError> {
        let mut cfg = Config::default();
        let fe = file.expect.unwrap_or_default();
        cfg.expect.idle_timeout = pick_duration(env, "SESSIONDRILL_IDLE_TIMEOUT", fe.idle_timeout)?
            .unwrap_or(cfg.expect.idle_timeout);
        cfg.expect.max_lifetime = pick_duration(env, "SESSIONDRILL_MAX_LIFETIME", fe.max_lifetime)?
            .unwrap_or(cfg.expect.max_lifetime);
        cfg.expect.grace =
            pick_duration(env, "SESSIONDRILL_GRACE", fe.grace)?.unwrap_or(cfg.expect.grace);
        if cfg.expect.idle_timeout.is_zero() || cfg.expect.max_lifetime.is_zero() {
            return Err(ConfigError::Invalid {
                var: "SESSIONDRILL_IDLE_TIMEOUT / SESSIONDRILL_MAX_LIFETIME".into(),
                message: "must be longer than zero".into(),
            });
        }
        cfg.allow_destructive = pick_bool(
            env,
            "SESSIONDRILL_ALLOW_DESTRUCTIVE",
            file.allow_destructive,
        )?;
        cfg.allow_slow = pick_bool(env, "SESSIONDRILL_ALLOW_SLOW", file.allow_slow)?;
        // A secret list that cannot be read would quietly shrink the check: bad input.
        if let Some(path) = env("SESSIONDRILL_SECRET_KEY_BASES") {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                var: "SESSIONDRILL_SECRET_KEY_BASES".into(),
                message: format!(
                    "cannot read {path}: {e}; point it at a file of secrets, one per line (format of data/rails-secret-key-bases.txt)"
                ),
            })?;
            if crate::checks::rails_cookie::parse_list(&text).is_empty() {
                return Err(ConfigError::Invalid {
                    var: "SESSIONDRILL_SECRET_KEY_BASES".into(),
                    message: format!("{path} lists no secret (one per line, `#` starts a comment)"),
                });
            }
        }
        if let Some(n) =
            env("SESSIONDRILL_MAX_BROWSERS").map(|s| parse_count("SESSIONDRILL_MAX_BROWSERS", &s))
        {
            cfg.max_browsers = n?;
            cfg.max_browsers_set = true;
        } else if let Some(n) = file.max_browsers {
            cfg.max_browsers = n.max(1);
            cfg.max_browsers_set = true;
        }
        cfg.browser_hosts = match env("SESSIONDRILL_BROWSER_HOSTS") {
            Some(s) => s
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            None => file.browser_hosts.unwrap_or_default(),
        };
        if let Some(bad) = cfg
            .browser_hosts
            .iter()
            .find(|h| h.contains([' ', '/', ':', ',']))
        {
            return Err(ConfigError::Invalid {
                var: "SESSIONDRILL_BROWSER_HOSTS".into(),
                message: format!(
                    "`{bad}` is not a host name: list bare host names, comma-separated (sso.example.com,cdn.example.com)"
                ),
            });
        }
        cfg.webdriver_url = match env("WEBDRIVER_URL").or(file.webdriver_url) {
            Some(s) => Some(parse_url("WEBDRIVER_URL", &s)?),
            None => None,
        };
        let insecure_default = match env("SESSIONDRILL_INSECURE_TLS") {
            Some(s) => Some(parse_bool("SESSIONDRILL_INSECURE_TLS", &s)?),
            None => file.insecure_tls,
        };
        cfg.insecure_default = insecure_default;
        let mut profiles: Vec<PathBuf> = file
            .profiles
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect();
        if let Some(list) = env("SESSIONDRILL_PROFILES") {
            profiles.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from),
            );
        }
        for path in profiles {
            cfg.add_profile(&path, env)?;
        }
        for (app, ft) in [
            (AppId::RocketChat, file.rocketchat),
            (AppId::Chatwoot, file.chatwoot),
        ] {
            if let Some(t) = target_from(
                app,
                ft.unwrap_or_default(),
                env,
                insecure_default,
                cfg.expect,
            )? {
                cfg.targets.push(t);
            }
        }
        Ok(cfg)
    }

    /// Loads a profile file and its target (`SESSIONDRILL_APP_<NAME>_URL`, `_USER`,
    /// `_PASSWORD`): a profile without its target is bad input, not a silent skip.
    pub fn add_profile(&mut self, path: &Path, env: Env<'_>) -> Result<AppId, ConfigError> {
        let profile = crate::profile::Profile::load(path).map_err(|e| ConfigError::Invalid {
            var: "profile".into(),
            message: e.to_string(),
        })?;
        let app = crate::profile::registry::register_profile(profile);
        if self.target(app).is_some() {
            return Ok(app);
        }
        let target = target_from(
            app,
            FileTarget::default(),
            env,
            self.insecure_default,
            self.expect,
        )?;
        match target {
            Some(t) => {
                self.targets.push(t);
                Ok(app)
            }
            None => Err(ConfigError::Incomplete {
                var: format!("profile {}", path.display()),
                missing: format!("{p}_URL (and {p}_USER, {p}_PASSWORD)", p = app.env_prefix()),
            }),
        }
    }

    pub fn target(&self, app: AppId) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.app == app)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Toml {
        path: path.into(),
        message: e.to_string(),
    })
}

/// A fixed environment for tests: a map lookup.
pub fn env_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::is_test_host;
    use std::time::Duration;

    fn load(pairs: &[(&str, &str)], file: &str) -> Result<Config, ConfigError> {
        let env = env_from(pairs);
        let parsed: FileConfig = toml::from_str(file).map_err(|e| ConfigError::Toml {
            path: "t".into(),
            message: e.to_string(),
        })?;
        Config::from_parts(parsed, &env)
    }

    /// An administrator is both a login and a password, or neither.
    #[test]
    fn an_administrator_needs_login_and_password() {
        let base = [
            ("SESSIONDRILL_ROCKETCHAT_URL", "https://chat.example.com/"),
            ("SESSIONDRILL_ROCKETCHAT_USER", "drill"),
            ("SESSIONDRILL_ROCKETCHAT_PASSWORD", "pw-pw-pw"),
        ];
        let c = load(&base, "").unwrap();
        assert!(c.targets[0].admin.is_none());
        let mut both = base.to_vec();
        both.extend([
            ("SESSIONDRILL_ROCKETCHAT_ADMIN_USER", "boss"),
            ("SESSIONDRILL_ROCKETCHAT_ADMIN_PASSWORD", "boss-pw"),
        ]);
        let admin = load(&both, "").unwrap().targets[0].admin.clone().unwrap();
        assert_eq!(admin.login, "boss");
        let mut half = base.to_vec();
        half.push(("SESSIONDRILL_ROCKETCHAT_ADMIN_USER", "boss"));
        let err = load(&half, "").unwrap_err().to_string();
        assert!(
            err.contains("SESSIONDRILL_ROCKETCHAT_ADMIN_PASSWORD"),
            "{err}"
        );
    }

    /// A profile from the file or the environment becomes a target of its own; one
    /// without its URL is bad input naming the variables to set.
    #[test]
    fn profiles_become_targets_or_say_what_is_missing() {
        let django = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/django.toml");
        let node_red = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/node-red.toml");
        let c = load(
            &[
                ("SESSIONDRILL_PROFILES", node_red),
                ("SESSIONDRILL_APP_DJANGO_URL", "http://127.0.0.1:8000/"),
                ("SESSIONDRILL_APP_DJANGO_USER", "admin"),
                ("SESSIONDRILL_APP_DJANGO_PASSWORD", "pw"),
                ("SESSIONDRILL_APP_NODE_RED_URL", "http://127.0.0.1:1880/"),
                ("SESSIONDRILL_APP_NODE_RED_USER", "admin"),
                ("SESSIONDRILL_APP_NODE_RED_PASSWORD", "pw"),
            ],
            &format!("profiles = [{django:?}]"),
        )
        .unwrap();
        let tags: Vec<&str> = c.targets.iter().map(|t| t.app.tag()).collect();
        assert_eq!(tags, ["app-django", "app-node-red"]);
        let e = load(&[], &format!("profiles = [{django:?}]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("SESSIONDRILL_APP_DJANGO_URL"), "{e}");
        let e = load(&[("SESSIONDRILL_PROFILES", "/nonexistent/x.toml")], "")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/x.toml: cannot read the profile"),
            "{e}"
        );
    }

    #[test]
    fn nothing_configured_means_no_targets_and_asvs_defaults() {
        let c = load(&[], "").unwrap();
        assert!(c.targets.is_empty());
        assert_eq!(c.expect, Expectations::ASVS);
        assert!(!c.allow_destructive);
    }

    #[test]
    fn environment_defines_a_rocketchat_target() {
        let c = load(
            &[
                ("SESSIONDRILL_ROCKETCHAT_URL", "https://chat.example.com"),
                ("SESSIONDRILL_ROCKETCHAT_USER", "alice"),
                ("SESSIONDRILL_ROCKETCHAT_PASSWORD", "s3cret-pass"),
                ("SESSIONDRILL_IDLE_TIMEOUT", "15m"),
                ("SESSIONDRILL_ALLOW_DESTRUCTIVE", "1"),
            ],
            "",
        )
        .unwrap();
        let t = c.target(AppId::RocketChat).unwrap();
        assert_eq!(t.account.login, "alice");
        assert_eq!(t.expect.idle_timeout, Duration::from_secs(900));
        assert!(
            !t.insecure_tls,
            "public hosts verify certificates by default"
        );
        assert_eq!(t.plain_http_url().as_str(), "http://chat.example.com/");
        assert!(c.allow_destructive);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = r#"
            [expect]
            idle_timeout = "10m"
            [rocketchat]
            url = "https://rocketchat.test:8443"
            user = "bob"
            password = "from-file"
        "#;
        let c = load(
            &[
                ("SESSIONDRILL_ROCKETCHAT_USER", "carol"),
                ("SESSIONDRILL_IDLE_TIMEOUT", "5m"),
            ],
            file,
        )
        .unwrap();
        let t = c.target(AppId::RocketChat).unwrap();
        assert_eq!(t.account.login, "carol");
        assert_eq!(t.account.password.expose(), "from-file");
        assert_eq!(t.expect.idle_timeout, Duration::from_secs(300));
        assert!(t.insecure_tls, ".test hosts are test deployments");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = load(&[("SESSIONDRILL_IDLE_TIMEOUT", "soon")], "")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SESSIONDRILL_IDLE_TIMEOUT") && e.contains("not a duration"),
            "{e}"
        );
        let e = load(&[("SESSIONDRILL_ROCKETCHAT_URL", "chat.example.com")], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("SESSIONDRILL_ROCKETCHAT_URL"), "{e}");
        let e = load(&[("SESSIONDRILL_ROCKETCHAT_URL", "https://x.test")], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("SESSIONDRILL_ROCKETCHAT_USER is not"), "{e}");
        let e = load(&[("SESSIONDRILL_ALLOW_DESTRUCTIVE", "maybe")], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("yes/no"), "{e}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let e = load(
            &[],
            "[rocketchat]\nurl = \"https://a.test\"\nusername = \"x\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn test_hosts_are_recognised() {
        for (u, expected) in [
            ("https://rocketchat.test:8443", true),
            ("http://localhost:3000", true),
            ("http://127.0.0.1:3000", true),
            ("https://chat.example.com", false),
        ] {
            assert_eq!(is_test_host(&Url::parse(u).unwrap()), expected, "{u}");
        }
    }
}
