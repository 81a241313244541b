//! Checking a parsed profile before anything is sent: every error names the file, the
//! key and what is expected.

use std::path::Path;

use regex::Regex;

use super::*;

impl Profile {
    pub(super) fn check(&self, file: &Path) -> Result<(), ProfileError> {
        let v = Checker { file };
        v.require(
            valid_name(&self.app.name),
            "app.name",
            "lower-case letters, digits and `-` (it becomes the tag @app-<name>)",
            &self.app.name,
        )?;
        if let Some(id) = &self.app.identify {
            v.path("app.identify.path", &id.path)?;
            v.matcher("app.identify.answer", &id.answer)?;
        }
        v.path("login_page.path", &self.login_page.path)?;
        for (key, css) in [
            ("login_page.user", &self.login_page.user),
            ("login_page.password", &self.login_page.password),
            ("login_page.submit", &self.login_page.submit),
        ] {
            v.require(!css.trim().is_empty(), key, "a CSS selector", css)?;
        }
        let l = &self.login_page;
        v.require(
            l.refused.as_ref().is_some_and(|c| !c.trim().is_empty()) || l.refused_text.is_some(),
            "login_page.refused",
            "the CSS selector of what the page shows for a wrong password (or `refused_text`, a regex over the page's text)",
            "",
        )?;
        if let Some(t) = &l.refused_text {
            v.regex("login_page.refused_text", t)?;
        }
        let si = &self.login_page.signed_in;
        let signals = [si.selector.is_some(), si.url.is_some(), si.form_gone];
        v.require(
            signals.iter().filter(|x| **x).count() == 1,
            "login_page.signed_in",
            "exactly one of `selector` (CSS), `url` (a regex over the path) or `form_gone = true`",
            "",
        )?;
        if let Some(url) = &si.url {
            v.regex("login_page.signed_in.url", url)?;
        }

        let s = &self.sign_in;
        v.method("sign_in.method", &s.method)?;
        v.path("sign_in.path", &s.path)?;
        match (&s.json, s.form.is_empty()) {
            (Some(t), true) => {
                let filled = t.replace("{user}", "u").replace("{password}", "p");
                v.require(
                    t.contains("{user}") && t.contains("{password}"),
                    "sign_in.json",
                    "a JSON template with \"{user}\" and \"{password}\"",
                    t,
                )?;
                v.require(
                    serde_json::from_str::<serde_json::Value>(&filled).is_ok(),
                    "sign_in.json",
                    "valid JSON once {user} and {password} are filled in",
                    t,
                )?;
            }
            (None, false) => {
                let values: Vec<&String> = s.form.values().collect();
                v.require(
                    values.iter().any(|x| x.contains("{user}"))
                        && values.iter().any(|x| x.contains("{password}")),
                    "sign_in.form",
                    "fields whose values include {user} and {password}",
                    "",
                )?;
            }
            _ => {
                return Err(v.invalid(
                    "sign_in",
                    "exactly one of `form` (fields) or `json` (a template)",
                    "",
                ));
            }
        }
        v.csrf("sign_in.csrf", s.csrf.as_ref())?;
        v.matcher("sign_in.success", &s.success)?;
        v.matcher("sign_in.refused", &s.refused)?;
        v.distinct("sign_in", &s.success, &s.refused)?;
        for t in &s.throttled {
            v.matcher("sign_in.throttled", t)?;
        }
        for u in &s.unusable {
            v.matcher("sign_in.unusable.answer", &u.answer)?;
            v.require(
                !u.say.trim().is_empty(),
                "sign_in.unusable.say",
                "advice for the user",
                "",
            )?;
        }
        if let Some(l) = &s.lockout {
            v.require(
                l.after >= 1 && l.seconds >= 1,
                "sign_in.lockout",
                "`after` failed sign-ins (at least 1) and `seconds` the block lasts (at least 1)",
                "",
            )?;
        }
        v.require(
            s.at_once.is_none_or(|n| n >= 1),
            "sign_in.at_once",
            "a number of sign-ins of at least 1",
            "0",
        )?;

        let c = &self.credential;
        v.require(
            !c.cookies.is_empty()
                || !c.storage.is_empty()
                || c.json.is_some()
                || c.header.is_some(),
            "credential",
            "at least one of `cookies`, `storage`, `json` or `header`",
            "",
        )?;
        let ways = [
            c.present.cookie.is_some(),
            c.present.header.is_some(),
            !c.present.headers.is_empty(),
        ];
        v.require(
            ways.iter().filter(|x| **x).count() == 1,
            "credential.present",
            "exactly one of `cookie` (a name), `header` (a template such as \"Authorization: Bearer {token}\") or `headers` (a list of templates)",
            "",
        )?;
        for (name, part) in &c.parts {
            v.require(
                !name.is_empty()
                    && name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')
                    && name != "token",
                &format!("credential.parts.{name}"),
                "a name of lower-case letters and `_`, other than `token`",
                name,
            )?;
            v.require(
                part.json.is_some()
                    || part.header.is_some()
                    || part.beside.is_some()
                    || !part.storage.is_empty()
                    || !part.cookies.is_empty(),
                &format!("credential.parts.{name}"),
                "at least one of `json`, `header`, `storage` or `cookies`",
                "",
            )?;
        }
        if let Some(h) = &c.present.header {
            v.require(
                h.split_once(':').is_some_and(|(n, _)| !n.trim().is_empty())
                    && h.contains("{token}"),
                "credential.present.header",
                "`Name: value` with {token} in the value",
                h,
            )?;
        }
        for h in &c.present.headers {
            v.require(
                h.split_once(':').is_some_and(|(n, _)| !n.trim().is_empty()),
                "credential.present.headers",
                "`Name: value` templates",
                h,
            )?;
            if let Some(unknown) = self.placeholders_known(h) {
                return Err(v.invalid(
                    "credential.present.headers",
                    &format!(
                        "placeholders {{token}} or a part in `credential.parts`, not {{{unknown}}}"
                    ),
                    h,
                ));
            }
        }
        if !c.present.headers.is_empty() {
            v.require(
                c.present.headers.iter().any(|h| h.contains("{token}")),
                "credential.present.headers",
                "one template with {token}",
                "",
            )?;
        }
        if let Some(name) = &c.present.cookie {
            v.require(
                c.cookies.contains(name),
                "credential.present.cookie",
                "one of the names in `credential.cookies`",
                name,
            )?;
        }

        v.method("valid.method", &self.valid.method)?;
        v.path("valid.path", &self.valid.path)?;
        v.matcher("valid.accepted", &self.valid.accepted)?;
        v.matcher("valid.refused", &self.valid.refused)?;
        v.distinct("valid", &self.valid.accepted, &self.valid.refused)?;

        if let Some(out) = &self.sign_out {
            v.require(
                !out.ui.is_empty() || out.request.is_some(),
                "sign_out",
                "`ui` (selectors to click) or `request`, or leave the section out",
                "",
            )?;
            if let Some(r) = &out.request {
                v.token_request("sign_out.request", r)?;
            }
        }
        if let Some(o) = &self.sign_out_others {
            v.token_request("sign_out_others.request", &o.request)?;
        }
        if let Some(d) = &self.deactivation {
            for (key, r) in [
                ("deactivation.deactivate", &d.deactivate),
                ("deactivation.reactivate", &d.reactivate),
            ] {
                for value in r.json.iter().chain(r.form.values()) {
                    if let Some(unknown) = self.placeholders_known(value) {
                        return Err(v.invalid(
                            key,
                            &format!(
                                "placeholders naming a part in `credential.parts` (the test account's), not {{{unknown}}}"
                            ),
                            value,
                        ));
                    }
                }
                let names: Vec<&str> = self.credential.parts.keys().map(String::as_str).collect();
                v.method(&format!("{key}.method"), &r.method)?;
                v.path(&format!("{key}.path"), &r.path)?;
                if let Some(j) = &r.json {
                    v.require(r.form.is_empty(), key, "`form` or `json`, not both", "")?;
                    v.json_template(&format!("{key}.json"), j, &names)?;
                }
                v.csrf(&format!("{key}.csrf"), r.csrf.as_ref())?;
                v.matcher(&format!("{key}.success"), &r.success)?;
            }
        }
        for (i, p) in self.password_change_also.iter().enumerate() {
            let key = format!("password_change_also[{i}]");
            v.require(
                self.password_change.is_some(),
                &key,
                "a `[password_change]` beside it (it restores the password)",
                "",
            )?;
            v.method(&format!("{key}.method"), &p.method)?;
            v.path(&format!("{key}.path"), &p.path)?;
            let body: Vec<&String> = p.json.iter().chain(p.form.values()).collect();
            v.require(
                body.iter().any(|x| x.contains("{new}")),
                &key,
                "a `json` template or `form` values with {new} ({old} is optional)",
                "",
            )?;
            if let Some(j) = &p.json {
                v.require(p.form.is_empty(), &key, "`form` or `json`, not both", "")?;
                v.json_template(&format!("{key}.json"), j, &["old", "new"])?;
            }
            v.csrf(&format!("{key}.csrf"), p.csrf.as_ref())?;
            v.matcher(&format!("{key}.success"), &p.success)?;
        }
        if let Some(p) = &self.password_change {
            v.method("password_change.method", &p.method)?;
            v.path("password_change.path", &p.path)?;
            match &p.json {
                Some(j) => {
                    v.require(
                        p.form.is_empty(),
                        "password_change",
                        "`form` or `json`, not both",
                        "",
                    )?;
                    v.require(
                        j.contains("{old}") && j.contains("{new}"),
                        "password_change.json",
                        "a JSON template with \"{old}\" and \"{new}\"",
                        j,
                    )?;
                    v.json_template("password_change.json", j, &["old", "new"])?;
                }
                None => {
                    let values: Vec<&String> = p.form.values().collect();
                    v.require(
                        values.iter().any(|x| x.contains("{old}"))
                            && values.iter().any(|x| x.contains("{new}")),
                        "password_change.form",
                        "fields whose values include {old} and {new}",
                        "",
                    )?;
                }
            }
            v.csrf("password_change.csrf", p.csrf.as_ref())?;
            v.matcher("password_change.success", &p.success)?;
        }
        if let Some(l) = &self.token_link {
            v.path("token_link.path", &l.path)?;
            v.require(
                l.path.contains("{token}"),
                "token_link.path",
                "a path with {token}",
                &l.path,
            )?;
            if let Some(unknown) = self.placeholders_known(&l.path) {
                return Err(v.invalid(
                    "token_link.path",
                    &format!(
                        "placeholders {{token}} or a part in `credential.parts`, not {{{unknown}}}"
                    ),
                    &l.path,
                ));
            }
        }
        if let Some(r) = &self.plugins.realtime {
            v.one_of("plugins.realtime.plugin", REALTIME_PLUGINS, &r.plugin)?;
            v.path("plugins.realtime.path", &r.path)?;
        }
        if let Some(r) = &self.plugins.realtime {
            v.require(
                r.plugin != "actioncable-room"
                    || r.channel.is_some()
                        && self.credential.user.as_ref().is_some_and(|u| {
                            u.extras.contains_key("pubsub_token")
                                && u.parts.contains_key("account_id")
                                && u.parts.contains_key("user_id")
                        }),
                "plugins.realtime",
                "for actioncable-room: `channel`, and `credential.user` with the extra `pubsub_token` and the parts `account_id` and `user_id`",
                "",
            )?;
        }
        if let Some(s) = &self.plugins.server_session {
            v.one_of(
                "plugins.server_session.plugin",
                SERVER_SESSION_PLUGINS,
                &s.plugin,
            )?;
        }
        if let Some(u) = &self.credential.user {
            v.path("credential.user.request", &u.request)?;
        }
        if let Some(a) = &self.credential.alphabet {
            v.require(
                crate::checks::entropy::Alphabet::parse(a).is_some(),
                "credential.alphabet",
                &format!("one of {}", crate::checks::entropy::Alphabet::names()),
                a,
            )?;
        }
        if let Some(e) = &self.credential.expiry {
            v.require(
                (e.header.is_some() || e.json.is_some() || e.beside.is_some())
                    && !(e.header.is_some() && e.json.is_some()),
                "credential.expiry",
                "`header` or `json` (the sign-in answer), and/or `beside` (a JSON cookie or storage value)",
                "",
            )?;
        }
        for l in &self.long_lived {
            v.require(
                self.credential
                    .user
                    .as_ref()
                    .is_some_and(|u| u.extras.contains_key(&l.extra)),
                "long_lived.extra",
                "the name of an extra in `credential.user.extras`",
                &l.extra,
            )?;
            v.path("long_lived.path", &l.path)?;
            v.require(
                l.header.split_once(':').is_some() && l.header.contains("{value}"),
                "long_lived.header",
                "`Name: value` with {value}",
                &l.header,
            )?;
            v.matcher("long_lived.accepted", &l.accepted)?;
            v.matcher("long_lived.refused", &l.refused)?;
            v.distinct("long_lived", &l.accepted, &l.refused)?;
        }
        if let Some(p) = &self.plugins.password_proof {
            v.one_of("plugins.password_proof", PASSWORD_PROOFS, p)?;
        }
        if let Some(p) = &self.plugins.page {
            v.one_of("plugins.page", PAGE_PLUGINS, p)?;
        }
        for (id, why) in &self.checks.skip {
            v.require(
                !why.trim().is_empty(),
                &format!("checks.skip.{id}"),
                "the reason the check does not apply (reports show it)",
                "",
            )?;
        }
        Ok(())
    }
}

