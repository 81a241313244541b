//! Users and devise_token_auth tokens: a new client/token pair per sign-in, a fixed
//! expiry, no rotation per request, at most 25 devices, and on password change only
//! the newest token kept (as shipped). Tokens are stored hashed.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use super::behaviour::{Behaviour, OnPasswordChange};
use crate::facts::chatwoot as facts;
use crate::refapp::Weakness;

/// `SecureRandom.urlsafe_base64` (16 bytes → 22 characters): clients and tokens.
pub fn urlsafe_token() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Rails `has_secure_token`: 24 base58 characters (API access token, pubsub token).
pub fn secure_token() -> String {
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| BASE58[*b as usize % BASE58.len()] as char)
        .collect()
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Debug)]
struct Token {
    client: String,
    hashed: String,
    expiry: DateTime<Utc>,
    last_used: Instant,
    /// Hardened: the session's own pubsub token.
    pubsub: Option<String>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub account_id: u64,
    pub email: String,
    pub name: String,
    password: String,
    tokens: Vec<Token>,
    pub pubsub_token: String,
    pub api_access_token: String,
    /// Only for `no-rotation-at-login`: the pair handed out last.
    last_pair: Option<(String, String)>,
}

/// The auth headers a sign-in hands out.
#[derive(Clone, Debug)]
pub struct Issued {
    pub client: String,
    pub token: String,
    pub expiry: DateTime<Utc>,
    pub pubsub: String,
}

/// A request authenticated by devise_token_auth headers.
#[derive(Clone, Debug)]
pub struct Authed {
    pub user: User,
    pub client: String,
    pub token: String,
    pub expiry: DateTime<Utc>,
    /// The pubsub token this session sees (its own when per-session).
    pub pubsub: String,
}

/// The current password given with a password change was wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct WrongCurrentPassword;

pub struct Store {
    users: Mutex<Vec<User>>,
    behaviour: Arc<Behaviour>,
    revoked: broadcast::Sender<String>,
    /// Every per-session pubsub token issued, with its user (`realtime-outlives-session`).
    issued_pubsub: Mutex<Vec<(String, u64)>>,
}

impl Store {
    /// The stored form of a token (of the part the server compares).
    fn token_hash(&self, token: &str) -> String {
        hash(&crate::refapp::tokens::compared(
            &self.behaviour.weaknesses,
            token,
        ))
    }

    pub fn new(behaviour: Arc<Behaviour>) -> Self {
        let (revoked, _) = broadcast::channel(256);
        Self {
            users: Mutex::new(Vec::new()),
            behaviour,
            revoked,
            issued_pubsub: Mutex::new(Vec::new()),
        }
    }

    /// Records a freshly made secret in the ledger and hands it back.
    fn issue(&self, value: String) -> String {
        self.behaviour.ledger.record(&value);
        value
    }

