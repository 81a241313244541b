//! `[valid]`, `[sign_out]`, `[password_change]`, `[sign_out_others]`, `[deactivation]`,
//! `[token_link]`: requests made with a credential.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Csrf, Matcher, get, post};

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

/// An administrator's requests that deactivate and reactivate the test account; made with
/// the administrator's credential, their `json` or `form` may name the test account's
/// credential parts (`{user_id}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deactivation {
    pub deactivate: Request,
    pub reactivate: Request,
}

/// Signing out every other session of the account, keeping the caller's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOutOthers {
    pub request: Request,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLink {
    /// A path with `{token}`, such as `/?access_token={token}`; a query pair whose value
    /// is a part the credential lacks (`userId={user_id}`) is left out.
    pub path: String,
}
