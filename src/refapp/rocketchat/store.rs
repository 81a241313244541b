//! Users and login tokens with Meteor's semantics: tokens stored hashed with their
//! `when`, a fresh token per password login, resume returning the same token,
//! expiry checked at resume, and a periodic sweep.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::behaviour::Behaviour;
use crate::facts::rocketchat as facts;
use crate::refapp::Weakness;

const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// `Random.id()`: 17 characters from Meteor's unmistakable alphabet.
pub fn random_id() -> String {
    let mut bytes = [0u8; 17];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| ID_ALPHABET[*b as usize % ID_ALPHABET.len()] as char)
        .collect()
}

#[derive(Clone, Debug)]
struct StoredToken {
    hashed: String,
    when: DateTime<Utc>,
    last_used: Instant,
    /// Set for the `login-issues-dead-token` weakness: expired from birth.
    dead: bool,
    /// Issued by `POST /api/v1/login` (not the web client's DDP login).
    rest_login: bool,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub name: String,
    digest: String,
    tokens: Vec<StoredToken>,
    /// Only for `no-rotation-at-login`: the server keeps the last token to hand it out again.
    last_plain: Option<String>,
    /// Digests of earlier passwords (`password-history`).
    history: Vec<String>,
    /// `users.setActiveStatus`: a deactivated user cannot sign in.
    active: bool,
    /// May deactivate others (`edit-other-user-active-status`).
    admin: bool,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.active
    }
}

