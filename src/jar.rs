//! A live cookie jar: the cookies a user's own client holds for the application outside
//! the browser, following every `Set-Cookie` as a browser does. Requests made *as the
//! user* (sign-in, the CSRF read, sign-out, password change and its restore, keep-alive
//! use) go through it, so an application that re-issues its session cookie (Rails keeps
//! the CSRF token in the cookie store; sliding sessions re-issue on use) is followed.
//! Replays *as the attacker* present the captured value, frozen, and never touch it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// One cookie the jar holds, and when its value was last set anew.
#[derive(Clone, Debug)]
struct Held {
    value: String,
    changed_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Jar {
    cookies: BTreeMap<String, Held>,
}

/// A jar shared by every copy of one session's credential.
pub type LiveJar = Arc<Mutex<Jar>>;

pub fn new_live() -> LiveJar {
    Arc::new(Mutex::new(Jar::default()))
}

/// What one answer did to the jar.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Absorbed {
    /// Cookies the jar held before whose value the answer replaced.
    pub replaced: Vec<String>,
    /// Cookies the answer deleted (`Max-Age=0`, an expiry in the past).
    pub deleted: Vec<String>,
}

impl Jar {
    /// Takes in an answer's `Set-Cookie` headers, as a browser does for one site.
    pub fn absorb(&mut self, set_cookies: &[&str], at: DateTime<Utc>) -> Absorbed {
        let mut out = Absorbed::default();
        for line in set_cookies {
            let Ok(c) = cookie::Cookie::parse(line.to_string()) else {
                continue;
            };
            let name = c.name().to_string();
            let gone = c.max_age().is_some_and(|a| a.whole_seconds() <= 0)
                || c.expires_datetime()
                    .is_some_and(|e| e.unix_timestamp() <= at.timestamp());
            if gone {
                if self.cookies.remove(&name).is_some() {
                    out.deleted.push(name);
                }
                continue;
            }
            let value = c.value().to_string();
            match self.cookies.get(&name) {
                Some(h) if h.value == value => {}
                Some(_) => {
                    out.replaced.push(name.clone());
                    self.cookies.insert(
                        name,
                        Held {
                            value,
                            changed_at: at,
                        },
                    );
                }
                None => {
                    self.cookies.insert(
                        name,
                        Held {
                            value,
                            changed_at: at,
                        },
                    );
                }
            }
        }
        out
    }

    /// Sets a cookie the user's client holds (a credential found in the browser).
    pub fn set(&mut self, name: &str, value: &str, at: DateTime<Utc>) {
        let changed = self.cookies.get(name).is_none_or(|h| h.value != value);
        if changed {
            self.cookies.insert(
                name.to_string(),
                Held {
                    value: value.to_string(),
                    changed_at: at,
                },
            );
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(|h| h.value.as_str())
    }

    /// When `name` last got a new value.
    pub fn changed_at(&self, name: &str) -> Option<DateTime<Utc>> {
        self.cookies.get(name).map(|h| h.changed_at)
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Every cookie as `name=value` pairs, in name order.
    pub fn pairs(&self) -> BTreeMap<String, String> {
        self.cookies
            .iter()
            .map(|(k, h)| (k.clone(), h.value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_set_cookie_as_a_browser_does() {
        let t0 = DateTime::from_timestamp(1_000, 0).expect("instant");
        let mut j = Jar::default();
        let a = j.absorb(&["_app_session=A; path=/; HttpOnly", "csrf=x"], t0);
        assert_eq!(a, Absorbed::default());
        assert_eq!(j.get("_app_session"), Some("A"));
        let t1 = DateTime::from_timestamp(1_012, 0).expect("instant");
        let a = j.absorb(&["_app_session=B; path=/"], t1);
        assert_eq!(a.replaced, ["_app_session"]);
        assert_eq!(j.get("_app_session"), Some("B"));
        assert_eq!(j.changed_at("_app_session"), Some(t1));
        assert_eq!(j.changed_at("csrf"), Some(t0));
        let a = j.absorb(
            &[
                "csrf=; Max-Age=0",
                "_app_session=; expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
            t1,
        );
        assert_eq!(a.deleted, ["csrf", "_app_session"]);
        assert!(j.is_empty());
        j.absorb(&["not a cookie line"], t1);
        assert!(j.is_empty());
    }
}
