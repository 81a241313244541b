//! The profile file: one web application described as data (TOML), loaded and checked
//! before anything is sent, with errors that name the file, the key and what is expected.

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
    #[serde(default)]
    pub token_link: Option<TokenLink>,
    #[serde(default)]
    pub checks: Checks,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Lower-case letters, digits and `-`: the tag `@app-<name>` and the variables
    /// `SESSIONDRILL_APP_<NAME>_*`.
    pub name: String,
    /// How reports name it.
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginPage {
    pub path: String,
    /// CSS selectors of the user field, the password field and the submit control.
    pub user: String,
    pub password: String,
    pub submit: String,
    /// What the page shows when it refuses the credentials (CSS selector).
    pub refused: String,
    pub signed_in: SignedIn,
}

/// What shows a signed-in page: a visible element, the address (a regex over the path),
/// or, for a login dialog over the application, the password field gone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedIn {
    pub selector: Option<String>,
    pub url: Option<String>,
    #[serde(default)]
    pub form_gone: bool,
}

/// A request the tool sends, and the answer that means it worked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[serde(default = "post")]
    pub method: String,
    pub path: String,
    /// Form fields (`{user}` and `{password}` are filled in); or `json` instead.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// A JSON body template with `"{user}"` and `"{password}"`.
    pub json: Option<String>,
    pub csrf: Option<Csrf>,
    pub success: Matcher,
    /// The answer to a wrong password.
    pub refused: Matcher,
    /// The answer when the application blocks sign-ins for a while (trouble, not a verdict).
    pub throttled: Option<Matcher>,
    /// Sign-ins in flight at once (Node-RED refuses a sixth attempt in flight per user).
    pub at_once: Option<usize>,
}

/// A page to read first for its CSRF field (and the cookie that comes with it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Csrf {
    pub page: String,
    /// The hidden input's name.
    pub field: String,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// Cookies the session lives in.
    #[serde(default)]
    pub cookies: Vec<String>,
    /// Web-storage keys, with a JSON path inside the value.
    #[serde(default)]
    pub storage: Vec<StorageKey>,
    /// A field of the sign-in answer's JSON (dotted path).
    pub json: Option<String>,
    /// A header of the sign-in answer.
    pub header: Option<String>,
    pub present: Present,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageKey {
    pub key: String,
    #[serde(default)]
    pub session: bool,
    pub json: Option<String>,
}

/// How a captured credential is presented again: as a cookie, or a header template.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Present {
    pub cookie: Option<String>,
    /// `Authorization: Bearer {token}`.
    pub header: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    pub accepted: Matcher,
    pub refused: Matcher,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOut {
    /// CSS selectors clicked in turn on the signed-in page.
    #[serde(default)]
    pub ui: Vec<String>,
    pub request: Option<Request>,
}

