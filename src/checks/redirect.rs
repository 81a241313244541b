//! Plain-HTTP handling (ASVS 4.0.3 9.1.1, ASVS 5.0 12.2.1): a request over HTTP must
//! not be served; a redirect to HTTPS on the same host, or no listener at all, is fine.

use super::Verdict;

/// What a plain-HTTP request produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlainHttpOutcome {
    /// Nothing listens (connection refused): nothing can be downgraded.
    NotServed(String),
    Response {
        status: u16,
        location: Option<String>,
    },
}

/// Judges one plain-HTTP request to `path` on `host`.
pub fn judge(request: &str, host: &str, outcome: &PlainHttpOutcome) -> Verdict {
    let mut v = Verdict::default();
    match outcome {
        PlainHttpOutcome::NotServed(why) => {
            v.note(format!("{request}: not served over plain HTTP ({why})"));
        }
        PlainHttpOutcome::Response { status, location } => {
            v.note(format!(
                "{request}: {status}{}",
                location
                    .as_deref()
                    .map(|l| format!(" Location: {l}"))
                    .unwrap_or_default()
            ));
            let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
            if !is_redirect {
                v.violate(
                    "ASVS 9.1.1",
                    request,
                    format!("answered {status} over plain HTTP instead of redirecting to HTTPS"),
                );
                return v;
            }
            match location.as_deref().and_then(|l| url::Url::parse(l).ok()) {
                Some(u)
                    if u.scheme() == "https"
                        && u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host)) => {}
                Some(u) if u.scheme() == "https" => v.violate(
                    "ASVS 9.1.1",
                    request,
                    format!(
                        "redirects to HTTPS on another host ({}), not {host}",
                        u.host_str().unwrap_or("?")
                    ),
                ),
                _ => v.violate(
                    "ASVS 9.1.1",
                    request,
                    format!(
                        "redirects, but not to an absolute https:// URL (Location: {})",
                        location.as_deref().unwrap_or("none")
                    ),
                ),
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, location: Option<&str>) -> PlainHttpOutcome {
        PlainHttpOutcome::Response {
            status,
            location: location.map(str::to_string),
        }
    }

    #[test]
    fn a_same_host_https_redirect_passes() {
        for status in [301, 302, 307, 308] {
            assert!(
                judge(
                    "GET /",
                    "chat.test",
                    &resp(status, Some("https://chat.test/home"))
                )
                .holds()
            );
        }
    }

    #[test]
    fn not_listening_passes() {
        assert!(
            judge(
                "GET /",
                "chat.test",
                &PlainHttpOutcome::NotServed("refused".into())
            )
            .holds()
        );
    }

    #[test]
    fn serving_content_fails() {
        let v = judge("GET /", "chat.test", &resp(200, None));
        assert!(v.failure_message().contains("answered 200"));
    }

    #[test]
    fn redirects_to_http_or_elsewhere_fail() {
        assert!(!judge("GET /", "chat.test", &resp(301, Some("http://chat.test/"))).holds());
        assert!(!judge("GET /", "chat.test", &resp(301, Some("/home"))).holds());
        assert!(!judge("GET /", "chat.test", &resp(301, None)).holds());
        let other = judge("GET /", "chat.test", &resp(302, Some("https://evil.test/")));
        assert!(other.failure_message().contains("another host"));
    }
}