/// A token issued or resumed, as the client is told.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub username: String,
    pub token: String,
    pub when: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    UserNotFound,
    IncorrectPassword,
    BlockedForUser,
    BlockedForIp,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResumeError {
    LoggedOut,
    Expired,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PasswordError {
    CodeRequired,
    CodeInvalid,
    SameAsCurrent,
    InHistory,
}

pub struct Store {
    users: Mutex<Vec<User>>,
    /// Every token ever issued (hash → session), for `realtime-outlives-session`.
    issued: Mutex<std::collections::HashMap<String, Session>>,
    behaviour: Arc<Behaviour>,
    removed: broadcast::Sender<String>,
    /// Failed logins per user and per client address.
    failures: crate::refapp::lockout::Lockout,
    /// Ids the login page gave visitors before sign-in (`anonymous-session-cookie`).
    anonymous: Mutex<std::collections::HashSet<String>>,
}

impl Store {
    /// Meteor's stored form of a token (of the part the server compares).
    pub fn hash(&self, token: &str) -> String {
        facts::hash_token(&crate::refapp::tokens::compared(
            &self.behaviour.weaknesses,
            token,
        ))
    }

    pub fn new(behaviour: Arc<Behaviour>) -> Self {
        let (removed, _) = broadcast::channel(256);
        Self {
            users: Mutex::new(Vec::new()),
            issued: Mutex::new(Default::default()),
            behaviour,
            removed,
            failures: Default::default(),
            anonymous: Mutex::new(Default::default()),
        }
    }

    /// A session id for a visitor who has not signed in: shaped like a real token,
    /// authenticating nothing until a sign-in adopts it (`adopts-issued-id`).
    pub fn issue_anonymous(&self) -> String {
        let id = crate::refapp::tokens::mint(&self.behaviour.weaknesses, 32);
        self.behaviour.ledger.record(&id);
        self.anonymous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone());
        id
    }

    fn was_issued_anonymously(&self, id: &str) -> bool {
        self.anonymous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<User>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_user(&self, username: &str, email: &str, password: &str) -> String {
        self.behaviour.ledger.record(password);
        let id = random_id();
        self.lock().push(User {
            id: id.clone(),
            username: username.to_string(),
            email: email.to_string(),
            name: username.to_string(),
            digest: facts::password_digest(password),
            tokens: Vec::new(),
            last_plain: None,
            history: Vec::new(),
            active: true,
            admin: false,
        });
        id
    }

    /// An administrator (`edit-other-user-active-status`), beside the test user.
    pub fn add_admin(&self, username: &str, email: &str, password: &str) -> String {
        // The administrator's name is never printed either (the leak tests look for it).
        self.behaviour.ledger.record(username);
        let id = self.add_user(username, email, password);
        if let Some(u) = self.lock().iter_mut().find(|u| u.id == id) {
            u.admin = true;
        }
        id
    }

    pub fn is_admin(&self, user_id: &str) -> bool {
        self.lock().iter().any(|u| u.id == user_id && u.admin)
    }

    /// `setUserActiveStatus`: deactivating unsets every login token of the user
    /// (`Users.unsetLoginTokens`) and so closes its sockets. `None` for an unknown user.
    /// Weakened, tokens stay (`deactivation-keeps-sessions`), only the web client's go
    /// (`deactivation-keeps-api-logins`), or sockets stay open (`deactivation-keeps-realtime`).
    pub fn set_active(&self, user_id: &str, active: bool) -> Option<bool> {
        {
            let mut users = self.lock();
            let u = users.iter_mut().find(|u| u.id == user_id)?;
            u.active = active;
        }
        let b = &self.behaviour;
        if !active && !b.has(Weakness::DeactivationKeepsSessions) {
            let api_kept = b.has(Weakness::DeactivationKeepsApiLogins);
            let gone = self.retain(user_id, |t| api_kept && t.rest_login);
            if !b.has(Weakness::DeactivationKeepsRealtime) {
                self.notify(gone);
            }
        }
        Some(active)
    }

    /// A new session for a user, without a password (`logout-signs-in-again`).
    pub fn issue_for(&self, user_id: &str) -> Option<String> {
        let token = crate::refapp::tokens::mint(&self.behaviour.weaknesses, 32);
        let hashed = self.hash(&token);
        let mut users = self.lock();
        let user = users.iter_mut().find(|u| u.id == user_id)?;
        user.tokens.push(StoredToken {
            hashed,
            when: Utc::now(),
            last_used: Instant::now(),
            dead: false,
            rest_login: false,
        });
        drop(users);
        self.behaviour.ledger.record(&token);
        Some(token)
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.lock().iter().find(|u| u.id == id).cloned()
    }

    /// Hashed tokens whose removal closes realtime connections.
    pub fn removals(&self) -> broadcast::Receiver<String> {
        self.removed.subscribe()
    }

    fn expires(&self, t: &StoredToken) -> DateTime<Utc> {
        if t.dead {
            return t.when - chrono::Duration::seconds(1);
        }
        t.when
            + chrono::Duration::from_std(self.behaviour.max_lifetime)
                .unwrap_or(chrono::Duration::days(90))
    }

    fn is_expired(&self, t: &StoredToken) -> bool {
        if self.expires(t) <= Utc::now() {
            return true;
        }
        self.behaviour
            .idle_timeout
            .is_some_and(|idle| t.last_used.elapsed() >= idle)
    }

    /// A password login: `login` is a username or an e-mail, `digest` the client's SHA-256 hex.
    /// `planted` is a token value the request carried (cookie); adopted only when weakened.
    /// `client` is the address the request claims (`X-Real-IP`), which the IP block keys on.
    pub fn password_login(
        &self,
        login: &str,
        digest: &str,
        planted: Option<&str>,
        client: &str,
        rest_login: bool,
    ) -> Result<Session, LoginError> {
        let b = &self.behaviour;
        let (by_user, by_ip) = (format!("user:{login}"), format!("ip:{client}"));
        // validateLoginAttempt: a blocked user or address cannot sign in, even with the right password.
        if let Some(p) = &b.block_by_user
            && self.failures.blocked(p, &by_user)
        {
            return Err(LoginError::BlockedForUser);
        }
        if let Some(p) = &b.block_by_ip
            && self.failures.blocked(p, &by_ip)
        {
            return Err(LoginError::BlockedForIp);
        }
        let result = self.check_password(login, digest, planted, rest_login);
        for (policy, key) in [(&b.block_by_user, &by_user), (&b.block_by_ip, &by_ip)] {
            match (policy, &result) {
                (None, _) => {}
                (Some(_), Ok(_)) => self.failures.succeeded(key),
                (Some(_), Err(_)) => self.failures.failed(key),
            }
        }
        result
    }

    fn check_password(
        &self,
        login: &str,
        digest: &str,
        planted: Option<&str>,
        rest_login: bool,
    ) -> Result<Session, LoginError> {
        let mut users = self.lock();
        let user = users
            .iter_mut()
            .find(|u| u.username == login || u.email.eq_ignore_ascii_case(login))
            .ok_or(LoginError::UserNotFound)?;
        if user.digest != digest.to_ascii_lowercase() && !self.behaviour.accept_wrong_password {
            return Err(LoginError::IncorrectPassword);
        }
        // validateLoginAttempt refuses a deactivated user; Meteor 3 answers it as any failure.
        if !user.active {
            return Err(LoginError::IncorrectPassword);
        }
        let reused = if self.behaviour.rotate_at_login {
            None
        } else {
            user.last_plain.clone()
        };
        let adopted = planted
            .filter(|p| {
                (self.behaviour.adopt_planted && p.len() >= 20)
                    || (self.behaviour.has(Weakness::AdoptsIssuedId)
                        && self.was_issued_anonymously(p))
            })
            .map(str::to_string);
        let token = adopted
            .or(reused)
            .unwrap_or_else(|| crate::refapp::tokens::mint(&self.behaviour.weaknesses, 32));
        self.behaviour.ledger.record(&token);
        let hashed = self.hash(&token);
        let now = Utc::now();
        let existing = user.tokens.iter().position(|t| t.hashed == hashed);
        let stored = match existing {
            Some(i) => user.tokens[i].clone(),
            None => {
                let t = StoredToken {
                    hashed,
                    when: now,
                    last_used: Instant::now(),
                    dead: self.behaviour.dead_token_at_login,
                    rest_login,
                };
                user.tokens.push(t.clone());
                // MAX_RESUME_LOGIN_TOKENS: drop the oldest beyond the cap.
                let excess = user
                    .tokens
                    .len()
                    .saturating_sub(self.behaviour.max_login_tokens);
                user.tokens.drain(..excess);
                t
            }
        };
        if !self.behaviour.rotate_at_login {
            user.last_plain = Some(token.clone());
        }
        // Weakened: the planted value is not handed out, but it is made valid too.
        if let Some(p) = planted.filter(|p| {
            self.behaviour.has(Weakness::PlantedTokenAlsoValid) && p.len() >= 20 && *p != token
        }) {
            user.tokens.push(StoredToken {
                hashed: self.hash(p),
                when: now,
                last_used: Instant::now(),
                dead: false,
                rest_login,
            });
        }
        let session = Session {
            user_id: user.id.clone(),
            username: user.username.clone(),
            token,
            when: stored.when,
            expires: self.expires(&stored),
        };
        drop(users);
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.hash(&session.token), session.clone());
        Ok(session)
    }

    /// Meteor's resume handler: the same token back, refused if unknown or expired.
    pub fn resume(&self, token: &str) -> Result<Session, ResumeError> {
        let found = self.resume_stored(token);
        if found.is_err() && self.behaviour.has(Weakness::RealtimeOutlivesSession) {
            let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = issued.get(&self.hash(token)) {
                return Ok(s.clone());
            }
        }
        found
    }

    fn resume_stored(&self, token: &str) -> Result<Session, ResumeError> {
        let hashed = self.hash(token);
        let mut users = self.lock();
        for user in users.iter_mut() {
            if let Some(i) = user.tokens.iter().position(|t| t.hashed == hashed) {
                let t = user.tokens[i].clone();
                if self.is_expired(&t) {
                    return Err(ResumeError::Expired);
                }
                if self.behaviour.idle_counts_activity {
                    user.tokens[i].last_used = Instant::now();
                }
                return Ok(Session {
                    user_id: user.id.clone(),
                    username: user.username.clone(),
                    token: token.to_string(),
                    when: t.when,
                    expires: self.expires(&t),
                });
            }
        }
        Err(ResumeError::LoggedOut)
    }

    /// REST authentication by user id and token. Real Rocket.Chat ignores expiry here
    /// (the sweep removes expired tokens later); the hardened posture enforces it.
    pub fn authenticate(&self, user_id: Option<&str>, token: &str) -> Option<User> {
        let hashed = self.hash(token);
        let mut users = self.lock();
        let user = users.iter_mut().find(|u| {
            user_id.is_none_or(|id| u.id == id) && u.tokens.iter().any(|t| t.hashed == hashed)
        })?;
        let i = user.tokens.iter().position(|t| t.hashed == hashed)?;
        if self.behaviour.rest_enforces_expiry && self.is_expired(&user.tokens[i]) {
            return None;
        }
        if self.behaviour.idle_counts_activity {
            user.tokens[i].last_used = Instant::now();
        }
        Some(user.clone())
    }

    fn notify(&self, hashes: impl IntoIterator<Item = String>) {
        for h in hashes {
            let _ = self.removed.send(h);
        }
    }

    /// Removes one token (logout). Returns whether it existed.
    pub fn remove_token(&self, token: &str) -> bool {
        let hashed = self.hash(token);
        let removed = {
            let mut users = self.lock();
            users.iter_mut().any(|u| {
                let before = u.tokens.len();
                u.tokens.retain(|t| t.hashed != hashed);
                u.tokens.len() != before
            })
        };
        if removed {
            self.notify([hashed]);
        }
        removed
    }

    /// Keeps only `keep`'s token for its user (`removeOtherTokens`).
    pub fn remove_other_tokens(&self, user_id: &str, keep: &str) {
        let keep = self.hash(keep);
        let gone = self.retain(user_id, |t| t.hashed == keep);
        self.notify(gone);
    }

    /// `users.logoutOtherClients`: keeps `keep`'s token, removes the user's others and
    /// closes their sockets; the caller's token's `when`, or `None` if it is gone.
    /// Weakened, nothing ends (`end-others-keeps-sessions`), the sockets stay open
    /// (`end-others-keeps-realtime`) or the caller's token goes too (`end-others-kills-current`).
    pub fn logout_other_clients(&self, user_id: &str, keep: &str) -> Option<DateTime<Utc>> {
        let keep = self.hash(keep);
        let when = self
            .lock()
            .iter()
            .find(|u| u.id == user_id)?
            .tokens
            .iter()
            .find(|t| t.hashed == keep)?
            .when;
        if self.behaviour.has(Weakness::EndOthersKeepsSessions) {
            return Some(when);
        }
        let kills_current = self.behaviour.has(Weakness::EndOthersKillsCurrent);
        let gone = self.retain(user_id, |t| t.hashed == keep && !kills_current);
        if !self.behaviour.has(Weakness::EndOthersKeepsRealtime) {
            self.notify(gone);
        }
        Some(when)
    }

    /// Removes every token of the user (`users.logout`).
    pub fn remove_all_tokens(&self, user_id: &str) {
        let gone = self.retain(user_id, |_| false);
        self.notify(gone);
    }

    fn retain(&self, user_id: &str, keep: impl Fn(&StoredToken) -> bool) -> Vec<String> {
        let mut users = self.lock();
        let Some(u) = users.iter_mut().find(|u| u.id == user_id) else {
            return Vec::new();
        };
        let (kept, gone): (Vec<_>, Vec<_>) = u.tokens.drain(..).partition(|t| keep(t));
        u.tokens = kept;
        if !gone.is_empty() {
            u.last_plain = None;
        }
        gone.into_iter().map(|t| t.hashed).collect()
    }

    /// `users.updateOwnBasicInfo` with a new password; `code` is the SHA-256 hex of the
    /// current password (2FA method `password`). Other sessions end unless weakened.
    pub fn change_password(
        &self,
        user_id: &str,
        caller_token: &str,
        code: Option<&str>,
        new_password: &str,
    ) -> Result<(), PasswordError> {
        {
            let mut users = self.lock();
            let user = users
                .iter_mut()
                .find(|u| u.id == user_id)
                .ok_or(PasswordError::CodeInvalid)?;
            if !self.behaviour.has(Weakness::PasswordChangeWithoutCurrent) {
                let code = code.ok_or(PasswordError::CodeRequired)?;
                if user.digest != code.to_ascii_lowercase() {
                    return Err(PasswordError::CodeInvalid);
                }
            }
            self.behaviour.ledger.record(new_password);
            let new_digest = facts::password_digest(new_password);
            if new_digest == user.digest {
                return Err(PasswordError::SameAsCurrent);
            }
            if self.behaviour.password_history && user.history.contains(&new_digest) {
                return Err(PasswordError::InHistory);
            }
            let old = std::mem::replace(&mut user.digest, new_digest);
            user.history.push(old);
        }
        if self.behaviour.password_change_removes_others {
            self.remove_other_tokens(user_id, caller_token);
        }
        Ok(())
    }

    /// Meteor's `_expireTokens`: pulls expired (and, hardened, idle) tokens.
    pub fn sweep(&self) {
        let gone: Vec<String> = {
            let mut users = self.lock();
            let mut gone = Vec::new();
            for u in users.iter_mut() {
                let (expired, live): (Vec<_>, Vec<_>) =
                    u.tokens.drain(..).partition(|t| self.is_expired(t));
                u.tokens = live;
                gone.extend(expired.into_iter().map(|t| t.hashed));
            }
            gone
        };
        self.notify(gone);
    }
}
