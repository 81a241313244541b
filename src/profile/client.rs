//! A profile's requests over raw HTTP: sign-in (form with its CSRF field, or JSON),
//! replaying a credential, sign-out and password change. Every answer is judged by the
//! profile's matchers; an answer no matcher describes is trouble, never a verdict.

use std::collections::BTreeMap;

use regex::Regex;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use super::schema::{Csrf, Matcher, PasswordChange, Profile, Request};
use crate::jar::LiveJar;
use crate::model::{Acceptance, ChangeAttempt, Credential};
use crate::probe::{Http, Reply};
use crate::secret::Secret;

/// How a sign-in without the browser ended.
/// A cookie name without its `__Host-` or `__Secure-` prefix.
pub(crate) fn unprefixed(name: &str) -> &str {
    name.strip_prefix("__Host-")
        .or_else(|| name.strip_prefix("__Secure-"))
        .unwrap_or(name)
}

/// Whether a cookie the application set is the one a profile names: a profile may name
/// it with or without its `__Host-`/`__Secure-` prefix.
pub(crate) fn same_cookie(actual: &str, named: &str) -> bool {
    unprefixed(actual) == unprefixed(named)
}

/// The name the application gave the credential's cookie (`__Host-…` where it prefixes
/// it), from where the credential was found; else the profile's spelling.
fn real_cookie_name(c: &Credential, named: &str) -> String {
    c.found_in
        .iter()
        .filter_map(|p| p.strip_prefix("cookie "))
        .find(|n| same_cookie(n, named))
        .unwrap_or(named)
        .to_string()
}

#[derive(Debug)]
pub enum SignedIn {
    Accepted(Credential),
    /// The profile's refusal; the masked answer.
    Refused(String),
    /// The application blocks sign-ins for now; the masked answer.
    Throttled(String),
}

pub struct ProfileClient<'a> {
    pub profile: &'a Profile,
    pub http: &'a Http,
}

impl Matcher {
    /// Whether `r` is the answer this matcher describes.
    pub fn matches(&self, r: &Reply) -> bool {
        let re_ok = |re: &Option<String>, text: &str| match re {
            Some(re) => Regex::new(re).is_ok_and(|re| re.is_match(text)),
            None => true,
        };
        self.status.contains(&r.status)
            && re_ok(&self.location, r.header("location").unwrap_or_default())
            && re_ok(&self.body, &r.body)
    }
}

/// `name=value` pairs of every `Set-Cookie` in `r`.
fn cookies_set(r: &Reply) -> BTreeMap<String, String> {
    r.set_cookies()
        .iter()
        .filter_map(|c| c.split(';').next()?.trim().split_once('='))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The value of the hidden input named `field` in an HTML page.
/// A CSRF token and how it goes back.
enum CsrfToken {
    /// As this form field.
    Field(String, String),
    /// In this request header.
    Header(String, String),
}

impl CsrfToken {
    fn header(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            CsrfToken::Header(name, value) => req.header(name.as_str(), value.as_str()),
            CsrfToken::Field(..) => req,
        }
    }

    fn field(&self) -> Option<(&str, String)> {
        match self {
            CsrfToken::Field(name, value) => Some((name.as_str(), value.clone())),
            CsrfToken::Header(..) => None,
        }
    }
}

