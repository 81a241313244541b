//! Chatwoot 4.9.1's session surface (devise_token_auth 1.2.5, Rails 7.1). The
//! adapter and the reference target both read these; correct a value here when a
//! real server disagrees.

use std::time::Duration;

use crate::facts::ui::UiFact;

// devise_token_auth routes (mounted at /auth) and the API.
pub const SIGN_IN: &str = "/auth/sign_in";
pub const SIGN_OUT: &str = "/auth/sign_out";
/// What the dashboard calls at start (`validityCheck`).
pub const VALIDATE_TOKEN: &str = "/auth/validate_token";
/// `GET` returns the user; `PUT` with `profile.current_password` changes the password.
pub const PROFILE: &str = "/api/v1/profile";
/// devise_token_auth's registrations#update, mounted by `mount_devise_token_auth_for`
/// (config/routes.rb) because User is `:registerable` (app/models/user.rb). With
/// `check_current_password_before_update` unset (false), `resource_update_method` picks
/// `update_attributes` unless `current_password` is sent: a password (or e-mail) change
/// needs no current password (devise_token_auth registrations_controller.rb). Read from
/// the code; not tried against a running 4.9.1.
pub const ACCOUNT_UPDATE: &str = "/auth";
/// `GET /api`: version and service health, unauthenticated.
pub const API_INFO: &str = "/api";
/// ActionCable, the dashboard's `createConsumer()` default.
pub const CABLE: &str = "/cable";
pub const CABLE_PROTOCOL: &str = "actioncable-v1-json";
pub const ROOM_CHANNEL: &str = "RoomChannel";
pub const LOGIN_PAGE: &str = "/app/login";

// The credential: these response headers, sent back as request headers.
pub const H_ACCESS_TOKEN: &str = "access-token";
pub const H_CLIENT: &str = "client";
pub const H_UID: &str = "uid";
pub const H_EXPIRY: &str = "expiry";
pub const H_TOKEN_TYPE: &str = "token-type";
pub const H_AUTHORIZATION: &str = "authorization";
/// The permanent per-user API token (header name with an underscore).
pub const H_API_ACCESS_TOKEN: &str = "api_access_token";

/// Written by the dashboard with js-cookie 3 from `JSON.stringify(response.headers)`:
/// path=/, expires ≈ 60 days, no SameSite (js-cookie 3 ignores `Cookies.defaults`),
/// no Secure, never HttpOnly. The server never reads it.
pub const COOKIE_SESSION_INFO: &str = "cw_d_session_info";
/// The Rails session (cookie store, `same_site: :lax`, HttpOnly by Rails default,
/// Secure only with FORCE_SSL). Not accepted as auth for /api or /auth.
pub const COOKIE_RAILS_SESSION: &str = "_chatwoot_session";
/// Where Warden keeps the signed-in user in the Rails session (absent in Chatwoot: its
/// sign-in runs with `store: false`).
pub const RAILS_WARDEN_USER_KEY: &str = "warden.user.user.key";
/// devise_token_auth's own cookie when `cookie_enabled` (off in Chatwoot; the hardened
/// reference target turns it on, HttpOnly, instead of exposing the headers to script).
pub const COOKIE_DTA: &str = "auth_cookie";
/// Signed cookies written by `warden_hooks.rb` at sign-in; nothing reads them.
pub const COOKIE_USER_ID: &str = "user.id";
pub const COOKIE_USER_EXPIRES_AT: &str = "user.expires_at";

// Login page (`app/javascript/v3/views/login/Index.vue`); no ids.
pub const SEL_EMAIL: &str = "input[name=\"email_address\"]";
pub const SEL_PASSWORD: &str = "input[name=\"password\"]";
pub const SEL_SUBMIT: &str = "button[data-testid=\"submit_button\"]";
/// After sign-in the dashboard lives under /app/accounts/{id}/.
pub const SIGNED_IN_PATH_PREFIX: &str = "/app/accounts/";
/// The toast on refused credentials (the API's message).
pub const MSG_BAD_CREDENTIALS: &str = "Invalid login credentials. Please try again.";
/// The sidebar profile menu (a button showing the user's e-mail) holds "Log out".
pub const XPATH_LOGOUT: &str =
    "//*[(self::button or self::a or @role='menuitem') and normalize-space(.)='Log out']";

pub const UI_EMAIL: UiFact = UiFact::css("email", SEL_EMAIL, "the login form's e-mail field");
pub const UI_PASSWORD: UiFact =
    UiFact::css("password", SEL_PASSWORD, "the login form's password field");
