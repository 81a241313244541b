//! The profile file: one web application described as data (TOML), loaded and checked
//! before anything is sent, with errors that name the file, the key and what is expected.

mod check;
mod credential;
mod plugins;
mod requests;
mod sign_in;

use check::Checker;

pub use credential::{CredentialSpec, Expiry, PartSpec, Present, StorageKey, UserObject};
pub use plugins::{
    PAGE_PLUGINS, PASSWORD_PROOFS, Plugins, REALTIME_PLUGINS, Realtime, SERVER_SESSION_PLUGINS,
    ServerSession,
};
pub use requests::{
    Deactivation, PasswordChange, Request, SignOut, SignOutOthers, TokenLink, Validity,
};
pub use sign_in::{Lockout, LoginPage, SignIn, SignedIn, Throttle, Unusable};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: cannot read the profile: {detail}")]
    Read { file: PathBuf, detail: String },
    #[error("{file}: {detail}")]
    Syntax { file: PathBuf, detail: String },
    #[error("{file}: `{key}`: expected {expected}{found}")]
    Invalid {
        file: PathBuf,
        key: String,
        expected: String,
        /// `, found …` when there was something to quote.
        found: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub app: App,
    pub login_page: LoginPage,
    pub sign_in: SignIn,
    pub credential: CredentialSpec,
    /// The request that proves a credential valid, and what a refusal looks like.
    pub valid: Validity,
    #[serde(default)]
    pub sign_out: Option<SignOut>,
    #[serde(default)]
    pub password_change: Option<PasswordChange>,
    /// Further requests that change the password (another route to the same change),
    /// sent only with a wrong or no current password, by `password-change-needs-current`.
    #[serde(default)]
    pub password_change_also: Vec<PasswordChange>,
    /// "Sign out the other sessions": a request inside the session that ends every other
    /// session of the account and keeps this one.
    #[serde(default)]
    pub sign_out_others: Option<SignOutOthers>,
    /// An administrator deactivates (and reactivates) the test account.
    #[serde(default)]
    pub deactivation: Option<Deactivation>,
    #[serde(default)]
    pub token_link: Option<TokenLink>,
    #[serde(default)]
    pub checks: Checks,
    /// Code for what data cannot say: a realtime channel, a password proof.
    #[serde(default)]
    pub plugins: Plugins,
    /// Long-lived secrets handed out with a session (`credential.user.extras`), replayed
    /// after the session ends.
    #[serde(default)]
    pub long_lived: Vec<LongLived>,
}

/// A long-lived secret's replay: presented as `header` (`{value}` filled in) on `path`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongLived {
    /// The name of the extra in `credential.user.extras`.
    pub extra: String,
    pub path: String,
    pub header: String,
    pub accepted: Matcher,
    pub refused: Matcher,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Lower-case letters, digits and `-`: the tag `@app-<name>` and the variables
    /// `SESSIONDRILL_APP_<NAME>_*`.
    pub name: String,
    /// How reports name it.
    pub title: String,
    /// A request that shows the URL serves this application (else: the login page answers).
    pub identify: Option<Identify>,
    /// The sessions the application keeps per account; a sign-in beyond ends the oldest
    /// (Rocket.Chat's `MAX_RESUME_LOGIN_TOKENS`). The suite keeps its own sign-ins from
    /// ending a session a scenario waits on.
    pub sessions_per_account: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    pub path: String,
    pub answer: Matcher,
}

/// A page to read first for its CSRF token (and the cookies that come with it), read in
/// the session's jar from one of three places: a hidden input (`field`, sent back as that
/// form field), a `<meta name=…>` tag (`meta`: Rails' `csrf-token`), or a double-submit
/// cookie (`cookie`: Angular's and Laravel's `XSRF-TOKEN`, Django's `csrftoken`); the last
/// two are sent back in the request header `header`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Csrf {
    pub page: String,
    /// The hidden input's name.
    pub field: Option<String>,
    /// The `<meta name=…>` whose `content` is the token.
    pub meta: Option<String>,
    /// The cookie whose value is the token.
    pub cookie: Option<String>,
    /// Where a `meta` or `cookie` token goes back: `X-CSRF-Token`, `X-XSRF-TOKEN`.
    pub header: Option<String>,
}

/// An answer: one of these statuses, and, when given, a `Location` and a body matching
/// these regexes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    pub status: Vec<u16>,
    pub location: Option<String>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// Check ids that do not apply to this application, each with the reason reports show.
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
}