/// The `value` attribute of the `<tag>` whose `name` attribute is `name`, the two
/// attributes in either order.
fn named_value(html: &str, tag: &str, name: &str, value: &str) -> Option<String> {
    let name = regex::escape(name);
    let patterns = [
        format!(r#"<{tag}[^>]*name=["']{name}["'][^>]*{value}=["']([^"']*)["']"#),
        format!(r#"<{tag}[^>]*{value}=["']([^"']*)["'][^>]*name=["']{name}["']"#),
    ];
    patterns
        .iter()
        .find_map(|p| Regex::new(p).ok()?.captures(html).map(|c| c[1].to_string()))
}

/// The `content` of `<meta name="…">`.
fn meta_content(html: &str, name: &str) -> Option<String> {
    named_value(html, "meta", name, "content")
}

fn hidden_input(html: &str, field: &str) -> Option<String> {
    named_value(html, "input", field, "value")
}

/// A dotted path into JSON (`data.token`).
pub fn json_at<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// A string or number as text (a user id may be either).
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `v` as the inside of a JSON string.
fn json_quote(v: &str) -> String {
    let q = serde_json::Value::String(v.to_string()).to_string();
    q[1..q.len() - 1].to_string()
}

/// `template` with `{token}` and the credential's parts filled in; `None` when it names a
/// part the credential lacks.
pub fn fill_parts(template: &str, c: &Credential) -> Option<String> {
    let mut out = template.replace("{token}", c.token.expose());
    let re = Regex::new(r"\{([a-z_]+)\}").ok()?;
    for name in re
        .captures_iter(template)
        .map(|m| m[1].to_string())
        .filter(|n| n != "token")
    {
        let v = c.part(&name)?;
        out = out.replace(&format!("{{{name}}}"), v.expose());
    }
    Some(out)
}

/// A part name as the `&'static str` credentials key parts by; each name is kept once.
pub fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut all = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = all.iter().find(|n| **n == name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    all.push(leaked);
    leaked
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap_or(Method::POST)
}

fn cookie_header(cookies: &BTreeMap<String, String>) -> String {
    cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ProfileClient<'_> {
    fn masked(&self, r: &Reply) -> String {
        r.summary(&self.http.masker)
    }

    /// Reads a page for its CSRF field inside the user's jar: the cookies it sets (Rails
    /// re-issues its session cookie when it stores the token) go into the jar.
    /// The CSRF token, read in the session's jar where the profile says it is.
    async fn csrf(
        &self,
        csrf: &Csrf,
        jar: &LiveJar,
        presented: Option<&Credential>,
    ) -> anyhow::Result<CsrfToken> {
        let r = self.visit(&csrf.page, jar, presented).await?;
        let missing = |what: String| {
            anyhow::anyhow!(
                "the page {} has no {what} (the profile's CSRF token): {}",
                csrf.page,
                self.masked(&r)
            )
        };
        let header = || csrf.header.clone().unwrap_or_default();
        if let Some(field) = &csrf.field {
            let value = hidden_input(&r.body, field)
                .ok_or_else(|| missing(format!("hidden input `{field}`")))?;
            return Ok(CsrfToken::Field(field.clone(), value));
        }
        if let Some(name) = &csrf.meta {
            let value = meta_content(&r.body, name)
                .ok_or_else(|| missing(format!("<meta name=\"{name}\">")))?;
            return Ok(CsrfToken::Header(header(), value));
        }
        let name = csrf.cookie.clone().unwrap_or_default();
        let held = jar
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .map(str::to_string);
        let value = held
            .ok_or_else(|| missing(format!("cookie `{name}` set by it or held in the session")))?;
        // Laravel escapes its XSRF-TOKEN cookie; the header carries the value itself.
        Ok(CsrfToken::Header(
            header(),
            crate::model::percent_decode(&value),
        ))
    }

    /// Loads a page inside the jar (as the user, with `presented` if signed in), taking in
    /// the cookies it sets.
    async fn visit(
        &self,
        page: &str,
        jar: &LiveJar,
        presented: Option<&Credential>,
    ) -> anyhow::Result<Reply> {
        let req = self.present_live(self.http.request(Method::GET, page), presented, jar);
        let r = self.http.send(req).await?;
        self.absorb(jar, &r);
        Ok(r)
    }

    /// Takes an answer's cookies into the jar; the cookies it replaced, for the evidence.
    fn absorb(&self, jar: &LiveJar, r: &Reply) -> Vec<String> {
        let mut j = jar.lock().unwrap_or_else(|e| e.into_inner());
        let done = j.absorb(&r.set_cookies(), chrono::Utc::now());
        // Whatever the application sets may be a session: never shown whole.
        for name in j.pairs().keys() {
            if let Some(v) = j.get(name).filter(|v| v.len() >= 8) {
                self.http.masker.register(&Secret::new(v));
            }
        }
        done.replaced
    }

    /// The header templates filled with the credential's token and parts; a `Cookie`
    /// template only when `cookies` is off (the live jar carries the cookies).
    fn headers(
        &self,
        mut req: reqwest::RequestBuilder,
        c: &Credential,
        cookies: bool,
    ) -> reqwest::RequestBuilder {
        let p = &self.profile.credential.present;
        for template in p.header.iter().chain(&p.headers) {
            if let Some((name, value)) = template.split_once(':')
                && (cookies || !name.trim().eq_ignore_ascii_case("cookie"))
                && let Some(value) = fill_parts(value.trim(), c)
            {
                req = req.header(name.trim(), value);
            }
        }
        req
    }

    /// Starts the jar of a credential found in the browser with the cookies it was found
    /// in: the token's own cookie and every part that lives in a cookie.
    fn seed(&self, j: &mut crate::jar::Jar, c: &Credential) {
        let cc = &self.profile.credential;
        let token_cookie = cc.present.cookie.clone().or_else(|| {
            // Found as a cookie's whole value (not inside a JSON cookie).
            if cc.cookie_json.is_some() {
                return None;
            }
            c.found_in
                .iter()
                .find_map(|p| p.strip_prefix("cookie "))
                .filter(|n| cc.cookies.iter().any(|c| same_cookie(n, c)))
                .map(str::to_string)
        });
        let token_cookie = token_cookie.map(|n| real_cookie_name(c, &n));
        if let Some(name) = token_cookie {
            j.set(&name, c.token.expose(), c.obtained_at);
        }
        for (part, spec) in &cc.parts {
            if let (Some(cookie), Some(v)) = (spec.cookies.first(), c.part(part)) {
                j.set(cookie, v.expose(), c.obtained_at);
            }
        }
    }

    /// A request made as the attacker: the captured credential, frozen, and nothing else.
    fn present_frozen(
        &self,
        req: reqwest::RequestBuilder,
        c: &Credential,
    ) -> reqwest::RequestBuilder {
        let mut req = self.headers(req, c, true);
        if let Some(name) = &self.profile.credential.present.cookie {
            let name = real_cookie_name(c, name);
            req = req.header(COOKIE, format!("{name}={}", c.token.expose()));
        }
        req
    }

    /// A request made as the user: every cookie of the user's live jar (the session cookie
    /// as the application last set it), and the header templates.
    fn present_live(
        &self,
        req: reqwest::RequestBuilder,
        cred: Option<&Credential>,
        jar: &LiveJar,
    ) -> reqwest::RequestBuilder {
        let mut req = req;
        if let Some(c) = cred {
            let live = {
                let mut j = jar.lock().unwrap_or_else(|e| e.into_inner());
                if j.is_empty() {
                    self.seed(&mut j, c);
                }
                !j.is_empty()
            };
            req = self.headers(req, c, !live);
        }
        let cookies = jar.lock().unwrap_or_else(|e| e.into_inner()).pairs();
        if !cookies.is_empty() {
            req = req.header(COOKIE, cookie_header(&cookies));
        }
        req
    }

    /// A form or JSON body from a template, placeholders filled in.
    fn form_body(
        &self,
        req: reqwest::RequestBuilder,
        fields: &BTreeMap<String, String>,
        fill: &dyn Fn(&str) -> String,
        csrf: Option<(&str, String)>,
    ) -> reqwest::RequestBuilder {
        let mut form: Vec<(String, String)> =
            fields.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
        if let Some((field, value)) = csrf {
            form.push((field.to_string(), value));
        }
        req.form(&form)
    }

    /// Whether the URL serves the application: the profile's `app.identify` request, or
    /// else its login page answering below 400. The masked answer either way.
    pub async fn identify(&self) -> anyhow::Result<Result<String, String>> {
        let (path, answer) = match &self.profile.app.identify {
            Some(id) => (id.path.as_str(), Some(&id.answer)),
            None => (self.profile.login_page.path.as_str(), None),
        };
        let r = self.http.send(self.http.request(Method::GET, path)).await?;
        let ok = match answer {
            Some(m) => m.matches(&r),
            None => r.status < 400,
        };
        let shown = format!("GET {path} → {}", self.masked(&r));
        Ok(if ok { Ok(shown) } else { Err(shown) })
    }

    /// Signs in with `user` and `password` as the profile's `sign_in` says; `address`,
    /// when given, is claimed as the client's (`X-Forwarded-For`, `X-Real-IP`).
    pub async fn sign_in(
        &self,
        user: &str,
        password: &Secret,
        address: Option<&str>,
    ) -> anyhow::Result<SignedIn> {
        let s = &self.profile.sign_in;
        let jar = crate::jar::new_live();
        let token = match &s.csrf {
            Some(c) => Some(self.csrf(c, &jar, None).await?),
            None => {
                // As a browser signs in: from the login page, so the sign-in carries what
                // the application issued there (a session id before sign-in).
                self.visit(&self.profile.login_page.path, &jar, None)
                    .await?;
                None
            }
        };
        let mut req = self.http.request(method(&s.method), &s.path);
        req = self.present_live(req, None, &jar);
        if let Some(t) = &token {
            req = t.header(req);
        }
        let token = token.as_ref().and_then(CsrfToken::field);
        if let Some(a) = address {
            req = req.header("X-Forwarded-For", a).header("X-Real-IP", a);
        }
        req = match &s.json {
            Some(template) => {
                let body = template
                    .replace("{user}", &json_quote(user))
                    .replace("{password}", &json_quote(password.expose()));
                req.header(CONTENT_TYPE, "application/json").body(body)
            }
            None => {
                let fill = |v: &str| {
                    v.replace("{user}", user)
                        .replace("{password}", password.expose())
                };
                self.form_body(req, &s.form, &fill, token)
            }
        };
        let r = self.http.send(req).await?;
        self.absorb(&jar, &r);
        if let Some(u) = s.unusable.iter().find(|u| u.answer.matches(&r)) {
            anyhow::bail!("{}: {}", u.say, self.masked(&r));
        }
        if s.throttled.iter().any(|t| t.matches(&r)) {
            return Ok(SignedIn::Throttled(self.masked(&r)));
        }
        let (ok, refused) = (s.success.matches(&r), s.refused.matches(&r));
        match (ok, refused) {
            (true, false) => self.capture(&r, jar).map(|mut c| {
                c.answered_at = r
                    .headers
                    .get(reqwest::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
                    .map(|d| d.with_timezone(&chrono::Utc));
                SignedIn::Accepted(c)
            }),
            (false, true) => Ok(SignedIn::Refused(self.masked(&r))),
            (true, true) => anyhow::bail!(
                "the answer to the sign-in matches both `sign_in.success` and `sign_in.refused`; make them differ: {}",
                self.masked(&r)
            ),
            (false, false) => anyhow::bail!(
                "unexpected answer to the sign-in, neither the profile's success nor its refusal: {}",
                self.masked(&r)
            ),
        }
    }

    /// The credential in a successful sign-in answer, where the profile says it lives; a
    /// cookie the answer did not set anew comes from the jar (a session id issued
    /// before the sign-in and kept through it).
    fn capture(&self, r: &Reply, jar: LiveJar) -> anyhow::Result<Credential> {
        let c = &self.profile.credential;
        let mut set = cookies_set(r);
        for (n, v) in jar.lock().unwrap_or_else(|e| e.into_inner()).pairs() {
            set.entry(n).or_insert(v);
        }
        // The answer's named field or header first; a cookie it sets last (an application
        // may set its session cookies beside a token it hands out in the body).
        let from_cookie = |n: &String| {
            let (n, raw) = set.iter().find(|(k, _)| same_cookie(k, n))?;
            match &c.cookie_json {
                Some(path) => {
                    let decoded = crate::model::percent_decode(raw);
                    let j: serde_json::Value = serde_json::from_str(&decoded).ok()?;
                    Some((
                        json_at(&j, path)?.as_str()?.to_string(),
                        format!("cookie {n}"),
                    ))
                }
                None => Some((raw.clone(), format!("cookie {n}"))),
            }
        };
        let found = c
            .json
            .as_ref()
            .and_then(|path| {
                let v = json_at(&r.json()?, path)?.as_str()?.to_string();
                Some((v, format!("sign-in response {path}")))
            })
            .or_else(|| {
                let name = c.header.as_ref()?;
                Some((
                    r.header(name)?.to_string(),
                    format!("sign-in response header {name}"),
                ))
            })
            .or_else(|| {
                c.present
                    .cookie
                    .iter()
                    .chain(&c.cookies)
                    .find_map(from_cookie)
            });
        let Some((value, found_in)) = found.filter(|(v, _)| !v.is_empty()) else {
            anyhow::bail!(
                "signed in, but the answer holds no credential where the profile's `credential` says: {}",
                self.masked(r)
            );
        };
        let token = Secret::new(value);
        self.http.masker.register(&token);
        let mut cred = Credential::new(token, found_in);
        cred.jar = jar;
        let body = r.json();
        for (name, part) in &c.parts {
            let value = part
                .json
                .as_ref()
                .and_then(|p| body.as_ref().and_then(|b| json_at(b, p)).and_then(scalar))
                .or_else(|| {
                    part.header
                        .as_ref()
                        .and_then(|h| r.header(h))
                        .map(str::to_string)
                })
                .or_else(|| part.cookies.iter().find_map(|n| set.get(n).cloned()));
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                cred.parts.insert(intern(name), Secret::new(v));
            }
        }
        if let Some(e) = &c.expiry {
            let raw = match (&e.header, &e.json) {
                (Some(h), _) => r.header(h).map(str::to_string),
                (_, Some(p)) => body.as_ref().and_then(|b| json_at(b, p)).and_then(scalar),
                _ => None,
            };
            let seen = cred.obtained_at;
            e.record(raw, &mut cred, seen);
        }
        if cred.expires_at.is_none() && cred.expiry_unread.is_none() {
            cred.expires_at = crate::model::jwt_expiry(cred.token.expose());
        }
        if let (Some(u), Some(b)) = (&c.user, &body)
            && let Some(user) = json_at(b, &u.sign_in)
        {
            cred = self.absorb_user(cred, user);
        }
        Ok(cred)
    }

    /// Puts the user object's parts and extras into `cred`.
    fn absorb_user(&self, mut cred: Credential, user: &serde_json::Value) -> Credential {
        let Some(u) = &self.profile.credential.user else {
            return cred;
        };
        for (name, field) in &u.parts {
            if let Some(v) = json_at(user, field).and_then(scalar) {
                cred.parts.insert(intern(name), Secret::new(v));
            }
        }
        for (name, field) in &u.extras {
            if let Some(v) = json_at(user, field).and_then(scalar) {
                let v = Secret::new(v);
                self.http.masker.register(&v);
                cred.extras.insert(intern(name), v);
            }
        }
        cred
    }

    /// Adds the user object's parts and extras to a session found in the browser, read
    /// with `credential.user.request`; unchanged when the profile has none or it fails.
    pub async fn enrich(&self, cred: Credential) -> anyhow::Result<Credential> {
        let Some(u) = &self.profile.credential.user else {
            return Ok(cred);
        };
        let req = self.present_live(
            self.http.request(Method::GET, &u.request),
            Some(&cred),
            &cred.jar,
        );
        let r = self.http.send(req).await?;
        self.absorb(&cred.jar, &r);
        if r.status != 200 {
            return Ok(cred);
        }
        Ok(self.absorb_user(cred, &r.json().unwrap_or_default()))
    }

    /// Replays each long-lived secret the session carries, judged by its matchers.
    pub async fn long_lived(&self, cred: &Credential) -> anyhow::Result<Vec<(String, Acceptance)>> {
        let mut out = Vec::new();
        for l in &self.profile.long_lived {
            let Some(value) = cred.extras.get(l.extra.as_str()) else {
                continue;
            };
            let mut req = self.http.request(Method::GET, &l.path);
            if let Some((name, v)) = l.header.split_once(':') {
                req = req.header(name.trim(), v.trim().replace("{value}", value.expose()));
            }
            let r = self.http.send(req).await?;
            let evidence = self.masked(&r);
            let accepted = match (l.accepted.matches(&r), l.refused.matches(&r)) {
                (true, false) => true,
                (false, true) => false,
                _ => anyhow::bail!(
                    "unexpected answer to the replay of {} on {}, not the application's acceptance or refusal: {evidence}",
                    l.extra,
                    l.path
                ),
            };
            out.push((
                format!("{} {value}", l.extra),
                Acceptance { accepted, evidence },
            ));
        }
        Ok(out)
    }

    /// The raw answer to the profile's validity request with `cred` presented as
    /// captured (a replay made as an attacker).
    pub async fn replay(&self, cred: &Credential) -> anyhow::Result<Reply> {
        let v = &self.profile.valid;
        let req = self.present_frozen(self.http.request(method(&v.method), &v.path), cred);
        Ok(self.http.send(req).await?)
    }

    /// Replays the credential, frozen, on the profile's validity request.
    pub async fn accepts(&self, cred: &Credential) -> anyhow::Result<Acceptance> {
        let r = self.replay(cred).await?;
        self.judge_valid(&r, String::new())
    }

    /// Uses the session on the profile's validity request as the user does: through the
    /// live jar, taking in what the application sets (a sliding session re-issues its
    /// cookie on use).
    pub async fn uses(&self, cred: &Credential) -> anyhow::Result<Acceptance> {
        let v = &self.profile.valid;
        let req = self.present_live(
            self.http.request(method(&v.method), &v.path),
            Some(cred),
            &cred.jar,
        );
        let r = self.http.send(req).await?;
        let replaced = self.absorb(&cred.jar, &r);
        let note = if replaced.is_empty() {
            String::new()
        } else {
            format!(
                "; re-issued {} at {}",
                replaced.join(", "),
                cred.since_capture(chrono::Utc::now())
            )
        };
        self.judge_valid(&r, note)
    }

    fn judge_valid(&self, r: &Reply, note: String) -> anyhow::Result<Acceptance> {
        let v = &self.profile.valid;
        let evidence = format!("{}{note}", self.masked(r));
        match (v.accepted.matches(r), v.refused.matches(r)) {
            (true, false) => Ok(Acceptance {
                accepted: true,
                evidence,
            }),
            (false, true) => Ok(Acceptance {
                accepted: false,
                evidence,
            }),
            (true, true) => anyhow::bail!(
                "the replay's answer matches both `valid.accepted` and `valid.refused`: {evidence}"
            ),
            (false, false) => anyhow::bail!(
                "unexpected answer to the replay, not the application's acceptance or refusal: {evidence}"
            ),
        }
    }

    /// A request made inside the session as the user (sign-out, password change): the CSRF
    /// read and the request itself go through the session's live jar. Whether the answer
    /// is the request's `success`, and the masked answer.
    async fn answer_inside(
        &self,
        cred: &Credential,
        request: &Request,
        fill: &dyn Fn(&str) -> String,
    ) -> anyhow::Result<(bool, String)> {
        let jar = &cred.jar;
        let token = match &request.csrf {
            Some(c) => Some(self.csrf(c, jar, Some(cred)).await?),
            None => None,
        };
        let mut req = self.present_live(
            self.http.request(method(&request.method), &request.path),
            Some(cred),
            jar,
        );
        if let Some(t) = &token {
            req = t.header(req);
        }
        let token = token.as_ref().and_then(CsrfToken::field);
        let req = match &request.json {
            Some(template) => req
                .header(CONTENT_TYPE, "application/json")
                .body(fill(template)),
            None if request.form.is_empty() && token.is_none() => req,
            None => self.form_body(req, &request.form, fill, token),
        };
        let r = self.http.send(req).await?;
        self.absorb(jar, &r);
        Ok((request.success.matches(&r), self.masked(&r)))
    }

    /// [`Self::answer_inside`], failing unless the answer is the request's `success`.
    async fn inside(
        &self,
        cred: &Credential,
        what: &str,
        request: &Request,
        fill: &dyn Fn(&str) -> String,
    ) -> anyhow::Result<String> {
        match self.answer_inside(cred, request, fill).await? {
            (true, answer) => Ok(answer),
            (false, answer) => anyhow::bail!("{what} failed: {answer}"),
        }
    }

    /// Signs out without the browser, if the profile has a sign-out request.
    pub async fn sign_out(&self, cred: &Credential) -> anyhow::Result<Option<String>> {
        let Some(r) = self
            .profile
            .sign_out
            .as_ref()
            .and_then(|s| s.request.as_ref())
        else {
            return Ok(None);
        };
        let fill = |v: &str| fill_token(v, cred, r.json.is_some());
        self.inside(cred, "sign-out", r, &fill).await.map(Some)
    }

    /// Signs out every other session of the account, if the profile can.
    pub async fn sign_out_others(&self, cred: &Credential) -> anyhow::Result<Option<String>> {
        let Some(o) = &self.profile.sign_out_others else {
            return Ok(None);
        };
        let r = &o.request;
        let fill = |v: &str| fill_token(v, cred, r.json.is_some());
        self.inside(cred, "sign-out of the other sessions", r, &fill)
            .await
            .map(Some)
    }

    /// Deactivates (`active` false) or reactivates the test account whose session is
    /// `user`, as the administrator whose session is `admin`; `None` without `[deactivation]`.
    pub async fn set_active(
        &self,
        admin: &Credential,
        user: &Credential,
        active: bool,
    ) -> anyhow::Result<Option<String>> {
        let Some(d) = &self.profile.deactivation else {
            return Ok(None);
        };
        let (r, what) = if active {
            (&d.reactivate, "reactivation")
        } else {
            (&d.deactivate, "deactivation")
        };
        // The test account's token never goes into an administrator's request.
        let fill = |v: &str| fill_parts(&v.replace("{token}", ""), user);
        if let Some(v) = r
            .json
            .iter()
            .chain(r.form.values())
            .find(|v| fill(v).is_none())
        {
            anyhow::bail!("the test account's session lacks a part that `{v}` names");
        }
        let fill = |v: &str| fill(v).unwrap_or_default();
        self.inside(admin, what, r, &fill).await.map(Some)
    }

    /// Changes the password inside the session, if the profile can.
    pub async fn change_password(
        &self,
        cred: &Credential,
        old: &Secret,
        new: &Secret,
    ) -> anyhow::Result<Option<String>> {
        let Some(p) = &self.profile.password_change else {
            return Ok(None);
        };
        let fill = self.password_fill(p, old, new);
        self.inside(cred, "password change", p, &fill)
            .await
            .map(Some)
    }

    /// Sends every request the profile knows that changes the password (`[password_change]`,
    /// then `[[password_change_also]]`) with `wrong` as the current password (or none, where
    /// a request carries none), until one is accepted; `None` without a password change.
    pub async fn change_password_wrongly(
        &self,
        cred: &Credential,
        wrong: &Secret,
        new: &Secret,
    ) -> anyhow::Result<Option<Vec<ChangeAttempt>>> {
        let Some(main) = &self.profile.password_change else {
            return Ok(None);
        };
        let mut attempts = Vec::new();
        for p in std::iter::once(main).chain(&self.profile.password_change_also) {
            let fill = self.password_fill(p, wrong, new);
            let carried_current = p
                .json
                .iter()
                .chain(p.form.values())
                .any(|v| v.contains("{old}"));
            let (accepted, evidence) = self.answer_inside(cred, p, &fill).await?;
            attempts.push(ChangeAttempt {
                request: format!("{} {}", p.method.to_uppercase(), p.path),
                carried_current,
                accepted,
                evidence,
            });
            if accepted {
                break;
            }
        }
        Ok(Some(attempts))
    }

    /// Fills a password change's `{old}` (through the profile's password proof) and `{new}`.
    fn password_fill<'a>(
        &self,
        p: &PasswordChange,
        old: &Secret,
        new: &'a Secret,
    ) -> impl Fn(&str) -> String + 'a {
        self.http.masker.register(new);
        let old = super::proof::password_proof(self.profile.plugins.password_proof.as_deref(), old);
        self.http.masker.register(&old);
        let as_json = p.json.is_some();
        let q = move |v: &Secret| {
            if as_json {
                json_quote(v.expose())
            } else {
                v.expose().to_string()
            }
        };
        move |v: &str| v.replace("{old}", &q(&old)).replace("{new}", &q(new))
    }
}

