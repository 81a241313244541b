//! Strict-Transport-Security (RFC 6797) parsing and the ASVS threshold.
//!
//! ASVS 5.0 3.4.1 asks for max-age of at least one year on every response
//! (ASVS 4.0.3 14.4.5 cites six months); ZAP only checks presence and
//! Observatory six months, so one year is the stricter, current bar.

use super::Verdict;

pub const ONE_YEAR: u64 = 31_536_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hsts {
    pub max_age: u64,
    pub include_subdomains: bool,
    pub preload: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HstsError {
    #[error("no Strict-Transport-Security header")]
    Missing,
    #[error("{0} Strict-Transport-Security headers (browsers use only the first; RFC 6797 8.1)")]
    Multiple(usize),
    #[error("max-age directive missing")]
    NoMaxAge,
    #[error("malformed max-age `{0}`")]
    BadMaxAge(String),
    #[error("directive `{0}` appears twice")]
    Duplicate(String),
}

/// Parses the header values of one response.
pub fn parse(values: &[&str]) -> Result<Hsts, HstsError> {
    let value = match values {
        [] => return Err(HstsError::Missing),
        [one] => *one,
        many => return Err(HstsError::Multiple(many.len())),
    };
    let mut max_age = None;
    let mut include_subdomains = false;
    let mut preload = false;
    let mut seen: Vec<String> = Vec::new();
    for directive in value.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (n.trim().to_ascii_lowercase(), Some(a.trim())),
            None => (directive.to_ascii_lowercase(), None),
        };
        if seen.contains(&name) {
            return Err(HstsError::Duplicate(name));
        }
        seen.push(name.clone());
        match name.as_str() {
            "max-age" => {
                let raw = arg.unwrap_or("");
                let unquoted = raw
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or(raw);
                let n = unquoted
                    .parse::<u64>()
                    .ok()
                    .filter(|_| {
                        !unquoted.is_empty() && unquoted.bytes().all(|b| b.is_ascii_digit())
                    })
                    .ok_or_else(|| HstsError::BadMaxAge(raw.to_string()))?;
                max_age = Some(n);
            }
            "includesubdomains" => include_subdomains = true,
            "preload" => preload = true,
            _ => {} // unknown directives are ignored (RFC 6797 6.1)
        }
    }
    Ok(Hsts {
        max_age: max_age.ok_or(HstsError::NoMaxAge)?,
        include_subdomains,
        preload,
    })
}

/// Judges one HTTPS response's HSTS header values against the one-year bar.
pub fn judge(response: &str, values: &[&str]) -> Verdict {
    let mut v = Verdict::default();
    match parse(values) {
        Ok(h) => {
            v.note(format!(
                "{response}: Strict-Transport-Security: {} (max-age {} days{}{})",
                values.first().copied().unwrap_or_default(),
                h.max_age / 86_400,
                if h.include_subdomains {
                    ", includeSubDomains"
                } else {
                    ""
                },
                if h.preload { ", preload" } else { "" }
            ));
            if h.max_age < ONE_YEAR {
                v.violate(
                    "ASVS 5.0 3.4.1",
                    response,
                    format!("HSTS max-age {} is below one year ({ONE_YEAR})", h.max_age),
                );
            }
        }
        Err(e) => v.violate("ASVS 5.0 3.4.1", response, e.to_string()),
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let h = parse(&["max-age=63072000; includeSubDomains; preload"]).unwrap();
        assert_eq!(
            h,
            Hsts {
                max_age: 63_072_000,
                include_subdomains: true,
                preload: true
            }
        );
        assert_eq!(parse(&["max-age=\"31536000\""]).unwrap().max_age, ONE_YEAR);
        assert_eq!(parse(&["MAX-AGE=5;"]).unwrap().max_age, 5);
    }

    #[test]
    fn rejects_what_browsers_ignore() {
        assert_eq!(parse(&[]), Err(HstsError::Missing));
        assert_eq!(
            parse(&["max-age=1", "max-age=2"]),
            Err(HstsError::Multiple(2))
        );
        assert_eq!(parse(&["includeSubDomains"]), Err(HstsError::NoMaxAge));
        assert!(matches!(
            parse(&["max-age=abc"]),
            Err(HstsError::BadMaxAge(_))
        ));
        assert!(matches!(
            parse(&["max-age=-1"]),
            Err(HstsError::BadMaxAge(_))
        ));
        assert!(matches!(
            parse(&["max-age=1; max-age=2"]),
            Err(HstsError::Duplicate(_))
        ));
    }

    #[test]
    fn judges_against_one_year() {
        assert!(judge("GET /", &["max-age=31536000"]).holds());
        let short = judge("GET /", &["max-age=15552000; includeSubDomains"]);
        assert!(short.failure_message().contains("below one year"));
        assert!(
            judge("GET /", &[])
                .failure_message()
                .contains("no Strict-Transport-Security")
        );
        assert!(
            judge("GET /", &["max-age=0"])
                .failure_message()
                .contains("below one year")
        );
    }
}
