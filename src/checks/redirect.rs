//! Plain-HTTP handling (ASVS 4.0.3 9.1.1, ASVS 5.0 12.2.1): a request over HTTP must
//! not be served; a redirect to HTTPS on the same host, or no listener at all, is fine.

use super::Verdict;

use crate::probe::http::PlainHttpOutcome;

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

/// Judges a plain-HTTP request sent to the HTTPS port itself. Servers that cannot tell
/// the two apart may serve the application there; a refusal (nginx's 400 "The plain
/// HTTP request was sent to HTTPS port", a dropped connection) or a redirect to HTTPS
/// serves nothing.
pub fn judge_on_tls_port(request: &str, host: &str, outcome: &PlainHttpOutcome) -> Verdict {
    match outcome {
        PlainHttpOutcome::Response { status, .. } if *status >= 400 => {
            let mut v = Verdict::default();
            v.note(format!(
                "{request}: {status}, the HTTPS port refuses plain HTTP"
            ));
            v
        }
        _ => judge(request, host, outcome),
    }
}

/// Whether a run judged plain HTTP at all: a refused connection at a guessed address (port
/// 80 of the host, when no plain-HTTP address was configured) shows nothing, as the
/// application may listen for plain HTTP elsewhere.
pub fn nothing_shown(guessed: bool, outcomes: &[PlainHttpOutcome]) -> bool {
    guessed
        && outcomes
            .iter()
            .all(|o| matches!(o, PlainHttpOutcome::NotServed(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_https_port_may_refuse_plain_http_but_not_serve_it() {
        let ok = judge_on_tls_port("GET http://chat.test:8443/", "chat.test", &resp(400, None));
        assert!(ok.holds(), "{ok:?}");
        let served = judge_on_tls_port("GET http://chat.test:8443/", "chat.test", &resp(200, None));
        assert!(served.failure_message().contains("answered 200"));
        let refused = PlainHttpOutcome::NotServed("refused".into());
        assert!(nothing_shown(true, &[refused.clone(), refused.clone()]));
        assert!(!nothing_shown(false, std::slice::from_ref(&refused)));
        assert!(!nothing_shown(
            true,
            &[refused, resp(301, Some("https://chat.test/"))]
        ));
    }

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