/// `v` with `{token}` filled in, quoted for a JSON template.
fn fill_token(v: &str, cred: &Credential, as_json: bool) -> String {
    let token = cred.token.expose();
    v.replace(
        "{token}",
        &if as_json {
            json_quote(token)
        } else {
            token.to_string()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hidden_inputs_in_either_attribute_order() {
        let a = r#"<input type="hidden" name="csrfmiddlewaretoken" value="abc">"#;
        let b = r#"<input value='xyz' type=hidden name='authenticity_token'>"#;
        assert_eq!(
            hidden_input(a, "csrfmiddlewaretoken").as_deref(),
            Some("abc")
        );
        assert_eq!(
            hidden_input(b, "authenticity_token").as_deref(),
            Some("xyz")
        );
        assert_eq!(hidden_input(a, "other"), None);
    }

    #[test]
    fn reads_meta_tags_in_either_attribute_order() {
        let rails = r#"<meta name="csrf-param" content="authenticity_token" />
<meta name="csrf-token" content="Sv_Rk3FN1j0B" />"#;
        assert_eq!(
            meta_content(rails, "csrf-token").as_deref(),
            Some("Sv_Rk3FN1j0B")
        );
        let swapped = r#"<meta content='t0k' name='csrf-token'>"#;
        assert_eq!(meta_content(swapped, "csrf-token").as_deref(), Some("t0k"));
        assert_eq!(meta_content(rails, "csrf"), None);
    }

    #[test]
    fn finds_dotted_json_paths() {
        let v = serde_json::json!({"data": {"token": "t"}});
        assert_eq!(
            json_at(&v, "data.token").and_then(|v| v.as_str()),
            Some("t")
        );
        assert!(json_at(&v, "data.missing").is_none());
    }

    #[test]
    fn a_profile_names_a_prefixed_cookie_either_way() {
        assert!(same_cookie("__Host-_app_session", "_app_session"));
        assert!(same_cookie("__Host-_app_session", "__Host-_app_session"));
        assert!(same_cookie("_app_session", "__Secure-_app_session"));
        assert!(!same_cookie("__Host-_app_session", "_other"));
        // A frozen replay sends the name the application set, prefix and all.
        let c = Credential::new(Secret::new("v"), "cookie __Host-_app_session");
        assert_eq!(real_cookie_name(&c, "_app_session"), "__Host-_app_session");
        let c = Credential::new(Secret::new("v"), "sign-in response token");
        assert_eq!(real_cookie_name(&c, "_app_session"), "_app_session");
    }
}