pub(super) struct Checker<'a> {
    pub(super) file: &'a Path,
}

impl Checker<'_> {
    /// A request made inside the session whose body may carry `{token}`.
    fn token_request(&self, key: &str, r: &super::Request) -> Result<(), ProfileError> {
        self.method(&format!("{key}.method"), &r.method)?;
        self.path(&format!("{key}.path"), &r.path)?;
        if let Some(j) = &r.json {
            self.require(r.form.is_empty(), key, "`form` or `json`, not both", "")?;
            self.json_template(&format!("{key}.json"), j, &["token"])?;
        }
        self.csrf(&format!("{key}.csrf"), r.csrf.as_ref())?;
        self.matcher(&format!("{key}.success"), &r.success)
    }

    fn invalid(&self, key: &str, expected: &str, found: &str) -> ProfileError {
        ProfileError::Invalid {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            expected: expected.to_string(),
            found: if found.is_empty() {
                String::new()
            } else {
                format!(", found {found:?}")
            },
        }
    }

    pub(super) fn require(
        &self,
        ok: bool,
        key: &str,
        expected: &str,
        found: &str,
    ) -> Result<(), ProfileError> {
        if ok {
            Ok(())
        } else {
            Err(self.invalid(key, expected, found))
        }
    }

    /// A plug-in name this build knows.
    fn one_of(&self, key: &str, known: &[&str], found: &str) -> Result<(), ProfileError> {
        self.require(
            known.contains(&found),
            key,
            &format!("one of {}", known.join(", ")),
            found,
        )
    }

    fn path(&self, key: &str, path: &str) -> Result<(), ProfileError> {
        self.require(
            path.starts_with('/') && !path.contains(char::is_whitespace),
            key,
            "a path on the target starting with `/`",
            path,
        )
    }

    fn method(&self, key: &str, method: &str) -> Result<(), ProfileError> {
        self.require(
            ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method),
            key,
            "GET, POST, PUT, PATCH or DELETE",
            method,
        )
    }

    /// A JSON template that stays valid JSON once its placeholders are filled in.
    fn json_template(&self, key: &str, t: &str, names: &[&str]) -> Result<(), ProfileError> {
        let filled = names
            .iter()
            .fold(t.to_string(), |t, n| t.replace(&format!("{{{n}}}"), "x"));
        self.require(
            serde_json::from_str::<serde_json::Value>(&filled).is_ok(),
            key,
            &format!(
                "valid JSON once its placeholders are filled in ({})",
                names.join(", ")
            ),
            t,
        )
    }

    fn regex(&self, key: &str, re: &str) -> Result<(), ProfileError> {
        Regex::new(re)
            .map(|_| ())
            .map_err(|e| self.invalid(key, &format!("a regular expression ({e})"), re))
    }

    fn csrf(&self, key: &str, csrf: Option<&Csrf>) -> Result<(), ProfileError> {
        let Some(c) = csrf else { return Ok(()) };
        self.path(&format!("{key}.page"), &c.page)?;
        let sources: Vec<&str> = [
            c.field.as_ref().map(|_| "field"),
            c.meta.as_ref().map(|_| "meta"),
            c.cookie.as_ref().map(|_| "cookie"),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.require(
            sources.len() == 1,
            key,
            "exactly one of `field` (a hidden input), `meta` (a <meta name> tag) or `cookie` (a double-submit cookie)",
            &sources.join(", "),
        )?;
        for (name, value) in [
            ("field", &c.field),
            ("meta", &c.meta),
            ("cookie", &c.cookie),
        ] {
            if let Some(v) = value {
                self.require(!v.trim().is_empty(), &format!("{key}.{name}"), "a name", v)?;
            }
        }
        let header = c.header.as_deref().unwrap_or_default();
        if c.field.is_some() {
            self.require(
                c.header.is_none(),
                &format!("{key}.header"),
                "no header: a hidden input's token goes back as its form field",
                header,
            )
        } else {
            self.require(
                reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_ok(),
                &format!("{key}.header"),
                "the request header the token goes back in (X-CSRF-Token, X-XSRF-TOKEN, X-CSRFToken)",
                header,
            )
        }
    }

    fn matcher(&self, key: &str, m: &Matcher) -> Result<(), ProfileError> {
        let bad = m.status.iter().find(|s| !(100..=599).contains(*s));
        self.require(
            !m.status.is_empty() && bad.is_none(),
            &format!("{key}.status"),
            "a list of HTTP statuses (100 to 599)",
            &bad.map(|s| s.to_string()).unwrap_or_default(),
        )?;
        if let Some(l) = &m.location {
            self.regex(&format!("{key}.location"), l)?;
        }
        if let Some(b) = &m.body {
            self.regex(&format!("{key}.body"), b)?;
        }
        Ok(())
    }

    /// Success and refusal must not describe the same answer, or a refusal could pass for
    /// acceptance.
    fn distinct(&self, key: &str, yes: &Matcher, no: &Matcher) -> Result<(), ProfileError> {
        let shared: Vec<u16> = yes
            .status
            .iter()
            .filter(|s| no.status.contains(s))
            .copied()
            .collect();
        let told_apart = |a: &Matcher, b: &Matcher| {
            (a.location.is_some() || b.location.is_some()) && a.location != b.location
                || (a.body.is_some() || b.body.is_some()) && a.body != b.body
        };
        self.require(
            shared.is_empty() || told_apart(yes, no),
            key,
            "an accepted and a refused answer that differ in status, `location` or `body`",
            &format!("both allow status {shared:?}"),
        )
    }
}
