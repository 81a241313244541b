//! What the browser loaded and sent, from its recorded DevTools Network events and
//! console: no `http:` subresource on an HTTPS page (ASVS 9.1.1, 5.0 12.2.1), the
//! credentials sent only over TLS (ASVS 9.1.1; BDD-Security's "login form over HTTPS"),
//! and no session token in an address, a `Referer` or a redirect's `Location` (ASVS
//! 3.1.1, 5.0 14.2.1).
//!
//! Every rule first checks that the record shows what it must judge (the pages' own
//! requests; a request carrying the password): without it there is no verdict.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Verdict;
use crate::browser::log::Recorded;

/// One request the browser made (or tried to make), or one websocket frame it sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub method: String,
    pub url: String,
    /// Request body or websocket frame payload, when the log carries it.
    pub body: Option<String>,
    pub referer: Option<String>,
    /// DevTools' `mixedContentType` (`blockable`, `optionally-blockable`), when not `none`.
    pub mixed: Option<String>,
    /// `Location` of the redirect that led to this request.
    pub redirected_by: Option<String>,
    pub document: bool,
}

/// The requests and frames of a record, and the console's mixed-content lines.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    pub sent: Vec<Sent>,
    /// Requests the browser blocked as mixed content (`blockedReason`), by URL.
    pub blocked_mixed: Vec<String>,
    pub console_mixed: Vec<String>,
    /// Every `Location` header the browser received.
    pub locations: Vec<String>,
}

fn header(headers: &Value, name: &str) -> Option<String> {
    headers.as_object().and_then(|h| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    })
}

impl Traffic {
    pub fn from_record(r: &Recorded) -> Self {
        let mut t = Traffic::default();
        let mut urls = std::collections::HashMap::<String, String>::new();
        let mut sockets = std::collections::HashMap::<String, String>::new();
        // The URL an event's `requestId` was first seen with (requests or sockets).
        let url_of = |p: &Value, seen: &std::collections::HashMap<String, String>| {
            p["requestId"].as_str().and_then(|id| seen.get(id)).cloned()
        };
        for (method, p) in &r.events {
            match method.as_str() {
                "Network.requestWillBeSent" => {
                    let req = &p["request"];
                    let url = req["url"].as_str().unwrap_or_default().to_string();
                    if let Some(id) = p["requestId"].as_str() {
                        urls.insert(id.to_string(), url.clone());
                    }
                    let redirected_by = header(&p["redirectResponse"]["headers"], "location");
                    if let Some(l) = &redirected_by {
                        t.locations.push(l.clone());
                    }
                    t.sent.push(Sent {
                        method: req["method"].as_str().unwrap_or("GET").to_string(),
                        url,
                        body: req["postData"].as_str().map(str::to_string),
                        referer: header(&req["headers"], "referer"),
                        mixed: req["mixedContentType"]
                            .as_str()
                            .filter(|m| *m != "none")
                            .map(str::to_string),
                        redirected_by,
                        document: p["type"].as_str() == Some("Document"),
                    });
                }
                // The headers as sent, where Chromium adds `Referer` after the event above.
                "Network.requestWillBeSentExtraInfo" => {
                    if let Some(referer) = header(&p["headers"], "referer") {
                        let url = url_of(p, &urls).unwrap_or_default();
                        t.sent.push(Sent {
                            method: "(headers of)".into(),
                            url,
                            referer: Some(referer),
                            ..Sent::default()
                        });
                    }
                }
                "Network.responseReceived" | "Network.responseReceivedExtraInfo" => {
                    let headers = if method == "Network.responseReceived" {
                        &p["response"]["headers"]
                    } else {
                        &p["headers"]
                    };
                    if let Some(l) = header(headers, "location") {
                        t.locations.push(l);
                    }
                }
                "Network.loadingFailed" if p["blockedReason"].as_str() == Some("mixed-content") => {
                    let url = url_of(p, &urls).unwrap_or_else(|| "(a request)".into());
                    t.blocked_mixed.push(url);
                }
                "Network.webSocketCreated" => {
                    if let (Some(id), Some(url)) = (p["requestId"].as_str(), p["url"].as_str()) {
                        sockets.insert(id.to_string(), url.to_string());
                        t.sent.push(Sent {
                            method: "WEBSOCKET".into(),
                            url: url.to_string(),
                            ..Sent::default()
                        });
                    }
                }
                "Network.webSocketFrameSent" => {
                    let url = url_of(p, &sockets).unwrap_or_default();
                    t.sent.push(Sent {
                        method: "FRAME".into(),
                        url,
                        body: p["response"]["payloadData"].as_str().map(str::to_string),
                        ..Sent::default()
                    });
                }
                _ => {}
            }
        }
        t.console_mixed = r
            .console
            .iter()
            .filter(|l| l.contains("Mixed Content:"))
            .cloned()
            .collect();
        t
    }