/// The built-in applications, whose profiles ship inside sessiondrill.
pub const BUILT_IN: &[&str] = &["rocketchat", "chatwoot"];

/// An application name: lower-case letters, digits and `-`, not empty.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn post() -> String {
    "POST".into()
}

fn get() -> String {
    "GET".into()
}

fn five() -> u64 {
    5
}

/// A table or a list of tables.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Matcher>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Matcher),
        Many(Vec<Matcher>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(m) => vec![m],
        OneOrMany::Many(v) => v,
    })
}

impl Profile {
    /// Reads, parses and checks a profile file.
    pub fn load(file: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(file).map_err(|e| ProfileError::Read {
            file: file.to_path_buf(),
            detail: e.to_string(),
        })?;
        Self::parse(file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Profile, ProfileError> {
        let profile = Self::parse_any(file, text)?;
        Checker { file }.require(
            !BUILT_IN.contains(&profile.app.name.as_str()),
            "app.name",
            "a name other than the built-in applications' (their profiles ship inside sessiondrill)",
            &profile.app.name,
        )?;
        Ok(profile)
    }

    /// A built-in application's shipped profile (`profiles/rocketchat.toml`).
    pub fn built_in(file: &Path, text: &str) -> Result<Profile, ProfileError> {
        let profile = Self::parse_any(file, text)?;
        Checker { file }.require(
            BUILT_IN.contains(&profile.app.name.as_str()),
            "app.name",
            "a built-in application's name",
            &profile.app.name,
        )?;
        Ok(profile)
    }

    fn parse_any(file: &Path, text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.to_path_buf(),
            detail: e.to_string().trim_end().to_string(),
        })?;
        profile.check(file)?;
        Ok(profile)
    }

    /// The placeholders a template may use: `{token}` and the credential's parts.
    fn placeholders_known(&self, template: &str) -> Option<String> {
        let re = Regex::new(r"\{([a-z_]+)\}").ok()?;
        re.captures_iter(template)
            .map(|c| c[1].to_string())
            .find(|name| name != "token" && !self.credential.parts.contains_key(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn expiry_is_read_in_every_form_or_named() {
        let seen = DateTime::from_timestamp(1_000, 0).expect("an instant");
        let at = |s: i64| DateTime::from_timestamp(s, 0).ok_or_else(String::new);
        let mut e = Expiry {
            header: None,
            json: Some("expires_in".into()),
            beside: None,
            relative: false,
            name: "x".into(),
        };
        assert_eq!(e.at("2000", seen), at(2_000));
        assert_eq!(e.at("\"2000\"", seen), at(2_000));
        // Milliseconds, ISO 8601 with and without an offset, HTTP dates.
        assert_eq!(e.at("1700000000000", seen), at(1_700_000_000));
        assert_eq!(
            e.at("1700000000.5", seen).map(|d| d.timestamp_millis()),
            Ok(1_700_000_000_500)
        );
        assert_eq!(e.at("2023-11-14T22:13:20Z", seen), at(1_700_000_000));
        assert_eq!(e.at("2023-11-14T23:13:20+01:00", seen), at(1_700_000_000));
        assert_eq!(e.at("2023-11-14T22:13:20.000", seen), at(1_700_000_000));
        assert_eq!(e.at("2023-11-14 22:13:20 UTC", seen), at(1_700_000_000));
        assert_eq!(
            e.at("Tue, 14 Nov 2023 22:13:20 GMT", seen),
            at(1_700_000_000)
        );
        let unread = e.at("next tuesday", seen).expect_err("not an instant");
        assert!(unread.contains("x: `next tuesday`"), "{unread}");
        e.relative = true;
        assert_eq!(e.at("15", seen), at(1_015));
        assert_eq!(
            e.at("1.5", seen).map(|d| d.timestamp_millis()),
            Ok(1_001_500)
        );
        assert!(e.at("soon", seen).is_err());
        assert!(e.at(&i64::MAX.to_string(), seen).is_err());
    }

    #[test]
    fn a_jwt_advertises_its_exp_claim() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(r#"{"sub":"1","exp":1700000000}"#)
        );
        assert_eq!(
            crate::model::jwt_expiry(&jwt),
            DateTime::from_timestamp(1_700_000_000, 0)
        );
        assert_eq!(crate::model::jwt_expiry("not.a.jwt"), None);
        assert_eq!(crate::model::jwt_expiry("abcdef"), None);
    }
}
