//! Real third-party applications nobody here wrote, started by the project's own scripts
//! (`ci/apps/*`), and the session behaviour their documentation promises, measured over
//! raw HTTP. These facts are what profile targets and their expected-findings tables rest
//! on: if an upstream release changes one, this test says which, before a verdict drifts.
//!
//! Without python3 (Django), npm (Node-RED) or php (DokuWiki) that part passes with a
//! notice, unless `CI` is set.

#[path = "common/verdicts.rs"]
mod verdicts;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

const PASSWORD: &str = "Sessiondrill-Test-2026!";
const NEW_PASSWORD: &str = "Sessiondrill-Changed-2026?";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    sessiondrill::loopback::free_port().expect("a free loopback port")
}

/// A running app, stopped by PID when dropped (also when an assertion fails).
struct App {
    script: &'static str,
    dir: PathBuf,
    url: String,
}

impl App {
    fn start(script: &'static str, name: &str, env: &[(&str, &str)]) -> App {
        let dir = root().join("target/realapps/runs").join(name);
        let port = free_port().to_string();
        let out = Command::new(root().join(script))
            .args(["start", dir.to_str().expect("utf-8 path"), &port])
            .envs(env.iter().copied())
            .output()
            .expect("run the start script");
        assert!(
            out.status.success(),
            "{script} start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        App { script, dir, url }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = Command::new(root().join(self.script))
            .args(["stop", self.dir.to_str().unwrap_or_default()])
            .status();
    }
}

fn available(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is needed for the real-app tests in CI"
        );
        println!("notice: {tool} not found; real-app test skipped (it runs in CI)");
    }
    found
}

fn client() -> reqwest::Client {
    sessiondrill::crypto::http_client()
        .redirect(Policy::none())
        .build()
        .expect("http client")
}

/// `name=value` and the attributes of the `Set-Cookie` for `name`, if any.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

mod django {
    use super::*;

    pub const SCRIPT: &str = "ci/apps/django";
    pub const USER: &str = "admin";

    /// The CSRF cookie and the form's token from a page with a form.
    pub async fn csrf(c: &reqwest::Client, url: &str, session: Option<&str>) -> (String, String) {
        let mut req = c.get(url);
        if let Some(s) = session {
            req = req.header(COOKIE, format!("sessionid={s}"));
        }
        let r = req.send().await.expect("GET form page");
        let cookie = set_cookie(&r, "csrftoken")
            .map(|s| cookie_value(&s))
            .expect("csrftoken cookie");
        let body = r.text().await.expect("form page body");
        let token = body
            .split("name=\"csrfmiddlewaretoken\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrfmiddlewaretoken field")
            .to_string();
        (cookie, token)
    }

    /// Signs in through the admin's login form; the `Set-Cookie` of `sessionid`.
    pub async fn sign_in(
        c: &reqwest::Client,
        base: &str,
        password: &str,
        planted: Option<&str>,
    ) -> Option<String> {
        let login = format!("{base}admin/login/");
        let (csrf_cookie, token) = csrf(c, &login, None).await;
        let mut cookies = format!("csrftoken={csrf_cookie}");
        if let Some(p) = planted {
            cookies.push_str(&format!("; sessionid={p}"));
        }
        let r = c
            .post(format!("{login}?next=/admin/"))
            .header(COOKIE, cookies)
            .form(&[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", USER),
                ("password", password),
                ("next", "/admin/"),
            ])
            .send()
            .await
            .expect("POST login");
        (r.status() == 302)
            .then(|| set_cookie(&r, "sessionid"))
            .flatten()
    }

    /// Whether the admin index answers this session (200) rather than sending it to the login page.
    pub async fn accepted(c: &reqwest::Client, base: &str, session: &str) -> bool {
        let r = c
            .get(format!("{base}admin/"))
            .header(COOKIE, format!("sessionid={session}"))
            .send()
            .await
            .expect("GET /admin/");
        match r.status().as_u16() {
            200 => true,
            302 => {
                let to = r
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                assert!(
                    to.starts_with("/admin/login/"),
                    "unexpected redirect to {to}"
                );
                false
            }
            s => panic!("unexpected status {s} from /admin/"),
        }
    }

    pub async fn sign_out(c: &reqwest::Client, base: &str, session: &str) {
        let (csrf_cookie, token) = csrf(c, &format!("{base}admin/"), Some(session)).await;
        let r = c
            .post(format!("{base}admin/logout/"))
            .header(
                COOKIE,
                format!("csrftoken={csrf_cookie}; sessionid={session}"),
            )
            .form(&[("csrfmiddlewaretoken", token.as_str())])
            .send()
            .await
            .expect("POST logout");
        assert_eq!(r.status(), 200, "logout page");
    }

    /// Changes the password inside `session`; the key the session continues under.
    pub async fn change_password(
        c: &reqwest::Client,
        base: &str,
        session: &str,
        old: &str,
        new: &str,
    ) -> String {
        let page = format!("{base}admin/password_change/");
        let (csrf_cookie, token) = csrf(c, &page, Some(session)).await;
        let r = c
            .post(&page)
            .header(
                COOKIE,
                format!("csrftoken={csrf_cookie}; sessionid={session}"),
            )
            .form(&[
                ("csrfmiddlewaretoken", token.as_str()),
                ("old_password", old),
                ("new_password1", new),
                ("new_password2", new),
            ])
            .send()
            .await
            .expect("POST password change");
        assert_eq!(r.status(), 302, "password change accepted");
        set_cookie(&r, "sessionid")
            .map(|s| cookie_value(&s))
            .expect("the changing session continues under a new key")
    }

