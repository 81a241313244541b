//! chromedriver's logs: what the browser loaded, sent and printed, read without an
//! event stream. Sessions ask for them with `goog:loggingPrefs`
//! (`{browser: ALL, performance: ALL}`); `POST /session/{id}/se/log` hands out (and
//! empties) the buffer, so a reader keeps what it has read. Selenium Grid passes it through.

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};
use url::Url;

/// The capability that makes chromedriver record the browser console and the
/// DevTools Network events.
pub fn logging_prefs() -> Value {
    json!({ "browser": "ALL", "performance": "ALL" })
}

/// `POST /session/{id}/se/log` for one log type.
#[derive(Debug)]
pub(super) struct ReadLog(pub &'static str);

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// What a browser session recorded since it started: DevTools events (method and
/// params) and console lines.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub events: Vec<(String, Value)>,
    pub console: Vec<String>,
}

impl Recorded {
    /// Adds what one read of the performance and browser logs returned.
    pub fn extend(&mut self, performance: &Value, browser: &Value) {
        for entry in performance.as_array().into_iter().flatten() {
            // Each entry's `message` is itself JSON: {"message": {"method", "params"}, "webview"}.
            let Some(text) = entry.get("message").and_then(Value::as_str) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            let m = &v["message"];
            if let Some(method) = m.get("method").and_then(Value::as_str) {
                self.events.push((
                    method.to_string(),
                    m.get("params").cloned().unwrap_or(Value::Null),
                ));
            }
        }
        for entry in browser.as_array().into_iter().flatten() {
            if let Some(text) = entry.get("message").and_then(Value::as_str) {
                self.console.push(text.to_string());
            }
        }
    }
}
