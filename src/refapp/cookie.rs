//! A server-set cookie's attributes, shared by both reference targets, and how each
//! cookie weakness changes them.

use super::Weakness;

#[derive(Clone, Debug)]
pub struct CookieStyle {
    pub prefix: &'static str,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<&'static str>,
    pub domain: Option<String>,
}

impl CookieStyle {
    /// Host-only, Secure, HttpOnly, `__Host-` prefixed: what the checks ask for.
    pub fn hardened(same_site: &'static str) -> Self {
        Self {
            prefix: "__Host-",
            secure: true,
            http_only: true,
            same_site: Some(same_site),
            domain: None,
        }
    }

    /// `; path=/; secure; httponly; samesite=…`, as Rails writes them.
    pub fn attributes(&self) -> String {
        let mut a = String::from("; path=/");
        if let Some(d) = &self.domain {
            a.push_str(&format!("; domain={d}"));
        }
        if self.secure {
            a.push_str("; secure");
        }
        if self.http_only {
            a.push_str("; httponly");
        }
        if let Some(s) = self.same_site {
            a.push_str(&format!("; samesite={s}"));
        }
        a
    }

    /// Applies a cookie weakness; other weaknesses leave the cookie as it is.
    pub fn weaken(&mut self, w: Weakness, host: &str) {
        match w {
            Weakness::NoHttpOnly => self.http_only = false,
            Weakness::NoSecure => {
                // Browsers refuse a __Host-/__Secure- cookie without Secure.
                self.secure = false;
                self.prefix = "";
            }
            Weakness::NoSameSite => self.same_site = None,
            Weakness::NoHostPrefix => self.prefix = "",
            Weakness::BroadCookieScope => {
                // A Domain attribute is forbidden with __Host-, allowed with __Secure-.
                self.domain = Some(host.to_string());
                self.prefix = if self.secure { "__Secure-" } else { "" };
            }
            _ => {}
        }
    }
}
