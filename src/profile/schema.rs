//! The profile file: one web application described as data (TOML), loaded and checked
//! before anything is sent, with errors that name the file, the key and what is expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
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

/// Named plug-ins a profile refers to; each is code in `apps::profiled::plugins`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plugins {
    /// The realtime channel: `meteor-ddp` (Meteor's DDP `login {resume}` on a websocket)
    /// `actioncable-room` (an ActionCable subscription identified by the pubsub token) or
    /// `node-red-comms` (Node-RED's editor websocket, `{auth: token}`).
    pub realtime: Option<Realtime>,
    /// The server framework's own session cookie: `rails-cookie` (Rails 7 encrypted cookies).
    pub server_session: Option<ServerSession>,
    /// How `{old}` is sent in the password change: `sha256-hex` (Rocket.Chat's
    /// `currentPassword`). Without it, as typed.
    pub password_proof: Option<String>,
    /// Page code for a login page the `[login_page]` selectors cannot drive:
    /// `rocketchat-login` or `chatwoot-login`. Without it, the selectors drive the page.
    pub page: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Realtime {
    pub plugin: String,
    /// The websocket's path.
    pub path: String,
    /// How long the server may take to close a connection whose session ended.
    #[serde(default = "five")]
    pub close_within_seconds: u64,
    /// The channel to subscribe to (`actioncable-room`).
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSession {
    pub plugin: String,
    /// The session cookie's name (any `__Host-` or `__Secure-` prefix matches).
    pub cookie: String,
    /// The session key that holds the signed-in user (Warden's `warden.user.user.key`).
    pub user_key: String,
    /// Signed cookies written beside it, checked against publicly known secrets too.
    #[serde(default)]
    pub signed: Vec<String>,
}

/// The plug-ins this build knows, for `plugins.realtime.plugin`.
pub const REALTIME_PLUGINS: &[&str] = &["meteor-ddp", "actioncable-room", "node-red-comms"];
/// The server-session plug-ins this build knows.
pub const SERVER_SESSION_PLUGINS: &[&str] = &["rails-cookie"];
/// The password proofs this build knows, for `plugins.password_proof`.
pub const PASSWORD_PROOFS: &[&str] = &["sha256-hex"];
/// The page plug-ins this build knows, for `plugins.page`.
pub const PAGE_PLUGINS: &[&str] = &["rocketchat-login", "chatwoot-login"];

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    pub path: String,
    pub answer: Matcher,
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
    pub refused: Option<String>,
    /// Or what the page's text says then (a regular expression), for a toast without
    /// a selector of its own.
    pub refused_text: Option<String>,
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
    /// The answers when the application blocks sign-ins for a while (trouble, not a
    /// verdict): one matcher or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub throttled: Vec<Matcher>,
    /// The application's documented block of repeated failed sign-ins.
    pub lockout: Option<Lockout>,
    /// The application's own limit on sign-ins per client address, if it has one.
    pub throttle: Option<Throttle>,
    /// Answers that mean the account cannot be used for testing (it has two-factor
    /// authentication, say): an error with this advice, never a refusal.
    #[serde(default)]
    pub unusable: Vec<Unusable>,
    /// Sign-ins in flight at once (Node-RED refuses a sixth attempt in flight per user).
    pub at_once: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unusable {
    pub answer: Matcher,
    /// What to tell the user.
    pub say: String,
}

/// Sign-ins allowed per client address in a period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    pub attempts: u32,
    pub seconds: u64,
}

/// Failed sign-ins for one account before the application blocks it, and for how long.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockout {
    pub after: u32,
    pub seconds: u64,
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
    /// Cookie values are URI-encoded by the application's script (`encodeURI`).
    #[serde(default)]
    pub uri_encoded: bool,
    /// Cookie values are JSON with the token at this path (a dotted path).
    pub cookie_json: Option<String>,
    /// Where the token's advertised expiry (epoch seconds) is.
    pub expiry: Option<Expiry>,
    /// The signed-in user's object, for parts and extras the session needs.
    pub user: Option<UserObject>,
    /// Other values the application needs beside the token (a user id), by name; the
    /// name is a placeholder (`{user_id}`) in `present.headers` and `token_link.path`.
    #[serde(default)]
    pub parts: BTreeMap<String, PartSpec>,
    /// How late the application may enforce expiry (a periodic sweep), in seconds.
    #[serde(default)]
    pub expiry_slack_seconds: u64,
    /// The alphabet tokens are written in (`base36`, `base58`, …), for the token-strength
    /// check when a sample is too small to tell; read from the sample when absent.
    pub alphabet: Option<String>,
    pub present: Present,
}