/// A request made with the credential presented; form values may use `{token}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default = "post")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    pub csrf: Option<Csrf>,
    pub success: Matcher,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[serde(default = "post")]
    pub method: String,
    pub path: String,
    /// Fields, with `{old}` and `{new}` filled in.
    pub form: BTreeMap<String, String>,
    pub csrf: Option<Csrf>,
    pub success: Matcher,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLink {
    /// A path with `{token}`, such as `/?access_token={token}`.
    pub path: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// Check ids that do not apply to this application, each with the reason reports show.
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
}

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
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.to_path_buf(),
            detail: e.to_string().trim_end().to_string(),
        })?;
        profile.check(file)?;
        Ok(profile)
    }

    fn check(&self, file: &Path) -> Result<(), ProfileError> {
        let v = Checker { file };
        v.require(
            valid_name(&self.app.name),
            "app.name",
            "lower-case letters, digits and `-` (it becomes the tag @app-<name>)",
            &self.app.name,
        )?;
        v.require(
            !["rocketchat", "chatwoot"].contains(&self.app.name.as_str()),
            "app.name",
            "a name other than the built-in applications'",
            &self.app.name,
        )?;
        v.path("login_page.path", &self.login_page.path)?;
        for (key, css) in [
            ("login_page.user", &self.login_page.user),
            ("login_page.password", &self.login_page.password),
            ("login_page.submit", &self.login_page.submit),
            ("login_page.refused", &self.login_page.refused),
        ] {
            v.require(!css.trim().is_empty(), key, "a CSS selector", css)?;
        }
        let si = &self.login_page.signed_in;
        let signals = [si.selector.is_some(), si.url.is_some(), si.form_gone];
        v.require(
            signals.iter().filter(|x| **x).count() == 1,
            "login_page.signed_in",
            "exactly one of `selector` (CSS), `url` (a regex over the path) or `form_gone = true`",
            "",
        )?;
        if let Some(url) = &si.url {
            v.regex("login_page.signed_in.url", url)?;
        }

        let s = &self.sign_in;
        v.method("sign_in.method", &s.method)?;
        v.path("sign_in.path", &s.path)?;
        match (&s.json, s.form.is_empty()) {
            (Some(t), true) => {
                let filled = t.replace("{user}", "u").replace("{password}", "p");
                v.require(
                    t.contains("{user}") && t.contains("{password}"),
                    "sign_in.json",
                    "a JSON template with \"{user}\" and \"{password}\"",
                    t,
                )?;
                v.require(
                    serde_json::from_str::<serde_json::Value>(&filled).is_ok(),
                    "sign_in.json",
                    "valid JSON once {user} and {password} are filled in",
                    t,
                )?;
            }
            (None, false) => {
                let values: Vec<&String> = s.form.values().collect();
                v.require(
                    values.iter().any(|x| x.contains("{user}"))
                        && values.iter().any(|x| x.contains("{password}")),
                    "sign_in.form",
                    "fields whose values include {user} and {password}",
                    "",
                )?;
            }
            _ => {
                return Err(v.invalid(
                    "sign_in",
                    "exactly one of `form` (fields) or `json` (a template)",
                    "",
                ));
            }
        }
        v.csrf("sign_in.csrf", s.csrf.as_ref())?;
        v.matcher("sign_in.success", &s.success)?;
        v.matcher("sign_in.refused", &s.refused)?;
        v.distinct("sign_in", &s.success, &s.refused)?;
        if let Some(t) = &s.throttled {
            v.matcher("sign_in.throttled", t)?;
        }
        v.require(
            s.at_once.is_none_or(|n| n >= 1),
            "sign_in.at_once",
            "a number of sign-ins of at least 1",
            "0",
        )?;

        let c = &self.credential;
        v.require(
            !c.cookies.is_empty()
                || !c.storage.is_empty()
                || c.json.is_some()
                || c.header.is_some(),
            "credential",
            "at least one of `cookies`, `storage`, `json` or `header`",
            "",
        )?;
        v.require(
            c.present.cookie.is_some() != c.present.header.is_some(),
            "credential.present",
            "exactly one of `cookie` (a name) or `header` (a template such as \"Authorization: Bearer {token}\")",
            "",
        )?;
        if let Some(h) = &c.present.header {
            v.require(
                h.split_once(':').is_some_and(|(n, _)| !n.trim().is_empty())
                    && h.contains("{token}"),
                "credential.present.header",
                "`Name: value` with {token} in the value",
                h,
            )?;
        }
        if let Some(name) = &c.present.cookie {
            v.require(
                c.cookies.contains(name),
                "credential.present.cookie",
                "one of the names in `credential.cookies`",
                name,
            )?;
        }

        v.method("valid.method", &self.valid.method)?;
        v.path("valid.path", &self.valid.path)?;
        v.matcher("valid.accepted", &self.valid.accepted)?;
        v.matcher("valid.refused", &self.valid.refused)?;
        v.distinct("valid", &self.valid.accepted, &self.valid.refused)?;

        if let Some(out) = &self.sign_out {
            v.require(
                !out.ui.is_empty() || out.request.is_some(),
                "sign_out",
                "`ui` (selectors to click) or `request`, or leave the section out",
                "",
            )?;
            if let Some(r) = &out.request {
                v.method("sign_out.request.method", &r.method)?;
                v.path("sign_out.request.path", &r.path)?;
                v.csrf("sign_out.request.csrf", r.csrf.as_ref())?;
                v.matcher("sign_out.request.success", &r.success)?;
            }
        }
        if let Some(p) = &self.password_change {
            v.method("password_change.method", &p.method)?;
            v.path("password_change.path", &p.path)?;
            let values: Vec<&String> = p.form.values().collect();
            v.require(
                values.iter().any(|x| x.contains("{old}"))
                    && values.iter().any(|x| x.contains("{new}")),
                "password_change.form",
                "fields whose values include {old} and {new}",
                "",
            )?;
            v.csrf("password_change.csrf", p.csrf.as_ref())?;
            v.matcher("password_change.success", &p.success)?;
        }
        if let Some(l) = &self.token_link {
            v.path("token_link.path", &l.path)?;
            v.require(
                l.path.contains("{token}"),
                "token_link.path",
                "a path with {token}",
                &l.path,
            )?;
        }
        for (id, why) in &self.checks.skip {
            v.require(
                !why.trim().is_empty(),
                &format!("checks.skip.{id}"),
                "the reason the check does not apply (reports show it)",
                "",
            )?;
        }
        Ok(())
    }
}

