//! `[login_page]` and `[sign_in]`: signing in through the page and by request.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Csrf, Matcher, one_or_many, post};

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