/// The advertised expiry: a header or a JSON field of the sign-in answer, and a field
/// beside the token in a JSON cookie or storage value; `name` is how evidence names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    pub header: Option<String>,
    pub json: Option<String>,
    pub beside: Option<String>,
    /// Seconds from when the credential was seen (OAuth's `expires_in`), not epoch seconds.
    #[serde(default)]
    pub relative: bool,
    pub name: String,
}

impl Expiry {
    /// The instant `raw` (text or a JSON number) names, for a credential seen at `seen`;
    /// what it is, when it names none (an ERROR for every refusal it guards).
    pub fn at(&self, raw: &str, seen: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        if !self.relative {
            return crate::model::read_expiry(raw).map_err(|e| format!("{}: {e}", self.name));
        }
        let v = raw.trim().trim_matches('"');
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .and_then(|s| chrono::TimeDelta::try_milliseconds((s * 1000.0) as i64))
            .and_then(|d| seen.checked_add_signed(d))
            .ok_or_else(|| format!("{}: `{v}` is not a number of seconds", self.name))
    }

    /// Records what `raw` says on `cred`: the instant, or why it cannot be read.
    pub fn record(
        &self,
        raw: Option<String>,
        cred: &mut crate::model::Credential,
        seen: DateTime<Utc>,
    ) {
        match raw.map(|r| self.at(&r, seen)) {
            Some(Ok(at)) => cred.expires_at = Some(at),
            Some(Err(why)) => cred.expiry_unread = Some(why),
            None => {}
        }
    }
}

/// The user object: at `sign_in` (a dotted path) in the sign-in answer, and the whole
/// answer of a GET of `request` inside the session.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserObject {
    pub sign_in: String,
    pub request: String,
    /// Credential parts by name, from these fields.
    #[serde(default)]
    pub parts: BTreeMap<String, String>,
    /// Long-lived secrets by name, from these fields.
    #[serde(default)]
    pub extras: BTreeMap<String, String>,
}

/// Where a credential part lives: the sign-in answer (JSON or header), web storage, cookies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartSpec {
    pub json: Option<String>,
    pub header: Option<String>,
    /// A field beside the token in a JSON cookie (`credential.cookie_json`) or storage value.
    pub beside: Option<String>,
    #[serde(default)]
    pub storage: Vec<StorageKey>,
    #[serde(default)]
    pub cookies: Vec<String>,
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
    /// Several header templates; one whose part the credential lacks is left out.
    #[serde(default)]
    pub headers: Vec<String>,
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
    /// A JSON body template instead of `form`.
    pub json: Option<String>,
    pub csrf: Option<Csrf>,
    pub success: Matcher,
}

