//! Cookie and browser-storage rules for session tokens (ASVS 4.0.3 V3.2.3, V3.4;
//! ASVS 5.0 V3.3; WSTG-SESS-02).
//!
//! Which cookies are session-bearing is decided from the captured token: any
//! cookie whose value holds it, plus the cookies the application adapter names
//! (a token may live in a cookie the page never exposes to script).

use crate::model::{BrowserCookie, Observation, SameSite};

use super::Verdict;

/// The cookies that carry the session: those holding `token`, or named by `is_session_name`.
pub fn session_cookies<'a>(
    obs: &'a Observation,
    token: Option<&str>,
    is_session_name: &dyn Fn(&str) -> bool,
) -> Vec<&'a BrowserCookie> {
    obs.cookies
        .iter()
        .filter(|c| {
            is_session_name(&c.name)
                || token
                    .is_some_and(|t| crate::model::contains_possibly_encoded(c.value.expose(), t))
        })
        .collect()
}

fn start(cookies: &[&BrowserCookie]) -> Verdict {
    let mut v = Verdict::default();
    if cookies.is_empty() {
        v.nothing_to_judge(
            "no session cookie in the browser after sign-in: no cookie with a known session name, and none holding the session token",
        );
    }
    for c in cookies {
        v.note(c.describe());
    }
    v
}

/// ASVS 3.4.1 / 5.0 3.3.1: every session cookie has `Secure`.
pub fn secure(cookies: &[&BrowserCookie]) -> Verdict {
    let mut v = start(cookies);
    for c in cookies.iter().filter(|c| !c.secure) {
        v.violate(
            "ASVS 3.4.1",
            &c.name,
            "no Secure attribute: it is sent over plain HTTP",
        );
    }
    v
}

/// ASVS 3.4.2 / 5.0 3.3.4: every session cookie has `HttpOnly`.
pub fn http_only(cookies: &[&BrowserCookie]) -> Verdict {
    let mut v = start(cookies);
    for c in cookies.iter().filter(|c| !c.http_only) {
        v.violate(
            "ASVS 3.4.2",
            &c.name,
            "no HttpOnly attribute: page script can read it",
        );
    }
    v
}

/// ASVS 3.4.3 / 5.0 3.3.2: every session cookie sets SameSite explicitly to Lax or Strict.
pub fn same_site(cookies: &[&BrowserCookie]) -> Verdict {
    let mut v = start(cookies);
    for c in cookies {
        match c.same_site {
            Some(SameSite::Lax | SameSite::Strict) => {}
            Some(SameSite::None) => {
                v.violate("ASVS 3.4.3", &c.name, "SameSite=None: sent on cross-site requests")
            }
            None => v.violate(
                "ASVS 3.4.3",
                &c.name,
                "no SameSite attribute: the browser's default decides, and differs between browsers",
            ),
        }
    }
    v
}

/// ASVS 3.4.5 / 5.0 3.3.3: host-only (no Domain attribute) and a Path within the application's.
pub fn scope(cookies: &[&BrowserCookie], host: &str, app_path: &str) -> Verdict {
    let mut v = start(cookies);
    let app_path = normalise_path(app_path);
    for c in cookies {
        if !c.host_only() {
            let domain = c.domain.trim_start_matches('.');
            let detail = if domain.eq_ignore_ascii_case(host) {
                format!(
                    "Domain={domain} is set: the cookie is also sent to every subdomain of {host}"
                )
            } else {
                format!(
                    "Domain={domain} is broader than the host {host}: every host under it receives the cookie"
                )
            };
            v.violate("ASVS 3.4.5", &c.name, detail);
        }
        let path = normalise_path(&c.path);
        if !path.starts_with(&app_path) {
            v.violate(
                "ASVS 3.4.5",
                &c.name,
                format!(
                    "Path={} is broader than the application's path {app_path}",
                    c.path
                ),
            );
        }
    }
    v
}

fn normalise_path(p: &str) -> String {
    let p = if p.is_empty() { "/" } else { p };
    if p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    }
}

/// ASVS 3.4.4 / 5.0 3.3.1: session cookies use the `__Host-` prefix, which the browser
/// only accepts with Secure, Path=/ and no Domain.
pub fn host_prefix(cookies: &[&BrowserCookie]) -> Verdict {
    let mut v = start(cookies);
    for c in cookies {
        if !c.name.starts_with("__Host-") {
            v.violate(
                "ASVS 3.4.4",
                &c.name,
                "no __Host- prefix: nothing stops a sibling subdomain or plain-HTTP page from overwriting it",
            );
        } else if !(c.secure && c.path == "/" && c.host_only()) {
            v.violate(
                "ASVS 3.4.4",
                &c.name,
                "__Host- prefix without Secure, Path=/ and host-only scope",
            );
        }
    }
    v
}

