//! A profile's requests over raw HTTP: sign-in (form with its CSRF field, or JSON),
//! replaying a credential, sign-out and password change. Every answer is judged by the
//! profile's matchers; an answer no matcher describes is trouble, never a verdict.

use std::collections::BTreeMap;

use regex::Regex;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use super::schema::{Csrf, Matcher, Profile};
use crate::apps::Acceptance;
use crate::model::Credential;
use crate::probe::{Http, Reply};
use crate::secret::Secret;

/// How a sign-in without the browser ended.
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
fn hidden_input(html: &str, field: &str) -> Option<String> {
    let name = regex::escape(field);
    let patterns = [
        format!(r#"<input[^>]*name=["']{name}["'][^>]*value=["']([^"']*)["']"#),
        format!(r#"<input[^>]*value=["']([^"']*)["'][^>]*name=["']{name}["']"#),
    ];
    patterns
        .iter()
        .find_map(|p| Regex::new(p).ok()?.captures(html).map(|c| c[1].to_string()))
}

/// A dotted path into JSON (`data.token`).
pub fn json_at<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
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

    /// Reads a page for its CSRF field; the cookies it set come along.
    async fn csrf(
        &self,
        csrf: &Csrf,
        cookies: &mut BTreeMap<String, String>,
        presented: Option<&Credential>,
    ) -> anyhow::Result<String> {
        let mut req = self.http.request(Method::GET, &csrf.page);
        req = self.present(req, presented, cookies);
        let r = self.http.send(req).await?;
        cookies.extend(cookies_set(&r));
        hidden_input(&r.body, &csrf.field).ok_or_else(|| {
            anyhow::anyhow!(
                "the page {} has no hidden input `{}` (the profile's CSRF field): {}",
                csrf.page,
                csrf.field,
                self.masked(&r)
            )
        })
    }

    /// Adds the credential as the profile presents it, and any other cookies.
    fn present(
        &self,
        req: reqwest::RequestBuilder,
        cred: Option<&Credential>,
        cookies: &BTreeMap<String, String>,
    ) -> reqwest::RequestBuilder {
        let mut cookies = cookies.clone();
        let mut req = req;
        if let Some(c) = cred {
            let p = &self.profile.credential.present;
            if let Some(name) = &p.cookie {
                cookies.insert(name.clone(), c.token.expose().to_string());
            }
            if let Some((name, value)) = p.header.as_deref().and_then(|h| h.split_once(':')) {
                req = req.header(
                    name.trim(),
                    value.trim().replace("{token}", c.token.expose()),
                );
            }
        }
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

    /// Signs in with `user` and `password` as the profile's `sign_in` says.
    pub async fn sign_in(&self, user: &str, password: &Secret) -> anyhow::Result<SignedIn> {
        let s = &self.profile.sign_in;
        let mut cookies = BTreeMap::new();
        let token = match &s.csrf {
            Some(c) => Some((c.field.as_str(), self.csrf(c, &mut cookies, None).await?)),
            None => None,
        };
        let mut req = self.http.request(method(&s.method), &s.path);
        req = self.present(req, None, &cookies);
        req = match &s.json {
            Some(template) => {
                let quote = |v: &str| {
                    let q = serde_json::Value::String(v.to_string()).to_string();
                    q[1..q.len() - 1].to_string()
                };
                let body = template
                    .replace("{user}", &quote(user))
                    .replace("{password}", &quote(password.expose()));
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
        if s.throttled.as_ref().is_some_and(|t| t.matches(&r)) {
            return Ok(SignedIn::Throttled(self.masked(&r)));
        }
        let (ok, refused) = (s.success.matches(&r), s.refused.matches(&r));
        match (ok, refused) {
            (true, false) => self.capture(&r).map(SignedIn::Accepted),
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

    /// The credential in a successful sign-in answer, where the profile says it lives.
    fn capture(&self, r: &Reply) -> anyhow::Result<Credential> {
        let c = &self.profile.credential;
        let set = cookies_set(r);
        let found = c
            .present
            .cookie
            .iter()
            .chain(&c.cookies)
            .find_map(|n| set.get(n).map(|v| (v.clone(), format!("cookie {n}"))))
            .or_else(|| {
                let path = c.json.as_ref()?;
                let v = json_at(&r.json()?, path)?.as_str()?.to_string();
                Some((v, format!("sign-in answer {path}")))
            })
            .or_else(|| {
                let name = c.header.as_ref()?;
                Some((
                    r.header(name)?.to_string(),
                    format!("sign-in header {name}"),
                ))
            });
        let Some((value, found_in)) = found.filter(|(v, _)| !v.is_empty()) else {
            anyhow::bail!(
                "signed in, but the answer holds no credential where the profile's `credential` says: {}",
                self.masked(r)
            );
        };
        let token = Secret::new(value);
        self.http.masker.register(&token);
        Ok(Credential::new(token, found_in))
    }

    /// The raw answer to the profile's validity request with `cred` presented.
    pub async fn replay(&self, cred: &Credential) -> anyhow::Result<Reply> {
        let v = &self.profile.valid;
        let req = self.present(
            self.http.request(method(&v.method), &v.path),
            Some(cred),
            &BTreeMap::new(),
        );
        Ok(self.http.send(req).await?)
    }

    /// Replays the credential on the profile's validity request.
    pub async fn accepts(&self, cred: &Credential) -> anyhow::Result<Acceptance> {
        let v = &self.profile.valid;
        let r = self.replay(cred).await?;
        let evidence = self.masked(&r);
        match (v.accepted.matches(&r), v.refused.matches(&r)) {
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

    /// A request made inside the session (sign-out, password change); its masked answer.
    async fn inside(
        &self,
        cred: &Credential,
        what: &str,
        (m, path, form, csrf, success): (
            &str,
            &str,
            &BTreeMap<String, String>,
            Option<&Csrf>,
            &Matcher,
        ),
        fill: &dyn Fn(&str) -> String,
    ) -> anyhow::Result<String> {
        let mut cookies = BTreeMap::new();
        let token = match csrf {
            Some(c) => Some((
                c.field.as_str(),
                self.csrf(c, &mut cookies, Some(cred)).await?,
            )),
            None => None,
        };
        let req = self.present(self.http.request(method(m), path), Some(cred), &cookies);
        let req = self.form_body(req, form, fill, token);
        let r = self.http.send(req).await?;
        if !success.matches(&r) {
            anyhow::bail!("{what} failed: {}", self.masked(&r));
        }
        Ok(self.masked(&r))
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
        let fill = |v: &str| v.replace("{token}", cred.token.expose());
        self.inside(
            cred,
            "sign-out",
            (&r.method, &r.path, &r.form, r.csrf.as_ref(), &r.success),
            &fill,
        )
        .await
        .map(Some)
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
        self.http.masker.register(new);
        let fill = |v: &str| {
            v.replace("{old}", old.expose())
                .replace("{new}", new.expose())
        };
        self.inside(
            cred,
            "password change",
            (&p.method, &p.path, &p.form, p.csrf.as_ref(), &p.success),
            &fill,
        )
        .await
        .map(Some)
    }
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
    fn finds_dotted_json_paths() {
        let v = serde_json::json!({"data": {"token": "t"}});
        assert_eq!(
            json_at(&v, "data.token").and_then(|v| v.as_str()),
            Some("t")
        );
        assert!(json_at(&v, "data.missing").is_none());
    }
}