/// The password change: a request inside the session whose `form` or `json` has `{old}`
/// and `{new}`.
pub type PasswordChange = Request;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLink {
    /// A path with `{token}`, such as `/?access_token={token}`; a query pair whose value
    /// is a part the credential lacks (`userId={user_id}`) is left out.
    pub path: String,
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

    fn check(&self, file: &Path) -> Result<(), ProfileError> {
        let v = Checker { file };
        v.require(
            valid_name(&self.app.name),
            "app.name",
            "lower-case letters, digits and `-` (it becomes the tag @app-<name>)",
            &self.app.name,
        )?;
        if let Some(id) = &self.app.identify {
            v.path("app.identify.path", &id.path)?;
            v.matcher("app.identify.answer", &id.answer)?;
        }
        v.path("login_page.path", &self.login_page.path)?;
        for (key, css) in [
            ("login_page.user", &self.login_page.user),
            ("login_page.password", &self.login_page.password),
            ("login_page.submit", &self.login_page.submit),
        ] {
            v.require(!css.trim().is_empty(), key, "a CSS selector", css)?;
        }
        let l = &self.login_page;
        v.require(
            l.refused.as_ref().is_some_and(|c| !c.trim().is_empty()) || l.refused_text.is_some(),
            "login_page.refused",
            "the CSS selector of what the page shows for a wrong password (or `refused_text`, a regex over the page's text)",
            "",
        )?;
        if let Some(t) = &l.refused_text {
            v.regex("login_page.refused_text", t)?;
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
        for t in &s.throttled {
            v.matcher("sign_in.throttled", t)?;
        }
        for u in &s.unusable {
            v.matcher("sign_in.unusable.answer", &u.answer)?;
            v.require(
                !u.say.trim().is_empty(),
                "sign_in.unusable.say",
                "advice for the user",
                "",
            )?;
        }
        if let Some(l) = &s.lockout {
            v.require(
                l.after >= 1 && l.seconds >= 1,
                "sign_in.lockout",
                "`after` failed sign-ins (at least 1) and `seconds` the block lasts (at least 1)",
                "",
            )?;
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
        let ways = [
            c.present.cookie.is_some(),
            c.present.header.is_some(),
            !c.present.headers.is_empty(),
        ];
        v.require(
            ways.iter().filter(|x| **x).count() == 1,
            "credential.present",
            "exactly one of `cookie` (a name), `header` (a template such as \"Authorization: Bearer {token}\") or `headers` (a list of templates)",
            "",
        )?;
        for (name, part) in &c.parts {
            v.require(
                !name.is_empty()
                    && name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')
                    && name != "token",
                &format!("credential.parts.{name}"),
                "a name of lower-case letters and `_`, other than `token`",
                name,
            )?;
            v.require(
                part.json.is_some()
                    || part.header.is_some()
                    || part.beside.is_some()
                    || !part.storage.is_empty()
                    || !part.cookies.is_empty(),
                &format!("credential.parts.{name}"),
                "at least one of `json`, `header`, `storage` or `cookies`",
                "",
            )?;
        }
        if let Some(h) = &c.present.header {
            v.require(
                h.split_once(':').is_some_and(|(n, _)| !n.trim().is_empty())
                    && h.contains("{token}"),
                "credential.present.header",
                "`Name: value` with {token} in the value",
                h,
            )?;
        }
        for h in &c.present.headers {
            v.require(
                h.split_once(':').is_some_and(|(n, _)| !n.trim().is_empty()),
                "credential.present.headers",
                "`Name: value` templates",
                h,
            )?;
            if let Some(unknown) = self.placeholders_known(h) {
                return Err(v.invalid(
                    "credential.present.headers",
                    &format!(
                        "placeholders {{token}} or a part in `credential.parts`, not {{{unknown}}}"
                    ),
                    h,
                ));
            }
        }
        if !c.present.headers.is_empty() {
            v.require(
                c.present.headers.iter().any(|h| h.contains("{token}")),
                "credential.present.headers",
                "one template with {token}",
                "",
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
                if let Some(j) = &r.json {
                    v.require(
                        r.form.is_empty(),
                        "sign_out.request",
                        "`form` or `json`, not both",
                        "",
                    )?;
                    v.json_template("sign_out.request.json", j, &["token"])?;
                }
                v.csrf("sign_out.request.csrf", r.csrf.as_ref())?;
                v.matcher("sign_out.request.success", &r.success)?;
            }
        }
        if let Some(p) = &self.password_change {
            v.method("password_change.method", &p.method)?;
            v.path("password_change.path", &p.path)?;
            match &p.json {
                Some(j) => {
                    v.require(
                        p.form.is_empty(),
                        "password_change",
                        "`form` or `json`, not both",
                        "",
                    )?;
                    v.require(
                        j.contains("{old}") && j.contains("{new}"),
                        "password_change.json",
                        "a JSON template with \"{old}\" and \"{new}\"",
                        j,
                    )?;
                    v.json_template("password_change.json", j, &["old", "new"])?;
                }
                None => {
                    let values: Vec<&String> = p.form.values().collect();
                    v.require(
                        values.iter().any(|x| x.contains("{old}"))
                            && values.iter().any(|x| x.contains("{new}")),
                        "password_change.form",
                        "fields whose values include {old} and {new}",
                        "",
                    )?;
                }
            }
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
            if let Some(unknown) = self.placeholders_known(&l.path) {
                return Err(v.invalid(
                    "token_link.path",
                    &format!(
                        "placeholders {{token}} or a part in `credential.parts`, not {{{unknown}}}"
                    ),
                    &l.path,
                ));
            }
        }
        if let Some(r) = &self.plugins.realtime {
            v.one_of("plugins.realtime.plugin", REALTIME_PLUGINS, &r.plugin)?;
            v.path("plugins.realtime.path", &r.path)?;
        }
        if let Some(r) = &self.plugins.realtime {
            v.require(
                r.plugin != "actioncable-room"
                    || r.channel.is_some()
                        && self.credential.user.as_ref().is_some_and(|u| {
                            u.extras.contains_key("pubsub_token")
                                && u.parts.contains_key("account_id")
                                && u.parts.contains_key("user_id")
                        }),
                "plugins.realtime",
                "for actioncable-room: `channel`, and `credential.user` with the extra `pubsub_token` and the parts `account_id` and `user_id`",
                "",
            )?;
        }
        if let Some(s) = &self.plugins.server_session {
            v.one_of(
                "plugins.server_session.plugin",
                SERVER_SESSION_PLUGINS,
                &s.plugin,
            )?;
        }
        if let Some(u) = &self.credential.user {
            v.path("credential.user.request", &u.request)?;
        }
        if let Some(a) = &self.credential.alphabet {
            v.require(
                crate::checks::entropy::Alphabet::parse(a).is_some(),
                "credential.alphabet",
                &format!("one of {}", crate::checks::entropy::Alphabet::names()),
                a,
            )?;
        }
        if let Some(e) = &self.credential.expiry {
            v.require(
                (e.header.is_some() || e.json.is_some() || e.beside.is_some())
                    && !(e.header.is_some() && e.json.is_some()),
                "credential.expiry",
                "`header` or `json` (the sign-in answer), and/or `beside` (a JSON cookie or storage value)",
                "",
            )?;
        }
        for l in &self.long_lived {
            v.require(
                self.credential
                    .user
                    .as_ref()
                    .is_some_and(|u| u.extras.contains_key(&l.extra)),
                "long_lived.extra",
                "the name of an extra in `credential.user.extras`",
                &l.extra,
            )?;
            v.path("long_lived.path", &l.path)?;
            v.require(
                l.header.split_once(':').is_some() && l.header.contains("{value}"),
                "long_lived.header",
                "`Name: value` with {value}",
                &l.header,
            )?;
            v.matcher("long_lived.accepted", &l.accepted)?;
            v.matcher("long_lived.refused", &l.refused)?;
            v.distinct("long_lived", &l.accepted, &l.refused)?;
        }
        if let Some(p) = &self.plugins.password_proof {
            v.one_of("plugins.password_proof", PASSWORD_PROOFS, p)?;
        }
        if let Some(p) = &self.plugins.page {
            v.one_of("plugins.page", PAGE_PLUGINS, p)?;
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

    /// A plug-in name this build knows.
    fn one_of(&self, key: &str, known: &[&str], found: &str) -> Result<(), ProfileError> {
        self.require(
            known.contains(&found),
            key,
            &format!("one of {}", known.join(", ")),
            found,
        )
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

    /// A JSON template that stays valid JSON once its placeholders are filled in.
    fn json_template(&self, key: &str, t: &str, names: &[&str]) -> Result<(), ProfileError> {
        let filled = names
            .iter()
            .fold(t.to_string(), |t, n| t.replace(&format!("{{{n}}}"), "x"));
        self.require(
            serde_json::from_str::<serde_json::Value>(&filled).is_ok(),
            key,
            &format!(
                "valid JSON once its placeholders are filled in ({})",
                names.join(", ")
            ),
            t,
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
        let sources: Vec<&str> = [
            c.field.as_ref().map(|_| "field"),
            c.meta.as_ref().map(|_| "meta"),
            c.cookie.as_ref().map(|_| "cookie"),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.require(
            sources.len() == 1,
            key,
            "exactly one of `field` (a hidden input), `meta` (a <meta name> tag) or `cookie` (a double-submit cookie)",
            &sources.join(", "),
        )?;
        for (name, value) in [
            ("field", &c.field),
            ("meta", &c.meta),
            ("cookie", &c.cookie),
        ] {
            if let Some(v) = value {
                self.require(!v.trim().is_empty(), &format!("{key}.{name}"), "a name", v)?;
            }
        }
        let header = c.header.as_deref().unwrap_or_default();
        if c.field.is_some() {
            self.require(
                c.header.is_none(),
                &format!("{key}.header"),
                "no header: a hidden input's token goes back as its form field",
                header,
            )
        } else {
            self.require(
                reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_ok(),
                &format!("{key}.header"),
                "the request header the token goes back in (X-CSRF-Token, X-XSRF-TOKEN, X-CSRFToken)",
                header,
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