struct Checker<'a> {
    file: &'a Path,
}

impl Checker<'_> {
    fn invalid(&self, key: &str, expected: &str, found: &str) -> ProfileError {
        ProfileError::Invalid {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            expected: expected.to_string(),
            found: if found.is_empty() {
                String::new()
            } else {
                format!(", found {found:?}")
            },
        }
    }

    fn require(
        &self,
        ok: bool,
        key: &str,
        expected: &str,
        found: &str,
    ) -> Result<(), ProfileError> {
        if ok {
            Ok(())
        } else {
            Err(self.invalid(key, expected, found))
        }
    }

    fn path(&self, key: &str, path: &str) -> Result<(), ProfileError> {
        self.require(
            path.starts_with('/') && !path.contains(char::is_whitespace),
            key,
            "a path on the target starting with `/`",
            path,
        )
    }

    fn method(&self, key: &str, method: &str) -> Result<(), ProfileError> {
        self.require(
            ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method),
            key,
            "GET, POST, PUT, PATCH or DELETE",
            method,
        )
    }

    fn regex(&self, key: &str, re: &str) -> Result<(), ProfileError> {
        Regex::new(re)
            .map(|_| ())
            .map_err(|e| self.invalid(key, &format!("a regular expression ({e})"), re))
    }

    fn csrf(&self, key: &str, csrf: Option<&Csrf>) -> Result<(), ProfileError> {
        let Some(c) = csrf else { return Ok(()) };
        self.path(&format!("{key}.page"), &c.page)?;
        self.require(
            !c.field.trim().is_empty(),
            &format!("{key}.field"),
            "the name of the page's hidden CSRF input",
            &c.field,
        )
    }

    fn matcher(&self, key: &str, m: &Matcher) -> Result<(), ProfileError> {
        let bad = m.status.iter().find(|s| !(100..=599).contains(*s));
        self.require(
            !m.status.is_empty() && bad.is_none(),
            &format!("{key}.status"),
            "a list of HTTP statuses (100 to 599)",
            &bad.map(|s| s.to_string()).unwrap_or_default(),
        )?;
        if let Some(l) = &m.location {
            self.regex(&format!("{key}.location"), l)?;
        }
        if let Some(b) = &m.body {
            self.regex(&format!("{key}.body"), b)?;
        }
        Ok(())
    }

    /// Success and refusal must not describe the same answer, or a refusal could pass for
    /// acceptance.
    fn distinct(&self, key: &str, yes: &Matcher, no: &Matcher) -> Result<(), ProfileError> {
        let shared: Vec<u16> = yes
            .status
            .iter()
            .filter(|s| no.status.contains(s))
            .copied()
            .collect();
        let told_apart = |a: &Matcher, b: &Matcher| {
            (a.location.is_some() || b.location.is_some()) && a.location != b.location
                || (a.body.is_some() || b.body.is_some()) && a.body != b.body
        };
        self.require(
            shared.is_empty() || told_apart(yes, no),
            key,
            "an accepted and a refused answer that differ in status, `location` or `body`",
            &format!("both allow status {shared:?}"),
        )
    }
}