    fn lock(&self) -> MutexGuard<'_, Vec<User>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_user(&self, email: &str, name: &str, password: &str) {
        self.behaviour.ledger.record(password);
        let mut users = self.lock();
        let id = users.len() as u64 + 1;
        users.push(User {
            id,
            account_id: 1,
            email: email.to_string(),
            name: name.to_string(),
            password: hash(password),
            tokens: Vec::new(),
            pubsub_token: self.issue(secure_token()),
            api_access_token: self.issue(secure_token()),
            last_pair: None,
        });
    }

    /// Pubsub tokens whose sessions ended (hardened sockets close on them).
    pub fn revocations(&self) -> broadcast::Receiver<String> {
        self.revoked.subscribe()
    }

    fn expired(&self, t: &Token) -> bool {
        t.expiry <= Utc::now()
            || self
                .behaviour
                .idle_timeout
                .is_some_and(|idle| t.last_used.elapsed() >= idle)
    }

    fn revoke(&self, gone: impl IntoIterator<Item = Token>) {
        for t in gone {
            if let Some(p) = t.pubsub {
                let _ = self.revoked.send(p);
            }
        }
    }

    /// The user whose e-mail and password these are (Devise's database authentication,
    /// without devise_token_auth's tokens).
    pub fn check_password(&self, email: &str, password: &str) -> Option<u64> {
        let users = self.lock();
        let u = users.iter().find(|u| u.email.eq_ignore_ascii_case(email))?;
        (u.password == hash(password) || self.behaviour.accept_wrong_password).then_some(u.id)
    }

    /// Devise's `authenticatable_salt` (the first 29 characters of the bcrypt hash), which
    /// Warden keeps in the session beside the user id: it changes with the password, so a
    /// cookie made before a password change no longer signs anyone in.
    pub fn session_salt(&self, user_id: u64) -> Option<String> {
        let users = self.lock();
        let u = users.iter().find(|u| u.id == user_id)?;
        Some(format!("$2a$11${}", &u.password[..22]))
    }

    /// `POST /auth/sign_in`. `planted` is an (access-token, client) pair the request's
    /// cookies carried; adopted only when weakened.
    pub fn sign_in(
        &self,
        email: &str,
        password: &str,
        planted: Option<(String, String)>,
    ) -> Option<(User, Issued)> {
        let mut users = self.lock();
        let user = users
            .iter_mut()
            .find(|u| u.email.eq_ignore_ascii_case(email))?;
        if user.password != hash(password) && !self.behaviour.accept_wrong_password {
            return None;
        }
        let planted_pair = planted.clone();
        let pair = if let Some(p) = planted.filter(|_| self.behaviour.adopt_planted) {
            p
        } else if let Some(p) = user
            .last_pair
            .clone()
            .filter(|_| !self.behaviour.rotate_at_sign_in)
        {
            p
        } else {
            (
                self.issue(crate::refapp::tokens::mint(&self.behaviour.weaknesses, 16)),
                self.issue(urlsafe_token()),
            )
        };
        let (token, client) = pair.clone();
        let now = Utc::now();
        let expiry = if self.behaviour.dead_token_at_login {
            now - chrono::Duration::seconds(1)
        } else {
            now + chrono::Duration::from_std(self.behaviour.lifespan)
                .unwrap_or(chrono::Duration::days(61))
        };
        let pubsub = self
            .behaviour
            .per_session_pubsub
            .then(|| self.issue(secure_token()));
        user.tokens.retain(|t| t.client != client);
        // Weakened: the planted pair is not handed out, but it is made valid too.
        if let Some((p_token, p_client)) = planted_pair
            .filter(|(t, _)| self.behaviour.has(Weakness::PlantedTokenAlsoValid) && *t != token)
        {
            user.tokens.push(Token {
                client: p_client,
                hashed: self.token_hash(&p_token),
                expiry,
                last_used: Instant::now(),
                pubsub: None,
            });
        }
        if let Some(p) = &pubsub {
            self.issued_pubsub
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((p.clone(), user.id));
        }
        user.tokens.push(Token {
            client: client.clone(),
            hashed: self.token_hash(&token),
            expiry,
            last_used: Instant::now(),
            pubsub: pubsub.clone(),
        });
        // clean_old_tokens: past max_number_of_devices the earliest expiry goes.
        user.tokens.sort_by_key(|t| t.expiry);
        let cap = if self.behaviour.has(Weakness::NoSessionLimit) {
            usize::MAX
        } else {
            facts::MAX_DEVICES
        };
        let excess = user.tokens.len().saturating_sub(cap);
        let dropped: Vec<Token> = user.tokens.drain(..excess).collect();
        if !self.behaviour.rotate_at_sign_in {
            user.last_pair = Some(pair);
        }
        let issued = Issued {
            client,
            token,
            expiry,
            pubsub: pubsub.unwrap_or_else(|| user.pubsub_token.clone()),
        };
        let out = (user.clone(), issued);
        drop(users);
        self.revoke(dropped);
        Some(out)
    }

    /// devise_token_auth `set_user_by_token`: uid (e-mail), client and token, unexpired.
    pub fn authenticate(&self, uid: &str, client: &str, token: &str) -> Option<Authed> {
        let mut users = self.lock();
        let user = users
            .iter_mut()
            .find(|u| u.email.eq_ignore_ascii_case(uid))?;
        let h = self.token_hash(token);
        let i = user
            .tokens
            .iter()
            .position(|t| t.client == client && t.hashed == h)?;
        if self.expired(&user.tokens[i]) {
            return None;
        }
        if self.behaviour.idle_counts_activity {
            user.tokens[i].last_used = Instant::now();
        }
        let t = user.tokens[i].clone();
        Some(Authed {
            pubsub: t
                .pubsub
                .clone()
                .unwrap_or_else(|| user.pubsub_token.clone()),
            user: user.clone(),
            client: t.client,
            token: token.to_string(),
            expiry: t.expiry,
        })
    }

    pub fn user(&self, id: u64) -> Option<User> {
        self.lock().iter().find(|u| u.id == id).cloned()
    }

    /// The permanent `api_access_token` header.
    pub fn by_api_token(&self, token: &str) -> Option<User> {
        self.lock()
            .iter()
            .find(|u| u.api_access_token == token)
            .cloned()
    }

    /// `DELETE /auth/sign_out`: deletes that client's token.
    pub fn sign_out(&self, user_id: u64, client: &str) {
        let gone = {
            let mut users = self.lock();
            let Some(u) = users.iter_mut().find(|u| u.id == user_id) else {
                return;
            };
            let (gone, kept): (Vec<Token>, Vec<Token>) =
                u.tokens.drain(..).partition(|t| t.client == client);
            u.tokens = kept;
            if self.behaviour.api_token_rotates {
                u.api_access_token = self.issue(secure_token());
            }
            gone
        };
        self.revoke(gone);
    }

    /// A password change (`PUT /api/v1/profile`, `PUT /auth`); `current` is checked when
    /// given (not under `password-change-without-current`). Returns whether the caller's
    /// token survived.
    pub fn change_password(
        &self,
        user_id: u64,
        caller: &str,
        current: Option<&str>,
        new: &str,
    ) -> Result<bool, WrongCurrentPassword> {
        let (gone, survived) = {
            let mut users = self.lock();
            let u = users
                .iter_mut()
                .find(|u| u.id == user_id)
                .ok_or(WrongCurrentPassword)?;
            if let Some(current) = current
                && !self.behaviour.has(Weakness::PasswordChangeWithoutCurrent)
                && u.password != hash(current)
            {
                return Err(WrongCurrentPassword);
            }
            u.password = hash(new);
            self.behaviour.ledger.record(new);
            let keep_newest = u.tokens.iter().map(|t| t.expiry).max();
            let (kept, gone): (Vec<Token>, Vec<Token>) =
                u.tokens
                    .drain(..)
                    .partition(|t| match self.behaviour.on_password_change {
                        OnPasswordChange::KeepAll => true,
                        OnPasswordChange::KeepCaller => t.client == caller,
                        OnPasswordChange::KeepNewest => Some(t.expiry) == keep_newest,
                    });
            u.tokens = kept;
            let survived = u.tokens.iter().any(|t| t.client == caller);
            if self.behaviour.pubsub_rotates_on_password_change {
                u.pubsub_token = self.issue(secure_token());
            }
            if self.behaviour.api_token_rotates {
                u.api_access_token = self.issue(secure_token());
            }
            u.last_pair = None;
            (gone, survived)
        };
        self.revoke(gone);
        Ok(survived)
    }

    /// RoomChannel's lookup: the user with this pubsub token (and id), session alive if per-session.
    pub fn pubsub_valid(
        &self,
        pubsub: &str,
        user_id: Option<u64>,
        account_id: Option<u64>,
    ) -> bool {
        if self.behaviour.has(Weakness::RealtimeOutlivesSession)
            && account_id.is_some()
            && self
                .issued_pubsub
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|(p, u)| p == pubsub && user_id.is_none_or(|id| id == *u))
        {
            return true;
        }
        let users = self.lock();
        users
            .iter()
            .filter(|u| user_id.is_none_or(|id| id == u.id))
            .filter(|u| account_id == Some(u.account_id))
            .any(|u| {
                if self.behaviour.per_session_pubsub {
                    u.tokens
                        .iter()
                        .any(|t| t.pubsub.as_deref() == Some(pubsub) && !self.expired(t))
                } else {
                    u.pubsub_token == pubsub
                }
            })
    }
}

/// The user JSON of `app/views/api/v1/models/_user.json.jbuilder`.
pub fn user_json(u: &User, pubsub: &str) -> Value {
    json!({
        "access_token": u.api_access_token,
        "account_id": u.account_id,
        "available_name": u.name,
        "avatar_url": "",
        "confirmed": true,
        "display_name": null,
        "message_signature": null,
        "email": u.email,
        "id": u.id,
        "inviter_id": null,
        "name": u.name,
        "provider": "email",
        "pubsub_token": pubsub,
        "role": "administrator",
        "ui_settings": {},
        "uid": u.email,
        "type": "SuperAdmin",
        "accounts": [{
            "id": u.account_id, "name": "Acme", "status": "active", "active_at": null, "role": "administrator",
            "permissions": ["administrator"], "availability": "online", "availability_status": "online",
            "auto_offline": true
        }],
    })
}