    pub fn start(name: &str, env: &[(&str, &str)]) -> App {
        let mut all = vec![
            ("DJANGO_SUPERUSER_USERNAME", USER),
            ("DJANGO_SUPERUSER_PASSWORD", PASSWORD),
        ];
        all.extend_from_slice(env);
        App::start(SCRIPT, name, &all)
    }
}

mod dokuwiki {
    use super::*;

    pub const SCRIPT: &str = "ci/apps/dokuwiki";
    pub const USER: &str = "drill";

    pub fn start(name: &str) -> App {
        App::start(
            SCRIPT,
            name,
            &[("DOKUWIKI_USER", USER), ("DOKUWIKI_PASSWORD", PASSWORD)],
        )
    }
}

mod rails {
    use super::*;

    pub const SCRIPT: &str = "ci/apps/rails";
    pub const USER: &str = "drill@example.test";

    pub fn start(name: &str, env: &[(&str, &str)]) -> App {
        let mut all = vec![("RAILS_USER", USER), ("RAILS_PASSWORD", PASSWORD)];
        all.extend_from_slice(env);
        App::start(SCRIPT, name, &all)
    }
}

/// Django's defaults (docs: "How to use sessions", settings `SESSION_COOKIE_*`,
/// `django.contrib.auth` "Session invalidation on password change").
#[tokio::test]
async fn django_default_sessions_behave_as_documented() {
    if !available("python3") {
        return;
    }
    let started = Instant::now();
    let app = django::start("django-default", &[]);
    println!("Django ready in {:.1}s", started.elapsed().as_secs_f64());
    let (c, base) = (client(), app.url.clone());

    // A wrong password: the form again (200), no session.
    assert!(
        django::sign_in(&c, &base, "wrong-password", None)
            .await
            .is_none()
    );

    let planted = "plantedsessionkey0000000000000000";
    let set = django::sign_in(&c, &base, PASSWORD, Some(planted))
        .await
        .expect("signed in with the superuser");
    let attrs = set.to_ascii_lowercase();
    assert!(attrs.contains("httponly"), "{set}");
    assert!(attrs.contains("samesite=lax"), "{set}");
    assert!(
        !attrs.contains("secure"),
        "not Secure over http by default: {set}"
    );
    assert!(attrs.contains("max-age=1209600"), "14 days: {set}");
    let first = cookie_value(&set);
    assert_ne!(first, planted, "a planted key is not adopted");
    assert!(django::accepted(&c, &base, &first).await);

    // Every sign-in gets a key of its own; signing in again inside a live session of the
    // same user keeps that session's key (`login()` flushes only for another user).
    let second = cookie_value(
        &django::sign_in(&c, &base, PASSWORD, None)
            .await
            .expect("second sign-in"),
    );
    assert_ne!(first, second, "a new key per sign-in");
    let again = django::sign_in(&c, &base, PASSWORD, Some(&first))
        .await
        .expect("sign-in inside a session");
    assert_eq!(cookie_value(&again), first, "same user, same session");

    // A password change ends the account's other sessions, not the one that changed it.
    let other = cookie_value(
        &django::sign_in(&c, &base, PASSWORD, None)
            .await
            .expect("third sign-in"),
    );
    assert!(django::accepted(&c, &base, &other).await, "baseline");
    let renewed = django::change_password(&c, &base, &second, PASSWORD, NEW_PASSWORD).await;
    assert!(
        !django::accepted(&c, &base, &other).await,
        "session auth hash"
    );
    // update_session_auth_hash keeps the changer signed in, under a new key.
    assert_ne!(renewed, second);
    assert!(
        django::accepted(&c, &base, &renewed).await,
        "update_session_auth_hash"
    );
    assert!(
        !django::accepted(&c, &base, &second).await,
        "the old key is gone"
    );

    assert!(
        !django::accepted(&c, &base, &first).await,
        "every other session ends"
    );

    // Logout deletes the server-side session: the old cookie is refused.
    let last = cookie_value(
        &django::sign_in(&c, &base, NEW_PASSWORD, None)
            .await
            .expect("sign-in with the new password"),
    );
    assert!(django::accepted(&c, &base, &last).await, "baseline");
    django::sign_out(&c, &base, &last).await;
    assert!(
        !django::accepted(&c, &base, &last).await,
        "logout flushes the session"
    );

    // No idle timeout: a session untouched for a while still works (SESSION_SAVE_EVERY_REQUEST off).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(django::accepted(&c, &base, &renewed).await);
}

/// Hardened: a short cookie age renewed on every request is an idle timeout
/// (`SESSION_COOKIE_AGE`, `SESSION_SAVE_EVERY_REQUEST`).
#[tokio::test]
async fn django_idle_timeout_follows_its_settings() {
    if !available("python3") {
        return;
    }
    let app = django::start(
        "django-idle",
        &[
            ("DJANGO_SESSION_COOKIE_AGE", "4"),
            ("DJANGO_SESSION_SAVE_EVERY_REQUEST", "1"),
        ],
    );
    let (c, base) = (client(), app.url.clone());
    // The idle session first: a sign-in (password hashing) slowed by a busy host between
    // the used session's sign-in and its first use would age that one past 4 s instead.
    let idle = cookie_value(
        &django::sign_in(&c, &base, PASSWORD, None)
            .await
            .expect("signed in"),
    );
    let used = cookie_value(
        &django::sign_in(&c, &base, PASSWORD, None)
            .await
            .expect("signed in"),
    );
    // Used every second for 6 s: each use renews the expiry.
    for _ in 0..6 {
        assert!(
            django::accepted(&c, &base, &used).await,
            "activity renews the session"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        !django::accepted(&c, &base, &idle).await,
        "idle past the cookie age"
    );
}

/// Weakened: with the `signed_cookies` engine the session lives in the cookie, so the
/// old cookie still works after logout (documented in "Using cookie-based sessions").
#[tokio::test]
async fn django_signed_cookie_sessions_survive_logout() {
    if !available("python3") {
        return;
    }
    let app = django::start(
        "django-signed",
        &[(
            "DJANGO_SESSION_ENGINE",
            "django.contrib.sessions.backends.signed_cookies",
        )],
    );
    let (c, base) = (client(), app.url.clone());
    let session = cookie_value(
        &django::sign_in(&c, &base, PASSWORD, None)
            .await
            .expect("signed in"),
    );
    assert!(django::accepted(&c, &base, &session).await, "baseline");
    django::sign_out(&c, &base, &session).await;
    assert!(
        django::accepted(&c, &base, &session).await,
        "a replayed signed cookie outlives logout"
    );
}

#[test]
fn scripts_refuse_bad_usage_at_once() {
    for script in [
        django::SCRIPT,
        node_red::SCRIPT,
        dokuwiki::SCRIPT,
        rails::SCRIPT,
    ] {
        let out = Command::new(root().join(script))
            .arg("start")
            .output()
            .expect("run the script");
        assert_eq!(out.status.code(), Some(2), "{script}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage:"),
            "{script}"
        );
    }
}