    fn documents(&self) -> impl Iterator<Item = &Sent> {
        self.sent.iter().filter(|s| s.document)
    }
}

/// The insecure address a console "Mixed Content:" line names, and what the browser did
/// with it: "…requested an insecure element 'http://…'. This request was automatically
/// upgraded to HTTPS, …" or "…has been blocked…".
fn console_mixed(line: &str) -> (String, &'static str) {
    let url = line
        .split('\'')
        .find(|part| part.starts_with("http:") || part.starts_with("ws:"))
        .map(str::to_string)
        .unwrap_or_else(|| "browser console".to_string());
    let what = if line.contains("automatically upgraded") {
        "upgraded to HTTPS this time"
    } else if line.contains("blocked") {
        "blocked"
    } else {
        "loaded"
    };
    (url, what)
}

fn scheme(url: &str) -> &str {
    url.split_once(':').map(|(s, _)| s).unwrap_or("")
}

fn insecure(url: &str) -> bool {
    matches!(scheme(url).to_ascii_lowercase().as_str(), "http" | "ws")
}

/// No page of the record was loaded over, or loaded anything from, plain HTTP.
/// `Err` when the record holds no page load at all (the log did not work).
pub fn judge_mixed_content(t: &Traffic) -> Result<Verdict, String> {
    let pages: Vec<&Sent> = t.documents().collect();
    if pages.is_empty() {
        return Err(
            "the browser's performance log shows no page load; cannot judge what the pages loaded"
                .into(),
        );
    }
    let mut v = Verdict::default();
    v.note(format!(
        "{} page loads and {} other requests recorded",
        pages.len(),
        t.sent.iter().filter(|s| !s.document).count()
    ));
    for p in &pages {
        if insecure(&p.url) {
            v.violate(
                "ASVS 9.1.1",
                format!("page {}", p.url),
                "the page itself was loaded over plain HTTP",
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in t.sent.iter().filter(|s| !s.document) {
        let flagged = s.mixed.is_some() || insecure(&s.url);
        if flagged && seen.insert(s.url.clone()) {
            v.violate(
                "ASVS 9.1.1",
                format!("{} {}", s.method, s.url),
                // Only the browser's mixed-content flag says the page was HTTPS.
                match s.mixed.as_deref() {
                    Some(m) => {
                        format!("an HTTPS page requests a plain-HTTP resource (mixed content, {m})")
                    }
                    None => "requested over plain HTTP".to_string(),
                },
            );
        }
    }
    for url in &t.blocked_mixed {
        if seen.insert(url.clone()) {
            v.violate(
                "ASVS 9.1.1",
                url.clone(),
                "the browser blocked this request as mixed content",
            );
        }
    }
    for line in &t.console_mixed {
        let (url, what) = console_mixed(line);
        if seen.insert(url.clone()) {
            v.violate(
                "ASVS 9.1.1",
                url,
                format!("an HTTPS page requests it over plain HTTP (the browser reports mixed content: {what})"),
            );
        }
    }
    if v.holds() {
        v.note("no plain-HTTP resource and no mixed-content report in the browser's log");
    }
    Ok(v)
}

/// The forms a password takes on the wire: as typed, JSON- and form-encoded, and the
/// SHA-256 hex digest Meteor's `login` method sends in its place.
pub fn password_forms(password: &str) -> Vec<String> {
    let json = serde_json::to_string(password).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let form = url::form_urlencoded::byte_serialize(password.as_bytes()).collect::<String>();
    let digest = crate::secret::hex(&Sha256::digest(password.as_bytes()));
    let mut forms = vec![password.to_string(), json, form, digest];
    forms.sort();
    forms.dedup();
    forms
}

/// Every request or frame carrying the password went to `https:` or `wss:`. `Err` when
/// none is seen: where the credentials went cannot be judged then.
pub fn judge_credentials(t: &Traffic, forms: &[String]) -> Result<Verdict, String> {
    let carries = |s: &Sent| {
        let in_body = s
            .body
            .as_deref()
            .is_some_and(|b| forms.iter().any(|f| b.contains(f.as_str())));
        in_body || forms.iter().any(|f| s.url.contains(f.as_str()))
    };
    let carrying: Vec<&Sent> = t.sent.iter().filter(|s| carries(s)).collect();
    if carrying.is_empty() {
        return Err(format!(
            "none of the {} requests and websocket frames the browser recorded carries the password \
             (as typed, encoded or as its SHA-256 digest); cannot judge where the credentials went",
            t.sent.len()
        ));
    }
    let mut v = Verdict::default();
    for s in &carrying {
        v.note(format!(
            "the credentials were sent by {} {}",
            s.method, s.url
        ));
        if insecure(&s.url) {
            v.violate(
                "ASVS 9.1.1",
                format!("{} {}", s.method, s.url),
                "the credentials are sent over plain HTTP",
            );
        }
    }
    Ok(v)
}

/// No address, `Referer` or `Location` carries any of `tokens` (as is, or
/// percent-encoded). `Err` when the record holds no request at all.
pub fn judge_token_urls(t: &Traffic, tokens: &[(&str, &str)]) -> Result<Verdict, String> {
    if t.sent.is_empty() {
        return Err(
            "the browser's performance log shows no request; cannot judge the addresses it used"
                .into(),
        );
    }
    let forms: Vec<(&str, String)> = tokens
        .iter()
        .filter(|(_, tok)| tok.len() >= 8)
        .flat_map(|(name, tok)| {
            let enc = url::form_urlencoded::byte_serialize(tok.as_bytes()).collect::<String>();
            [(*name, tok.to_string()), (*name, enc)]
        })
        .collect();
    if forms.is_empty() {
        return Err("no session token is known for this browser; nothing to look for".into());
    }
    let found = |text: &str| {
        forms
            .iter()
            .find(|(_, f)| text.contains(f.as_str()))
            .map(|(n, _)| *n)
    };
    let mut v = Verdict::default();
    let mut addresses = std::collections::BTreeSet::new();
    for s in &t.sent {
        if !s.url.is_empty() && s.method != "(headers of)" {
            addresses.insert(s.url.as_str());
        }
    }
    v.note(format!(
        "looked for the session's {} in {} addresses, their Referer headers and {} redirect locations",
        tokens
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", "),
        addresses.len(),
        t.locations.len()
    ));
    for url in &addresses {
        if let Some(name) = found(url) {
            v.violate(
                "ASVS 3.1.1",
                format!("address {url}"),
                format!("the {name} is in the URL"),
            );
        }
    }
    let mut referers = std::collections::BTreeSet::new();
    for s in &t.sent {
        if let Some(r) = &s.referer
            && let Some(name) = found(r)
            && referers.insert(r.clone())
        {
            v.violate(
                "ASVS 3.1.1",
                format!("Referer {r} (sent with {})", s.url),
                format!("the {name} leaks in the Referer header"),
            );
        }
    }
    for l in &t.locations {
        if let Some(name) = found(l) {
            v.violate(
                "ASVS 3.1.1",
                format!("Location {l}"),
                format!("a redirect carries the {name}"),
            );
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(events: Vec<(&str, Value)>, console: Vec<&str>) -> Traffic {
        let r = Recorded {
            events: events
                .into_iter()
                .map(|(m, p)| (m.to_string(), p))
                .collect(),
            console: console.into_iter().map(str::to_string).collect(),
        };
        Traffic::from_record(&r)
    }

    fn request(id: &str, url: &str, ty: &str, extra: Value) -> (&'static str, Value) {
        let mut req = json!({"url": url, "method": "GET", "headers": {}});
        if let (Some(r), Some(e)) = (req.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                r.insert(k.clone(), v.clone());
            }
        }
        (
            "Network.requestWillBeSent",
            json!({"requestId": id, "type": ty, "request": req}),
        )
    }

    #[test]
    fn an_http_image_on_an_https_page_is_mixed_content() {
        let t = record(
            vec![
                request("1", "https://a.test/login", "Document", json!({})),
                request(
                    "2",
                    "http://a.test/logo.png",
                    "Image",
                    json!({"mixedContentType": "optionally-blockable"}),
                ),
            ],
            vec![],
        );
        let v = judge_mixed_content(&t).expect("judged");
        assert!(!v.holds());
        assert!(v.failure_message().contains("http://a.test/logo.png"));
    }

    #[test]
    fn a_clean_record_holds_and_an_empty_one_cannot_be_judged() {
        let t = record(
            vec![request("1", "https://a.test/", "Document", json!({}))],
            vec![],
        );
        assert!(judge_mixed_content(&t).expect("judged").holds());
        assert!(judge_mixed_content(&Traffic::default()).is_err());
    }

    #[test]
    fn credentials_must_be_seen_and_go_over_tls() {
        let forms = password_forms("s3cret pass");
        let ok = record(
            vec![request(
                "1",
                "https://a.test/auth/sign_in",
                "Fetch",
                json!({"method": "POST", "postData": "{\"password\":\"s3cret pass\"}"}),
            )],
            vec![],
        );
        assert!(judge_credentials(&ok, &forms).expect("judged").holds());
        let digest = crate::secret::hex(&Sha256::digest(b"s3cret pass"));
        let bad = record(
            vec![request(
                "1",
                "http://a.test/api/login",
                "Fetch",
                json!({"method": "POST", "postData": format!("{{\"digest\":\"{digest}\"}}")}),
            )],
            vec![],
        );
        assert!(!judge_credentials(&bad, &forms).expect("judged").holds());
        let none = record(
            vec![request("1", "https://a.test/", "Document", json!({}))],
            vec![],
        );
        assert!(judge_credentials(&none, &forms).is_err());
    }

    #[test]
    fn a_token_in_an_address_or_referer_is_found() {
        let tok = "tok-1234567890abcdef";
        let t = record(
            vec![
                request("1", "https://a.test/home", "Document", json!({})),
                request(
                    "2",
                    "https://a.test/avatar?token=tok-1234567890abcdef",
                    "Image",
                    json!({}),
                ),
            ],
            vec![],
        );
        let v = judge_token_urls(&t, &[("session token", tok)]).expect("judged");
        assert!(
            v.failure_message()
                .contains("the session token is in the URL")
        );
        let clean = record(
            vec![request(
                "1",
                "https://a.test/home",
                "Document",
                json!({"headers": {"Referer": "https://a.test/login"}}),
            )],
            vec![],
        );
        assert!(
            judge_token_urls(&clean, &[("session token", tok)])
                .expect("judged")
                .holds()
        );
    }
}
