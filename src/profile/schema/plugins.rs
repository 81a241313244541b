//! `[plugins]`: named code for what data cannot say.

use serde::Deserialize;

use super::five;

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