mod node_red {
    use super::*;
    use sessiondrill::probe::ws::ws_url;
    use sessiondrill::probe::{JsonSocket, Received};

    pub const SCRIPT: &str = "ci/apps/node-red";
    pub const USER: &str = "admin";

    pub fn start(name: &str, env: &[(&str, &str)]) -> App {
        let mut all = vec![("NODERED_USERNAME", USER), ("NODERED_PASSWORD", PASSWORD)];
        all.extend_from_slice(env);
        App::start(SCRIPT, name, &all)
    }

    /// `POST /auth/token` (the editor's password grant): the answer's status and JSON.
    pub async fn sign_in(
        c: &reqwest::Client,
        base: &str,
        password: &str,
    ) -> (u16, serde_json::Value) {
        let r = c
            .post(format!("{base}auth/token"))
            .form(&[
                ("client_id", "node-red-editor"),
                ("grant_type", "password"),
                ("scope", "*"),
                ("username", USER),
                ("password", password),
            ])
            .send()
            .await
            .expect("POST /auth/token");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    pub async fn token(c: &reqwest::Client, base: &str) -> String {
        let (status, body) = sign_in(c, base, PASSWORD).await;
        assert_eq!(status, 200, "sign-in");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// The editor's websocket (`/comms`) after `{auth: token}`: the socket and the server's
    /// answer, "ok" or "fail" (editor/comms.js `handleAuthPacket`).
    pub async fn comms(base: &str, token: &str) -> (JsonSocket, String) {
        let url = ws_url(&base.parse().expect("url"), "/comms");
        let mut ws = JsonSocket::connect(&url, false, &[])
            .await
            .expect("connect to /comms");
        ws.send(&serde_json::json!({ "auth": token }))
            .await
            .expect("send the auth packet");
        let answer = match next_auth(&mut ws, Duration::from_secs(10)).await {
            Received::Message(m) => m["auth"].as_str().expect("a string").to_string(),
            other => panic!("no auth answer on /comms: {other:?}"),
        };
        (ws, answer)
    }

    /// The next `{auth: …}` message on a comms socket within `within`, or why none came.
    pub async fn next_auth(ws: &mut JsonSocket, within: Duration) -> Received {
        ws.recv_until(within, |m| m.get("auth").is_some(), |_| None)
            .await
    }

    /// Whether the admin API answers this bearer token: 200, or 401 for a refusal.
    pub async fn accepted(c: &reqwest::Client, base: &str, token: &str) -> bool {
        let r = c
            .get(format!("{base}settings"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /settings");
        match r.status().as_u16() {
            200 => true,
            401 => false,
            s => panic!("unexpected status {s} from /settings"),
        }
    }
}

/// Node-RED's adminAuth defaults (docs: "Securing Node-RED", admin API
/// "Authentication"): bearer tokens from a password grant, valid 7 days, revoked at
/// sign-out; a wrong password is `invalid_grant`.
#[tokio::test]
async fn node_red_default_tokens_behave_as_documented() {
    if !available("npm") {
        return;
    }
    let started = Instant::now();
    let app = node_red::start("node-red-default", &[]);
    println!("Node-RED ready in {:.1}s", started.elapsed().as_secs_f64());
    let (c, base) = (client(), app.url.clone());

    let (status, body) = node_red::sign_in(&c, &base, "wrong-password").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");

    let (status, body) = node_red::sign_in(&c, &base, PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 604_800, "sessionExpiryTime, 7 days");
    assert_eq!(body["token_type"], "Bearer");
    let first = body["access_token"].as_str().expect("token").to_string();
    let second = node_red::token(&c, &base).await;
    assert_ne!(first, second, "a new token per sign-in");
    assert!(!node_red::accepted(&c, &base, "not-a-token").await);

    // Sign-out revokes the token it names, and only that one.
    assert!(node_red::accepted(&c, &base, &first).await, "baseline");
    let (open, answer) = node_red::comms(&base, &first).await;
    assert_eq!(answer, "ok", "the editor's websocket takes the token");
    let r = c
        .post(format!("{base}auth/revoke"))
        .bearer_auth(&first)
        .form(&[("token", first.as_str())])
        .send()
        .await
        .expect("POST /auth/revoke");
    assert_eq!(r.status(), 200);
    assert!(!node_red::accepted(&c, &base, &first).await, "revoked");
    let (ws, answer) = node_red::comms(&base, &first).await;
    ws.close().await;
    assert_eq!(answer, "fail", "a new websocket refuses the revoked token");
    // A connection authenticated before the revocation is not ended by it (only expiry
    // ends open connections): nothing arrives on it within a second.
    let mut open = open;
    let after = node_red::next_auth(&mut open, Duration::from_secs(1)).await;
    assert!(
        matches!(after, sessiondrill::probe::Received::TimedOut),
        "{after:?}"
    );
    open.close().await;
    assert!(
        node_red::accepted(&c, &base, &second).await,
        "others live on"
    );

    // No idle timeout: an untouched token still works.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(node_red::accepted(&c, &base, &second).await);
}

/// Hardened: `sessionExpiryTime` is an absolute lifetime, use or no use.
#[tokio::test]
async fn node_red_token_lifetime_follows_its_settings() {
    if !available("npm") {
        return;
    }
    let app = node_red::start("node-red-short", &[("NODERED_SESSION_EXPIRY", "3")]);
    let (c, base) = (client(), app.url.clone());
    let (status, body) = node_red::sign_in(&c, &base, PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 3);
    let token = body["access_token"].as_str().expect("token").to_string();
    let (mut open, answer) = node_red::comms(&base, &token).await;
    assert_eq!(answer, "ok");
    let started = Instant::now();
    let mut refused_at = None;
    while started.elapsed() < Duration::from_secs(8) {
        if !node_red::accepted(&c, &base, &token).await {
            refused_at = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let at = refused_at.expect("refused within 8 s of continuous use");
    assert!(
        at >= Duration::from_secs(2),
        "accepted until near its expiry: {at:?}"
    );
    // Expiry ends open connections too: `{auth: "fail"}`, then the close, once the expiry
    // timer (expiry plus 5 s grace) fires.
    let ended = node_red::next_auth(&mut open, Duration::from_secs(12)).await;
    let ended_at = started.elapsed();
    match ended {
        sessiondrill::probe::Received::Message(m) => assert_eq!(m["auth"], "fail", "{m}"),
        sessiondrill::probe::Received::Closed(_) => {}
        other => panic!("the open connection outlived the session: {other:?}"),
    }
    assert!(ended_at >= Duration::from_secs(2), "{ended_at:?}");
    open.close().await;
}

/// The shipped profiles drive the same apps over raw HTTP: sign-in (Django's form with
/// its CSRF field, Node-RED's password grant), a wrong password refused, the replay
/// accepted, then refused after the profile's sign-out.
mod profiles {
    use super::*;
    use sessiondrill::probe::Http;
    use sessiondrill::profile::{Profile, ProfileClient, SignedIn};
    use sessiondrill::secret::{Masker, Secret};

    fn load(name: &str) -> Profile {
        Profile::load(&root().join("profiles").join(format!("{name}.toml")))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn round_trip(profile: &Profile, base: &str, user: &str) -> Vec<String> {
        let http = Http::new(&base.parse().expect("url"), false, Masker::new()).expect("client");
        let client = ProfileClient {
            profile,
            http: &http,
        };
        let mut evidence = Vec::new();
        match client
            .sign_in(user, &Secret::new("wrong-password"), None)
            .await
            .expect("an answer")
        {
            SignedIn::Refused(e) => evidence.push(format!("wrong password refused: {e}")),
            other => panic!("a wrong password was not refused: {other:?}"),
        }
        let SignedIn::Accepted(cred) = client
            .sign_in(user, &Secret::new(PASSWORD), None)
            .await
            .expect("an answer")
        else {
            panic!("the right password was refused");
        };
        let before = client.accepts(&cred).await.expect("replay");
        assert!(before.accepted, "{}", before.evidence);
        let out = client.sign_out(&cred).await.expect("sign-out");
        evidence.push(format!("signed out: {}", out.expect("a sign-out request")));
        let after = client.accepts(&cred).await.expect("replay");
        assert!(!after.accepted, "{}", after.evidence);
        evidence.push(format!("after sign-out: {}", after.evidence));
        for line in &evidence {
            assert!(
                !line.contains(cred.token.expose()),
                "a whole token in {line}"
            );
        }
        evidence
    }

    #[tokio::test]
    async fn django_profile_signs_in_replays_and_signs_out() {
        if !available("python3") {
            return;
        }
        let app = django::start("django-profile", &[]);
        let profile = load("django");
        let evidence = round_trip(&profile, &app.url, django::USER).await;
        assert!(evidence[0].contains("→ 200"), "{evidence:?}");

        // A password change through the profile ends the account's other sessions.
        let http = Http::new(&app.url.parse().expect("url"), false, Masker::new()).expect("client");
        let client = ProfileClient {
            profile: &profile,
            http: &http,
        };
        let sign_in = || async {
            match client
                .sign_in(django::USER, &Secret::new(PASSWORD), None)
                .await
            {
                Ok(SignedIn::Accepted(c)) => c,
                other => panic!("{other:?}"),
            }
        };
        let (changer, other) = (sign_in().await, sign_in().await);
        assert!(client.accepts(&other).await.expect("replay").accepted);
        client
            .change_password(&changer, &Secret::new(PASSWORD), &Secret::new(NEW_PASSWORD))
            .await
            .expect("password change")
            .expect("the profile has one");
        assert!(!client.accepts(&other).await.expect("replay").accepted);
    }

    /// A profile whose refusal is wrong (Django answers a dead session with a redirect,
    /// not 401) turns the replay after sign-out into trouble, never a verdict.
    #[tokio::test]
    async fn a_wrong_refusal_in_a_profile_is_an_error_not_a_pass() {
        if !available("python3") {
            return;
        }
        let app = django::start("django-wrong-profile", &[]);
        let mut profile = load("django");
        profile.valid.refused.status = vec![401];
        profile.valid.refused.location = None;
        let http = Http::new(&app.url.parse().expect("url"), false, Masker::new()).expect("client");
        let client = ProfileClient {
            profile: &profile,
            http: &http,
        };
        let SignedIn::Accepted(cred) = client
            .sign_in(django::USER, &Secret::new(PASSWORD), None)
            .await
            .expect("an answer")
        else {
            panic!("refused");
        };
        client.sign_out(&cred).await.expect("sign-out");
        let err = client
            .accepts(&cred)
            .await
            .expect_err("not a verdict")
            .to_string();
        assert!(err.contains("unexpected answer to the replay"), "{err}");
        assert!(err.contains("→ 302"), "{err}");
    }

    #[tokio::test]
    async fn node_red_profile_signs_in_replays_and_signs_out() {
        if !available("npm") {
            return;
        }
        let app = node_red::start("node-red-profile", &[]);
        let evidence = round_trip(&load("node-red"), &app.url, node_red::USER).await;
        assert!(evidence[0].contains("→ 403"), "{evidence:?}");
    }
}

/// `init-profile` on each app: the login part it writes signs in without edits (and a
/// wrong password is refused by what it learned), as do the shipped profiles' pages.
mod init_profile {
    use super::*;
    use sessiondrill::apps::UiSignIn;
    use sessiondrill::apps::profiled::login as ui;
    use sessiondrill::browser::Browsers;
    use sessiondrill::profile::schema::LoginPage;
    use sessiondrill::profile::{Profile, init};
    use sessiondrill::secret::Secret;

    async fn signs_in(browsers: &Browsers, base: &str, page: &LoginPage, user: &str) {
        let base: url::Url = base.parse().expect("url");
        for (password, want_in) in [("wrong-password", false), (PASSWORD, true)] {
            let b = browsers.session(false).await.expect("a browser");
            let r = ui::sign_in(&b, &base, page, user, &Secret::new(password)).await;
            b.close().await;
            match (r, want_in) {
                (Ok(UiSignIn::SignedIn), true) | (Ok(UiSignIn::Rejected { .. }), false) => {}
                (other, _) => panic!("{page:?} with {password:?}: {other:?}"),
            }
        }
    }

    async fn try_app(browsers: &Browsers, app: &App, name: &str, login: &str, user: &str) {
        let out = root()
            .join("target/realapps/runs")
            .join(format!("{name}.toml"));
        let _ = std::fs::remove_file(&out);
        let run = Command::new(env!("CARGO_BIN_EXE_sessiondrill"))
            .args([
                "init-profile",
                &format!("{}{login}", app.url),
                "--name",
                name,
            ])
            .arg("--out")
            .arg(&out)
            .env("SESSIONDRILL_INIT_USER", user)
            .env("SESSIONDRILL_INIT_PASSWORD", PASSWORD)
            .output()
            .expect("run init-profile");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!stdout.contains(PASSWORD), "{stdout}");
        let text = std::fs::read_to_string(&out).expect("the written profile");
        assert!(!text.contains(PASSWORD), "{text}");
        let page = init::login_page_of(&text).unwrap_or_else(|e| panic!("{e:#}\n{text}"));
        signs_in(browsers, &app.url, &page, user).await;
        let shipped = Profile::load(
            &root()
                .join("profiles")
                .join(format!("{}.toml", name.trim_end_matches("-init"))),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        signs_in(browsers, &app.url, &shipped.login_page, user).await;
    }

    /// One test, one browser pool: `Browsers::shutdown` ends every browser of the process.
    #[tokio::test]
    async fn on_django_and_node_red() {
        let browsers = Browsers::new(None, 2);
        browsers.allow_host("127.0.0.1");
        if available("python3") {
            let app = django::start("django-init", &[]);
            try_app(&browsers, &app, "django-init", "admin/login/", django::USER).await;
            // The session is the cookie the signed-in page needs, not every cookie that
            // changed at sign-in (Django rotates csrftoken too).
            let text =
                std::fs::read_to_string(root().join("target/realapps/runs/django-init.toml"))
                    .expect("the written profile");
            assert!(text.contains("cookies = [\"sessionid\"]"), "{text}");
            assert!(
                text.contains("not needed by the signed-in page: csrftoken"),
                "{text}"
            );
            django_sign_out_waits(&browsers, &app).await;
        }
        if available("npm") {
            let app = node_red::start("node-red-init", &[]);
            try_app(&browsers, &app, "node-red-init", "", node_red::USER).await;
            node_red_browser_facts(&browsers, &app).await;
        }
        browsers.shutdown();
    }

    /// Signing out through the page waits for the application: a click that leaves the
    /// signed-in page up is trouble after the page wait, and the real Log out control
    /// returns only once the old cookie is already refused.
    async fn django_sign_out_waits(browsers: &Browsers, app: &App) {
        let base: url::Url = app.url.parse().expect("url");
        let profile = Profile::load(&root().join("profiles/django.toml")).expect("profile");
        let page = &profile.login_page;
        let b = browsers.session(false).await.expect("a browser");
        let signed = ui::sign_in(&b, &base, page, django::USER, &Secret::new(PASSWORD))
            .await
            .expect("sign-in");
        assert!(matches!(signed, UiSignIn::SignedIn), "{signed:?}");
        let session = b
            .cookies()
            .await
            .expect("cookies")
            .into_iter()
            .find(|c| c.name == "sessionid")
            .expect("sessionid")
            .value
            .expose()
            .to_string();

        // "Change password" is not a sign-out: the page keeps showing the user tools.
        b.click("#user-tools a[href$='/password_change/']")
            .await
            .expect("click Change password");
        let err = ui::wait_signed_out(&b, page)
            .await
            .expect_err("still signed in");
        assert!(
            format!("{err:#}").contains("still showed a signed-in session"),
            "{err:#}"
        );

        let clicks = &profile.sign_out.as_ref().expect("sign_out").ui;
        for css in clicks {
            b.click(css).await.expect("click Log out");
        }
        ui::wait_signed_out(&b, page).await.expect("signed out");
        b.close().await;
        assert!(
            !django::accepted(&client(), &app.url, &session).await,
            "the session is gone once the signed-out page shows"
        );
    }

    /// Node-RED's editor keeps its bearer token where page script reads it (localStorage
    /// `auth-tokens`), and `/?access_token=` signs a fresh browser in: the facts behind the
    /// token-not-scriptable and token-link findings a Node-RED profile target should get.
    async fn node_red_browser_facts(browsers: &Browsers, app: &App) {
        let base: url::Url = app.url.parse().expect("url");
        let profile = Profile::load(&root().join("profiles/node-red.toml")).expect("profile");
        let b = browsers.session(false).await.expect("a browser");
        let signed = ui::sign_in(
            &b,
            &base,
            &profile.login_page,
            node_red::USER,
            &Secret::new(PASSWORD),
        )
        .await
        .expect("sign-in");
        assert!(matches!(signed, UiSignIn::SignedIn), "{signed:?}");
        let stored = b
            .exec("return window.localStorage.getItem('auth-tokens');", vec![])
            .await
            .expect("page script");
        let stored: serde_json::Value =
            serde_json::from_str(stored.as_str().expect("auth-tokens is set")).expect("JSON");
        let token = stored["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        // The whole grant answer is stored: its lifetime beside the token.
        assert_eq!(stored["expires_in"], 604_800, "{}", stored["token_type"]);
        b.close().await;
        let (c, link_base) = (client(), app.url.clone());
        assert!(
            node_red::accepted(&c, &link_base, &token).await,
            "the stored token is the session"
        );

        let fresh = browsers.session(false).await.expect("a browser");
        let link = base.join(&format!("?access_token={token}")).expect("link");
        fresh.goto(&link).await.expect("open the link");
        let shown = fresh
            .wait_any(
                &["#red-ui-header-button-user", "#node-dialog-login-password"],
                ui::PAGE_WAIT,
            )
            .await
            .expect("the editor or its login dialog");
        fresh.close().await;
        assert_eq!(shown, 0, "the link signed the fresh browser in");
    }
}

/// Bad input to `init-profile` is refused before a browser starts.
#[test]
fn init_profile_refuses_bad_input_at_once() {
    let existing = root().join("Cargo.toml");
    let cases: [(&[&str], &str); 4] = [
        (&["init-profile", "not a url"], "is not an http(s) URL"),
        (&["init-profile", "ftp://host/"], "is not an http(s) URL"),
        (
            &[
                "init-profile",
                "http://127.0.0.1:9/",
                "--out",
                existing.to_str().unwrap_or_default(),
            ],
            "exists",
        ),
        (
            &["init-profile", "http://127.0.0.1:9/", "--name", "Bad Name"],
            "lower-case letters",
        ),
    ];
    for (args, wanted) in cases {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_sessiondrill"))
            .args(args)
            .output()
            .expect("run init-profile");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(5), "{args:?}");
    }
    let half = Command::new(env!("CARGO_BIN_EXE_sessiondrill"))
        .args([
            "init-profile",
            "http://127.0.0.1:9/",
            "--out",
            "/nonexistent/x.toml",
        ])
        .env("SESSIONDRILL_INIT_USER", "admin")
        .env_remove("SESSIONDRILL_INIT_PASSWORD")
        .output()
        .expect("run init-profile");
    assert_eq!(half.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&half.stderr).contains("set both"));
}

/// The whole suite against a profile target, compared with the app's documented
/// behaviour kept in `data/expected/<app>-<configuration>.tsv` (check, verdict, the
/// documentation it rests on), in the default and a hardened or weakened configuration,
/// whose verdicts must flip where the configuration says. Expectations are time-scaled
/// (idle 3 s, lifetime 20 s) so the timed checks run; the 1,000-token collection is left
/// out (minutes of password hashing).
mod suite_on_profiles {
    use super::*;
    use std::collections::BTreeMap;

    /// check id → verdict, from the console's verdict table.
    fn verdicts(stdout: &str, tag: &str) -> BTreeMap<String, String> {
        verdicts::rows(stdout)
            .into_iter()
            .filter(|r| r.app == tag)
            .map(|r| (r.check, r.verdict))
            .collect()
    }

    fn expected(file: &str) -> BTreeMap<String, String> {
        let path = root().join("data/expected").join(file);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                assert!(
                    cols.len() >= 3 && !cols[2].trim().is_empty(),
                    "{file}: check, verdict and reference: {l}"
                );
                (cols[0].to_string(), cols[1].to_string())
            })
            .collect()
    }

    fn run_suite(app: &App, profile: &str, name: &str, user: &str) -> String {
        run_tagged(
            app,
            profile,
            name,
            user,
            &format!("@app-{name} and not @check-token-strength"),
            &[0, 1],
        )
    }

    /// The suite's console output for the scenarios `tags` selects; its exit code must be
    /// one of `exits` (0 all passed, 1 findings, 3 errors).
    fn run_tagged(
        app: &App,
        profile: &str,
        name: &str,
        user: &str,
        tags: &str,
        exits: &[i32],
    ) -> String {
        run_with(app, profile, name, user, tags, exits, &[])
    }

    /// `run_tagged` with more variables for the suite.
    fn run_with(
        app: &App,
        profile: &str,
        name: &str,
        user: &str,
        tags: &str,
        exits: &[i32],
        env: &[(&str, &str)],
    ) -> String {
        let prefix = format!("SESSIONDRILL_APP_{}", name.to_uppercase().replace('-', "_"));
        let out = Command::new(env!("CARGO_BIN_EXE_sessiondrill"))
            .args(["--quiet", "--tags", tags])
            .arg("--profile")
            .arg(root().join("profiles").join(profile))
            .arg("--out")
            .arg(app.dir.join("reports"))
            .env(format!("{prefix}_URL"), &app.url)
            .env(format!("{prefix}_USER"), user)
            .env(format!("{prefix}_PASSWORD"), PASSWORD)
            .env("SESSIONDRILL_IDLE_TIMEOUT", "3s")
            .env("SESSIONDRILL_MAX_LIFETIME", "20s")
            .env("SESSIONDRILL_GRACE", "2s")
            .env("SESSIONDRILL_ALLOW_DESTRUCTIVE", "1")
            // Four browsers on two cores slow the Node-RED editor's sign-in to 20 s, past
            // the 15 s token lifetime of the short-expiry run: logout-ui then can't be judged.
            .env("SESSIONDRILL_MAX_BROWSERS", "2")
            .envs(env.iter().copied())
            .env_remove("SESSIONDRILL_ROCKETCHAT_URL")
            .env_remove("SESSIONDRILL_CHATWOOT_URL")
            .output()
            .expect("run the suite");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.code().is_some_and(|c| exits.contains(&c)),
            "exit {:?}\n{stdout}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stdout.contains(PASSWORD), "{stdout}");
        stdout
    }

    /// A variant configuration runs only the checks its table lists (those its settings
    /// govern); the default configuration's run judges the rest once.
    fn run_table(app: &App, profile: &str, name: &str, user: &str, table: &str) -> String {
        let checks: Vec<String> = expected(table)
            .into_keys()
            .map(|c| format!("@check-{c}"))
            .collect();
        let tags = format!("@app-{name} and ({})", checks.join(" or "));
        run_tagged(app, profile, name, user, &tags, &[0, 1])
    }

    fn compare(stdout: &str, tag: &str, table: &str) {
        let got = verdicts(stdout, tag);
        let want = expected(table);
        let mut diff = Vec::new();
        for (check, v) in &want {
            match got.get(check) {
                Some(g) if g == v => {}
                Some(g) => diff.push(format!("{check}: expected {v}, got {g}")),
                None => diff.push(format!("{check}: expected {v}, not in the run")),
            }
        }
        for (check, g) in &got {
            if !want.contains_key(check) {
                diff.push(format!("{check}: {g}, not in {table}"));
            }
        }
        assert!(diff.is_empty(), "{table}:\n{}\n\n{stdout}", diff.join("\n"));
    }

    fn django_in_three_configurations() {
        if !available("python3") {
            return;
        }
        let configs: [(&str, &[(&str, &str)]); 3] = [
            ("default", &[]),
            (
                "signed-cookies",
                &[(
                    "DJANGO_SESSION_ENGINE",
                    "django.contrib.sessions.backends.signed_cookies",
                )],
            ),
            (
                "idle",
                &[
                    ("DJANGO_SESSION_COOKIE_AGE", "3"),
                    ("DJANGO_SESSION_SAVE_EVERY_REQUEST", "1"),
                ],
            ),
        ];
        for (name, env) in configs {
            let app = django::start(&format!("django-suite-{name}"), env);
            let table = format!("django-{name}.tsv");
            let out = if name == "default" {
                run_suite(&app, "django.toml", "django", django::USER)
            } else {
                run_table(&app, "django.toml", "django", django::USER, &table)
            };
            compare(&out, "app-django", &table);
        }
        // token-strength on Django's real session keys (base36), from the fewest tokens
        // the check takes; MD5 password hashing keeps 320 sign-ins to seconds.
        let app = django::start("django-suite-tokens", &[("DJANGO_PASSWORD_HASHER", "md5")]);
        token_strength(&app, "django.toml", "django", django::USER, "base36");
    }

    /// token-strength from 320 sign-ins (the fewest the check takes), compared with
    /// `<name>-tokens.tsv`; the evidence must name the alphabet the tokens are read in.
    fn token_strength(app: &App, profile: &str, name: &str, user: &str, alphabet: &str) {
        let started = Instant::now();
        let var = format!(
            "SESSIONDRILL_APP_{}_TOKEN_SAMPLES",
            name.to_uppercase().replace('-', "_")
        );
        let out = run_with(
            app,
            profile,
            name,
            user,
            &format!("@app-{name} and @check-token-strength"),
            &[0, 1],
            &[(var.as_str(), "320")],
        );
        println!(
            "{name} token-strength: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        compare(&out, &format!("app-{name}"), &format!("{name}-tokens.tsv"));
        let report = std::fs::read_to_string(app.dir.join("reports/report.md")).expect("report.md");
        assert!(
            report.contains(&format!("tokens in {alphabet} (")),
            "the evidence names the alphabet {alphabet}:\n{report}"
        );
    }

    /// DokuWiki (PHP): a session cookie for every visitor, its CSRF token derived from the
    /// session, an auth cookie re-issued when the password changes. Its expected verdicts
    /// are earned by the live jar (the password change and its proven restore), by asking
    /// the application which cookie is a session (login-wrong-password), and by planting
    /// a value in the application's own alphabet (planted-token).
    fn dokuwiki_in_its_configuration() {
        if !available("php") {
            return;
        }
        let app = dokuwiki::start("dokuwiki-suite-default");
        let out = run_suite(&app, "dokuwiki.toml", "dokuwiki", dokuwiki::USER);
        compare(&out, "app-dokuwiki", "dokuwiki-default.tsv");
        let report = std::fs::read_to_string(app.dir.join("reports/report.md")).expect("report.md");
        assert!(
            report.contains("anonymous (refused"),
            "the visitor's own session cookie is named as anonymous:\n{report}"
        );
        assert!(
            report.contains("proven by a fresh sign-in with the original password"),
            "the password is restored, and the restore proven:\n{report}"
        );
        // PHP's own session ids: 26 characters of 0-9a-v (Debian's php.ini).
        token_strength(
            &app,
            "dokuwiki.toml",
            "dokuwiki",
            dokuwiki::USER,
            "base32hex",
        );
    }

    /// Rails + Devise (Debian's packages): the cookie store holds the CSRF token from the
    /// first page on (an anonymous session before sign-in), Devise's password change
    /// re-issues the cookie, :timeoutable slides with every request. Four configurations:
    /// the default (the suite given the deployment's secret, as a reviewer would), with
    /// :timeoutable, and a publicly known secret in the GCM and in the legacy CBC format.
    fn rails_devise_in_four_configurations() {
        if !available("rails") {
            return;
        }
        let own_secret = "5e".repeat(64);
        let known = "replace_with_lengthy_secure_hex";
        let app = rails::start("rails-suite-default", &[("SECRET_KEY_BASE", &own_secret)]);
        let out = run_with(
            &app,
            "rails-devise.toml",
            "rails-devise",
            rails::USER,
            "@app-rails-devise and not @check-token-strength",
            &[0, 1],
            &[("SESSIONDRILL_APP_RAILS_DEVISE_SECRET_KEY_BASE", &own_secret)],
        );
        compare(&out, "app-rails-devise", "rails-devise-default.tsv");
        let report = std::fs::read_to_string(app.dir.join("reports/report.md")).expect("report.md");
        for (what, says) in [
            (
                "the pre-sign-in cookie is named as anonymous",
                "anonymous (refused",
            ),
            (
                "the re-issued cookie of the password change is followed",
                "re-issued _drill_session",
            ),
            (
                "the password is restored, and the restore proven",
                "proven by a fresh sign-in with the original password",
            ),
        ] {
            assert!(report.contains(says), "{what}:\n{report}");
        }
        drop(app);
        // token-strength on the cookie store: a sealed message, never judged as random bits.
        let app = rails::start("rails-suite-tokens", &[("RAILS_DEVISE_STRETCHES", "1")]);
        let started = Instant::now();
        let out = run_with(
            &app,
            "rails-devise.toml",
            "rails-devise",
            rails::USER,
            "@app-rails-devise and @check-token-strength",
            &[0],
            &[("SESSIONDRILL_APP_RAILS_DEVISE_TOKEN_SAMPLES", "320")],
        );
        println!(
            "rails-devise token-strength: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        compare(&out, "app-rails-devise", "rails-devise-tokens.tsv");
        let report = std::fs::read_to_string(app.dir.join("reports/report.md")).expect("report.md");
        assert!(
            report.contains("Rails encrypted cookies (AES-256-GCM"),
            "the evidence names the sealed format:\n{report}"
        );
        drop(app);
        let app = rails::start("rails-suite-timeoutable", &[("RAILS_TIMEOUT_IN", "3")]);
        let out = run_tagged(
            &app,
            "rails-devise.toml",
            "rails-devise",
            rails::USER,
            "@app-rails-devise and (@check-idle-expiry or @check-idle-activity or @check-lifetime-enforced)",
            &[0, 1],
        );
        compare(&out, "app-rails-devise", "rails-devise-timeoutable.tsv");
        drop(app);
        let secrets = "@app-rails-devise and (@check-secret-key-base or @check-session-renewed)";
        for (name, env) in [
            ("known-secret", vec![("SECRET_KEY_BASE", known)]),
            (
                "legacy-known-secret",
                vec![("SECRET_KEY_BASE", known), ("RAILS_NO_LOAD_DEFAULTS", "1")],
            ),
        ] {
            let app = rails::start(&format!("rails-suite-{name}"), &env);
            let out = run_tagged(
                &app,
                "rails-devise.toml",
                "rails-devise",
                rails::USER,
                secrets,
                &[1],
            );
            compare(
                &out,
                "app-rails-devise",
                &format!("rails-devise-{name}.tsv"),
            );
        }
    }

    /// One test for the apps, one configuration at a time: beside each other on two
    /// cores the time-scaled checks would judge late.
    #[test]
    fn django_node_red_dokuwiki_and_rails_in_their_configurations() {
        dokuwiki_in_its_configuration();
        rails_devise_in_four_configurations();
        django_in_three_configurations();
        if !available("npm") {
            return;
        }
        // Node-RED has no idle timeout; with tokens living 3 s, shorter than the 3 s idle
        // plus 2 s grace, its refusal after the idle wait is the token's own expiry, which
        // it advertised (`expires_in`): no verdict, not an idle-timeout PASS.
        let app = node_red::start(
            "node-red-suite-expiry-3",
            &[("NODERED_SESSION_EXPIRY", "3")],
        );
        let out = run_tagged(
            &app,
            "node-red.toml",
            "node-red",
            node_red::USER,
            "@app-node-red and @check-idle-expiry",
            &[3],
        );
        let got = verdicts(&out, "app-node-red");
        assert_eq!(
            got.get("idle-expiry").map(String::as_str),
            Some("ERROR"),
            "{out}"
        );
        assert!(
            out.contains("after the expiry the application advertised"),
            "{out}"
        );
        drop(app);
        let configs: [(&str, &[(&str, &str)]); 2] = [
            ("default", &[]),
            ("short-expiry", &[("NODERED_SESSION_EXPIRY", "15")]),
        ];
        for (name, env) in configs {
            let app = node_red::start(&format!("node-red-suite-{name}"), env);
            let table = format!("node-red-{name}.tsv");
            let out = if name == "default" {
                run_suite(&app, "node-red.toml", "node-red", node_red::USER)
            } else {
                run_table(&app, "node-red.toml", "node-red", node_red::USER, &table)
            };
            compare(&out, "app-node-red", &table);
            // The realtime steps run through the `node-red-comms` plug-in, not left out.
            assert!(!out.contains("has no realtime channel"), "{out}");
        }
    }
}