/// ASVS 3.2.3 / 5.0 3.3.4: page script cannot read the session token: not through
/// `document.cookie`, not in localStorage or sessionStorage.
pub fn script_exposure(obs: &Observation, token: &str) -> Verdict {
    let mut v = Verdict::default();
    if crate::model::contains_possibly_encoded(obs.script_cookies.expose(), token) {
        let names: Vec<&str> = obs
            .cookies
            .iter()
            .filter(|c| {
                !c.http_only && crate::model::contains_possibly_encoded(c.value.expose(), token)
            })
            .map(|c| c.name.as_str())
            .collect();
        v.violate(
            "ASVS 3.4.2",
            format!("document.cookie ({})", names.join(", ")),
            "the session token is readable by page script through a cookie without HttpOnly",
        );
    }
    for (area, store) in [
        ("localStorage", &obs.local_storage),
        ("sessionStorage", &obs.session_storage),
    ] {
        for (key, value) in store {
            if crate::model::contains_possibly_encoded(value.expose(), token) {
                v.violate(
                    "ASVS 3.2.3",
                    format!("{area} {key}"),
                    "the session token is stored where any script on the origin can read it",
                );
            }
        }
    }
    v.note(format!(
        "page script sees: document.cookie with {} bytes; {}",
        obs.script_cookies.expose().len(),
        obs.summary()
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn no_session_cookie_is_nothing_to_judge_not_a_pass() {
        for rule in [secure, http_only, same_site, host_prefix] {
            let v = rule(&[]);
            assert!(v.nothing_judged, "an empty jar must not pass");
            assert!(v.evidence.iter().any(|e| e.contains("no session cookie")));
        }
        assert!(scope(&[], "a.test", "/").nothing_judged);
    }

    fn cookie(name: &str) -> BrowserCookie {
        BrowserCookie {
            name: name.into(),
            value: Secret::new("tok-1234567890"),
            domain: "chat.test".into(),
            path: "/".into(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Strict),
            expires: None,
        }
    }

    #[test]
    fn a_hardened_cookie_passes_every_rule() {
        let c = cookie("__Host-sid");
        let cs = vec![&c];
        assert!(secure(&cs).holds());
        assert!(http_only(&cs).holds());
        assert!(same_site(&cs).holds());
        assert!(scope(&cs, "chat.test", "/").holds());
        assert!(host_prefix(&cs).holds());
    }

    #[test]
    fn each_missing_attribute_is_named() {
        let mut c = cookie("rc_token");
        c.secure = false;
        c.http_only = false;
        c.same_site = None;
        let cs = vec![&c];
        assert!(secure(&cs).failure_message().contains("no Secure"));
        assert!(http_only(&cs).failure_message().contains("no HttpOnly"));
        assert!(same_site(&cs).failure_message().contains("no SameSite"));
        assert!(
            host_prefix(&cs)
                .failure_message()
                .contains("no __Host- prefix")
        );
    }

    #[test]
    fn same_site_none_is_a_violation() {
        let mut c = cookie("s");
        c.same_site = Some(SameSite::None);
        assert!(same_site(&[&c]).failure_message().contains("SameSite=None"));
    }

    #[test]
    fn same_site_lax_is_accepted() {
        let mut c = cookie("s");
        c.same_site = Some(SameSite::Lax);
        assert!(same_site(&[&c]).holds());
    }

    #[test]
    fn domain_cookies_and_broad_paths_are_out_of_scope() {
        let mut c = cookie("s");
        c.domain = ".chat.test".into();
        assert!(
            scope(&[&c], "chat.test", "/")
                .failure_message()
                .contains("every subdomain")
        );
        c.domain = ".test".into();
        assert!(
            scope(&[&c], "chat.test", "/")
                .failure_message()
                .contains("broader than the host")
        );
        let mut p = cookie("s");
        p.path = "/".into();
        assert!(
            scope(&[&p], "chat.test", "/chat")
                .failure_message()
                .contains("Path=/")
        );
        p.path = "/chat".into();
        assert!(scope(&[&p], "chat.test", "/chat/").holds());
        p.path = "/chat/room".into();
        assert!(scope(&[&p], "chat.test", "/chat").holds());
    }

    #[test]
    fn a_prefixed_cookie_with_wrong_attributes_is_flagged() {
        let mut c = cookie("__Host-sid");
        c.path = "/x".into();
        assert!(
            host_prefix(&[&c])
                .failure_message()
                .contains("without Secure")
        );
    }

    #[test]
    fn session_cookies_are_found_by_value_and_by_name() {
        let mut o = Observation::empty();
        let mut by_value = cookie("other");
        by_value.value = Secret::new("xx%22TOKENVALUE%22");
        let mut unrelated = cookie("theme");
        unrelated.value = Secret::new("dark-mode-please");
        o.cookies = vec![by_value, cookie("rc_uid"), unrelated];
        let found = session_cookies(&o, Some("TOKENVALUE"), &|n| n == "rc_uid");
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["other", "rc_uid"]);
    }

    #[test]
    fn script_exposure_names_every_readable_place() {
        let mut o = Observation::empty();
        let mut c = cookie("rc_token");
        c.http_only = false;
        c.value = Secret::new("TOKENVALUE123");
        o.cookies.push(c);
        o.script_cookies = Secret::new("rc_uid=u1; rc_token=TOKENVALUE123");
        o.local_storage
            .insert("Meteor.loginToken".into(), Secret::new("TOKENVALUE123"));
        o.session_storage
            .insert("unrelated".into(), Secret::new("x"));
        let v = script_exposure(&o, "TOKENVALUE123");
        let msg = v.failure_message();
        assert!(msg.contains("document.cookie (rc_token)"), "{msg}");
        assert!(msg.contains("localStorage Meteor.loginToken"), "{msg}");
        assert!(!msg.contains("unrelated"));
        assert!(!msg.contains("TOKENVALUE123"));
    }

    #[test]
    fn script_exposure_holds_when_token_is_only_in_httponly_cookie() {
        let mut o = Observation::empty();
        o.cookies.push(cookie("__Host-sid"));
        o.script_cookies = Secret::new("theme=dark");
        assert!(script_exposure(&o, "tok-1234567890").holds());
    }
}
