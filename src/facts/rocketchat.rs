//! Rocket.Chat's session surface, as its source code defines it (6.x–8.x, Meteor
//! accounts). Both the adapter and the reference target read these, so they
//! cannot drift apart; correct a value here when a real server disagrees.

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::facts::ui::UiFact;

// REST routes. `/api/v1/*` authenticates by headers only; cookies are not read there.
pub const LOGIN: &str = "/api/v1/login";
pub const ME: &str = "/api/v1/me";
pub const LOGOUT: &str = "/api/v1/logout";
pub const UPDATE_OWN_BASIC_INFO: &str = "/api/v1/users.updateOwnBasicInfo";
pub const REMOVE_OTHER_TOKENS: &str = "/api/v1/users.removeOtherTokens";
/// The account page's "Logout from other logged in locations" (AccountProfilePage.tsx):
/// keeps the caller's `X-Auth-Token`, removes every other non-PAT login token
/// (`Users.removeNonPATLoginTokensExcept`, apps/meteor/app/api/server/v1/users.ts).
pub const LOGOUT_OTHER_CLIENTS: &str = "/api/v1/users.logoutOtherClients";
pub const USERS_LOGOUT: &str = "/api/v1/users.logout";
/// An administrator activates or deactivates a user (`edit-other-user-active-status`);
/// deactivating calls `Users.unsetLoginTokens` (setUserActiveStatus).
pub const SET_ACTIVE_STATUS: &str = "/api/v1/users.setActiveStatus";
/// The web client posts its DDP `login` message here (setting `API_Use_REST_For_DDP_Calls`, default true).
pub const METHOD_CALL_ANON_LOGIN: &str = "/api/v1/method.callAnon/login";
pub const INFO: &str = "/api/info";
pub const HEALTH: &str = "/health";
/// The DDP realtime endpoint.
pub const WEBSOCKET: &str = "/websocket";
/// Any route shows the login form when signed out; RC's own e2e tests open `/home`.
pub const HOME: &str = "/home";

pub const HEADER_AUTH_TOKEN: &str = "X-Auth-Token";
pub const HEADER_USER_ID: &str = "X-User-Id";

/// Written by client script through `document.cookie` after login: `path=/`, `secure`
/// only on https, no HttpOnly, no SameSite, no expiry.
pub const COOKIE_TOKEN: &str = "rc_token";
pub const COOKIE_USER_ID: &str = "rc_uid";

/// Meteor's localStorage keys (sessionStorage when `Accounts_ForgetUserSessionOnWindowClose`).
pub const STORAGE_TOKEN: &str = "Meteor.loginToken";
pub const STORAGE_USER_ID: &str = "Meteor.userId";
pub const STORAGE_TOKEN_EXPIRES: &str = "Meteor.loginTokenExpires";

/// How long the page may show the login form while a `?resumeToken=` login is in flight
/// before "not signed in" is believed.
pub const LINK_LOGIN_SETTLE: Duration = Duration::from_secs(6);
/// `?resumeToken=` signs the browser in with that token (`useLoginViaQuery`).
pub const QUERY_RESUME_TOKEN: &str = "resumeToken";
pub const QUERY_USER_ID: &str = "userId";

// Login page (React UI, `LoginForm.tsx`); element ids come from `useId()` and are not stable.
pub const SEL_USERNAME: &str = "input[name=\"usernameOrEmail\"]";
pub const SEL_PASSWORD: &str = "input[name=\"password\"]";
pub const SEL_SUBMIT: &str = "button[type=\"submit\"]";
/// RC's Playwright tests treat a visible `#main-content` as "logged in".
pub const SEL_SIGNED_IN: &str = "#main-content";
/// Wrong credentials: the fields marked `aria-invalid="true"`; some revisions add a
/// `role="alert"` field error, others a Callout without a role.
pub const SEL_LOGIN_ERROR: &str = "[role=\"alert\"], input[aria-invalid=\"true\"]";
/// 8.x NavBar: the "User menu" icon button (no `data-qa`; the old sidebar avatar is gone).
pub const SEL_USER_MENU: &str = "button[aria-label=\"User menu\"], button[title=\"User menu\"]";
/// The user menu is a multi-select GenericMenu: its items are `menuitemcheckbox`.
pub const XPATH_LOGOUT: &str =
    "//*[(@role='menuitemcheckbox' or @role='menuitem') and normalize-space(.)='Logout']";

pub const UI_USERNAME: UiFact =
    UiFact::css("username", SEL_USERNAME, "the login form's user field");
pub const UI_PASSWORD: UiFact =
    UiFact::css("password", SEL_PASSWORD, "the login form's password field");
pub const UI_SUBMIT: UiFact = UiFact::css("submit", SEL_SUBMIT, "the login form's submit button");
pub const UI_SIGNED_IN: UiFact =
    UiFact::css("signed_in", SEL_SIGNED_IN, "what shows a signed-in page");