pub const UI_SUBMIT: UiFact = UiFact::css("submit", SEL_SUBMIT, "the login form's submit button");
pub const UI_SIGNED_IN_PATH: UiFact = UiFact::path(
    "signed_in_path",
    SIGNED_IN_PATH_PREFIX,
    "the address of a signed-in page",
);
pub const UI_REFUSED_TEXT: UiFact = UiFact::text(
    "refused_text",
    "Invalid login credentials|could not",
    "what a refused sign-in says",
);
pub const UI_THROTTLED_TEXT: UiFact = UiFact::text(
    "throttled_text",
    "Retry later|Too many",
    "what a throttled sign-in says",
);
pub const UI_PROFILE_MENU: UiFact = UiFact::xpath(
    "profile_menu",
    "//button[contains(normalize-space(.), '{email}')]",
    "the sidebar profile menu button ({email} is the account's e-mail)",
);
pub const UI_LOGOUT: UiFact =
    UiFact::xpath("logout", XPATH_LOGOUT, "the profile menu's Log out item");
/// Every page fact, for `sessiondrill ui` and for checking `[chatwoot.ui]` keys.
pub const UI: &[UiFact] = &[
    UI_EMAIL,
    UI_PASSWORD,
    UI_SUBMIT,
    UI_SIGNED_IN_PATH,
    UI_REFUSED_TEXT,
    UI_THROTTLED_TEXT,
    UI_PROFILE_MENU,
    UI_LOGOUT,
];

// Bodies.
pub const MSG_AUTHENTICATE_ERROR: &str = "You need to sign in or sign up before continuing.";
pub const MSG_VALIDATE_INVALID: &str = "Invalid login credentials";
pub const MSG_SIGN_OUT_NOT_FOUND: &str = "User was not found or was not logged in.";
pub const MSG_BAD_CURRENT_PASSWORD: &str = "Invalid current password";
pub const MSG_INVALID_ACCESS_TOKEN: &str = "Invalid Access Token";

/// `token_lifespan = 2.months`.
pub const TOKEN_LIFESPAN: Duration = Duration::from_secs(61 * 86_400);
/// `max_number_of_devices = 25`.
pub const MAX_DEVICES: usize = 25;
/// Rack::Attack `login/ip`: POST /auth/sign_in, 5 per 5 minutes per IP (loopback safelisted).
pub const SIGN_IN_THROTTLE: (u32, Duration) = (5, Duration::from_secs(300));
/// Rack::Attack's throttled answer (429, text/plain, no Retry-After).
pub const THROTTLED_BODY: &str = "Retry later\n";
/// ActionCable sends no confirmation for a bad pubsub_token (an exception in `subscribed`).
pub const SUBSCRIBE_WAIT: Duration = Duration::from_secs(4);
/// ActionCable's server pings every connection this often (`BEAT_INTERVAL`).
pub const CABLE_BEAT: Duration = Duration::from_secs(3);

/// Whether `name` is one of the cookies a Chatwoot session lives in, with any prefix.
pub fn is_session_cookie(name: &str) -> bool {
    let bare = name
        .strip_prefix("__Host-")
        .or_else(|| name.strip_prefix("__Secure-"))
        .unwrap_or(name);
    [COOKIE_SESSION_INFO, COOKIE_RAILS_SESSION, COOKIE_DTA].contains(&bare)
}

/// Whether `name` is the Rails session cookie, with any prefix.
pub fn is_rails_session(name: &str) -> bool {
    name.trim_start_matches("__Host-")
        .trim_start_matches("__Secure-")
        == COOKIE_RAILS_SESSION
}

/// The cookies that carry the auth headers as JSON.
pub fn is_header_cookie(name: &str) -> bool {
    let bare = name
        .strip_prefix("__Host-")
        .or_else(|| name.strip_prefix("__Secure-"))
        .unwrap_or(name);
    bare == COOKIE_SESSION_INFO || bare == COOKIE_DTA
}

/// Devise `lockable`, which a hardened Chatwoot enables (`lock_strategy :failed_attempts`,
/// `unlock_strategy :time`; Devise's defaults: 20 attempts, 1 hour; here 5 and 5 minutes,
/// as strict as Rack::Attack's `login/ip`). devise_token_auth answers a locked account
/// with 401 and this message (`devise.mailer.unlock_instructions.account_lock_msg`).
pub const LOCKABLE: (u32, Duration) = (5, Duration::from_secs(300));
pub const MSG_LOCKED: &str =
    "Your account has been locked due to an excessive number of unsuccessful sign in attempts.";