pub const UI_LOGIN_ERROR: UiFact = UiFact::css(
    "login_error",
    SEL_LOGIN_ERROR,
    "what shows a refused sign-in",
);
pub const UI_USER_MENU: UiFact = UiFact::css("user_menu", SEL_USER_MENU, "the user menu button");
pub const UI_LOGOUT: UiFact = UiFact::xpath("logout", XPATH_LOGOUT, "the user menu's Logout item");
/// Every page fact, for `sessiondrill ui` and for checking `[rocketchat.ui]` keys.
pub const UI: &[UiFact] = &[
    UI_USERNAME,
    UI_PASSWORD,
    UI_SUBMIT,
    UI_SIGNED_IN,
    UI_LOGIN_ERROR,
    UI_USER_MENU,
    UI_LOGOUT,
];

// Messages and codes.
pub const MSG_NOT_LOGGED_IN: &str = "You must be logged in to do this.";
pub const MSG_LOGGED_OUT_BY_SERVER: &str =
    "You've been logged out by the server. Please log in again.";
pub const MSG_SESSION_EXPIRED: &str = "Your session has expired. Please log in again.";
/// 6.x's wrong-password reason; from Meteor 3 (7.x, 8.x) every password failure is
/// rewritten to [`MSG_USER_NOT_FOUND`] and REST answers 401 [`MSG_UNAUTHORIZED`].
pub const MSG_INCORRECT_PASSWORD: &str = "Incorrect password";
pub const MSG_USER_NOT_FOUND: &str = "User not found";
pub const MSG_UNAUTHORIZED: &str = "Unauthorized";
pub const MSG_LOGGED_OUT: &str = "You've been logged out!";

/// `Random.secret()`: 43 base64url characters, 256 bits.
pub const TOKEN_LEN: usize = 43;
/// `Accounts_LoginExpiration` default, in days; 0 or less also means 90.
pub const DEFAULT_LOGIN_EXPIRATION_DAYS: u64 = 90;
/// Meteor's `_expireTokens` sweep: REST ignores expiry until it runs.
pub const EXPIRE_TOKENS_INTERVAL: Duration = Duration::from_secs(600);
/// `MAX_RESUME_LOGIN_TOKENS` default.
pub const MAX_LOGIN_TOKENS: usize = 50;
/// Sockets are closed asynchronously after their token is removed; RC's own test waits 20 s.
pub const SOCKET_CLOSE_DEADLINE: Duration = Duration::from_secs(20);

/// Meteor's `_hashLoginToken`: base64 of SHA-256, as stored in `services.resume.loginTokens`.
pub fn hash_token(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(token.as_bytes()))
}

/// The client-side password digest Meteor sends (`{digest, algorithm: 'sha-256'}`), lower-case hex.
pub fn password_digest(password: &str) -> String {
    Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The 401 body of an `authRequired` route without a valid token (legacy fields present before 9.0).
pub fn not_logged_in_body() -> serde_json::Value {
    serde_json::json!({
        "success": false,
        "error": MSG_NOT_LOGGED_IN,
        "status": "error",
        "message": MSG_NOT_LOGGED_IN,
    })
}

/// Whether `name` is a session-token cookie, with or without a `__Host-`/`__Secure-` prefix.
pub fn is_token_cookie(name: &str) -> bool {
    strip_prefix(name) == COOKIE_TOKEN
}

pub fn is_user_id_cookie(name: &str) -> bool {
    strip_prefix(name) == COOKIE_USER_ID
}

fn strip_prefix(name: &str) -> &str {
    name.strip_prefix("__Host-")
        .or_else(|| name.strip_prefix("__Secure-"))
        .unwrap_or(name)
}

/// `Block_Multiple_Failed_Logins_*` defaults (`server/settings/accounts.ts`): failures
/// per user and per client address before the block, and the block's length from the
/// last failure (`restrictLoginAttempts.ts`).
pub const BLOCK_BY_USER_ATTEMPTS: u32 = 10;
pub const BLOCK_BY_IP_ATTEMPTS: u32 = 50;
pub const BLOCK_PERIOD: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// The errors `validateLoginAttempt` throws while blocked (REST: 401 with `error`).
pub const ERR_BLOCKED_FOR_USER: &str = "error-login-blocked-for-user";
pub const ERR_BLOCKED_FOR_IP: &str = "error-login-blocked-for-ip";
pub const MSG_BLOCKED_FOR_USER: &str = "Login has been temporarily blocked For User";
pub const MSG_BLOCKED_FOR_IP: &str = "Login has been temporarily blocked For IP";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_matches_meteor() {
        // base64(sha256("abc")), as Meteor's _hashLoginToken computes it.
        assert_eq!(
            hash_token("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(hash_token("x").len(), 44);
    }

    #[test]
    fn digest_is_lower_hex_sha256() {
        assert_eq!(
            password_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cookie_names_with_prefixes() {
        assert!(is_token_cookie("rc_token"));
        assert!(is_token_cookie("__Host-rc_token"));
        assert!(is_token_cookie("__Secure-rc_token"));
        assert!(!is_token_cookie("rc_uid"));
        assert!(is_user_id_cookie("__Host-rc_uid"));
    }
}
