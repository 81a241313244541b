//! One WebDriver session (one fresh Chromium profile) per scenario: navigation,
//! forms, the full cookie jar through CDP, web storage and screenshots.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use super::BrowserError;
use super::cleanup;
use crate::model::{BrowserCookie, Observation, SameSite};
use crate::secret::Secret;

/// A Chrome DevTools Protocol command sent through chromedriver
/// (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

pub struct BrowserSession {
    client: Option<Client>,
    pid: Option<u32>,
    _permit: OwnedSemaphorePermit,
}

fn cmd_err(what: &str, e: impl std::fmt::Display) -> BrowserError {
    BrowserError::Command(format!("{what}: {e}"))
}

impl BrowserSession {
    pub(super) fn new(client: Client, pid: Option<u32>, permit: OwnedSemaphorePermit) -> Self {
        if let Some(p) = pid {
            cleanup::register_browser(p);
        }
        Self {
            client: Some(client),
            pid,
            _permit: permit,
        }
    }

    fn client(&self) -> Result<&Client, BrowserError> {
        self.client
            .as_ref()
            .ok_or_else(|| BrowserError::Command("the browser session is closed".into()))
    }

    pub async fn goto(&self, url: &Url) -> Result<(), BrowserError> {
        self.client()?
            .goto(url.as_str())
            .await
            .map_err(|e| cmd_err(&format!("open {url}"), e))
    }

    pub async fn current_url(&self) -> Result<Url, BrowserError> {
        self.client()?
            .current_url()
            .await
            .map_err(|e| cmd_err("read the current URL", e))
    }

    /// Runs `script` in the page and returns its value.
    pub async fn exec(&self, script: &str, args: Vec<Value>) -> Result<Value, BrowserError> {
        self.client()?
            .execute(script, args)
            .await
            .map_err(|e| cmd_err("run page script", e))
    }

    async fn find(&self, locator: Locator<'_>) -> Option<fantoccini::elements::Element> {
        let el = self.client().ok()?.find(locator).await.ok()?;
        match el.is_displayed().await {
            Ok(true) => Some(el),
            _ => None,
        }
    }

    /// Whether a visible element matches the CSS selector now.
    pub async fn is_visible(&self, css: &str) -> bool {
        self.find(Locator::Css(css)).await.is_some()
    }

    /// Polls `probe` every 100 ms until it yields a value; past `within`, a timeout that
    /// `what` describes, naming the page the browser is on.
    async fn poll<T>(
        &self,
        within: Duration,
        mut probe: impl AsyncFnMut() -> Option<T>,
        what: impl FnOnce(&str) -> String,
    ) -> Result<T, BrowserError> {
        let started = Instant::now();
        let mut unanswered = 0;
        loop {
            if let Some(v) = probe().await {
                return Ok(v);
            }
            // A dead browser session never shows anything: end the wait now, not at its timeout.
            match self.current_url().await {
                Ok(_) => unanswered = 0,
                Err(e) => {
                    unanswered += 1;
                    if unanswered >= 3 {
                        return Err(BrowserError::Command(format!(
                            "the browser session stopped answering while waiting: {e}"
                        )));
                    }
                }
            }
            if started.elapsed() >= within {
                let url = self
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                return Err(BrowserError::Timeout(what(&url)));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until one of `selectors` (CSS) is visible; returns its index.
    pub async fn wait_any(
        &self,
        selectors: &[&str],
        within: Duration,
    ) -> Result<usize, BrowserError> {
        self.poll(
            within,
            async || {
                for (i, css) in selectors.iter().enumerate() {
                    if self.find(Locator::Css(css)).await.is_some() {
                        return Some(i);
                    }
                }
                None
            },
            |url| {
                format!(
                    "none of [{}] appeared within {} s on {url}",
                    selectors.join(" | "),
                    within.as_secs()
                )
            },
        )
        .await
    }

    /// Polls `script` (a function body returning a string or null) until it returns a string.
    pub async fn poll_js(&self, script: &str, within: Duration) -> Result<String, BrowserError> {
        self.poll(
            within,
            // A navigation in progress makes a script call fail; that is just "not yet".
            async || match self.exec(script, vec![]).await {
                Ok(Value::String(s)) => Some(s),
                _ => None,
            },
            |url| {
                format!(
                    "the page at {url} did not settle within {} s",
                    within.as_secs()
                )
            },
        )
        .await
    }

    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        let el = self
            .find(Locator::Css(css))
            .await
            .ok_or_else(|| BrowserError::Command(format!("no visible field {css}")))?;
        el.clear()
            .await
            .map_err(|e| cmd_err(&format!("clear {css}"), e))?;
        el.send_keys(text)
            .await
            .map_err(|e| cmd_err(&format!("type into {css}"), e))
    }

    pub async fn click(&self, css: &str) -> Result<(), BrowserError> {
        let el = self
            .find(Locator::Css(css))
            .await
            .ok_or_else(|| BrowserError::Command(format!("nothing visible to click at {css}")))?;
        el.click()
            .await
            .map_err(|e| cmd_err(&format!("click {css}"), e))
    }

    /// Clicks the first visible element matching `xpath`, waiting up to `within`.
    pub async fn click_xpath(&self, xpath: &str, within: Duration) -> Result<(), BrowserError> {
        let el = self
            .poll(
                within,
                async || self.find(Locator::XPath(xpath)).await,
                |url| {
                    format!(
                        "{xpath} did not appear within {} s on {url}",
                        within.as_secs()
                    )
                },
            )
            .await?;
        el.click()
            .await
            .map_err(|e| cmd_err(&format!("click {xpath}"), e))
    }

    async fn cdp(&self, cmd: &'static str, params: Value) -> Result<Value, BrowserError> {
        self.client()?
            .issue_cmd(Cdp { cmd, params })
            .await
            .map_err(|e| cmd_err(cmd, e))
    }

    /// What the browser loaded, sent and printed since the last read (chromedriver's
    /// performance and browser logs; each read empties them).
    pub async fn read_logs(&self) -> Result<(Value, Value), BrowserError> {
        let c = self.client()?;
        let read = |kind: &'static str| async move {
            c.issue_cmd(super::log::ReadLog(kind)).await.map_err(|e| {
                BrowserError::Command(format!(
                    "read the browser's {kind} log (POST /session/{{id}}/se/log): {e}; the WebDriver must be chromedriver or a Selenium Grid in front of it"
                ))
            })
        };
        Ok((read("performance").await?, read("browser").await?))
    }

    /// Every cookie in the browser, with the attributes as set; unlike WebDriver's
    /// cookie list, CDP also shows other paths and an unset SameSite.
    pub async fn cookies(&self) -> Result<Vec<BrowserCookie>, BrowserError> {
        let v = match self.cdp("Storage.getCookies", json!({})).await {
            Ok(v) => v,
            Err(_) => self.cdp("Network.getAllCookies", json!({})).await.map_err(|e| {
                BrowserError::Command(format!(
                    "this WebDriver offers no DevTools protocol, which is needed to read every cookie and \
                     whether SameSite was set ({e}); use Chromium's chromedriver"
                ))
            })?,
        };
        // A reply without a cookie list is a failed read, not an empty jar.
        let list = v.get("cookies").and_then(Value::as_array).ok_or_else(|| {
            BrowserError::Command(format!(
                "the DevTools cookie read answered without a cookie list: {}",
                truncate(&v.to_string(), 120)
            ))
        })?;
        let cookies: Vec<BrowserCookie> = list.iter().filter_map(parse_cdp_cookie).collect();
        if cookies.len() != list.len() {
            return Err(BrowserError::Command(format!(
                "{} of {} cookies in the DevTools reply could not be read",
                list.len() - cookies.len(),
                list.len()
            )));
        }
        Ok(cookies)
    }

    /// Sets a cookie as the page's origin would receive it; `url` makes it host-only.
    pub async fn plant_cookie(
        &self,
        url: &Url,
        name: &str,
        value: &str,
        secure: bool,
    ) -> Result<(), BrowserError> {
        let mut params = json!({"name": name, "value": value, "url": url.as_str(), "path": "/", "secure": secure});
        if secure {
            params["sameSite"] = json!("Lax");
        }
        let r = self.cdp("Network.setCookie", params).await?;
        if r.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(BrowserError::Command(format!(
                "the browser refused to set cookie {name}"
            )));
        }
        Ok(())
    }

    /// localStorage and sessionStorage of the current page.
    pub async fn storage(
        &self,
    ) -> Result<(BTreeMap<String, Secret>, BTreeMap<String, Secret>), BrowserError> {
        let v = self
            .exec(
                "const dump = s => { const o = {}; for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); } return o; };\
                 return [dump(window.localStorage), dump(window.sessionStorage)];",
                vec![],
            )
            .await?;
        let to_map = |v: Option<&Value>| -> BTreeMap<String, Secret> {
            v.and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), Secret::new(v.as_str().unwrap_or_default())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok((to_map(v.get(0)), to_map(v.get(1))))
    }

    /// Writes `key` = `value` into the page's localStorage.
    pub async fn plant_storage(&self, key: &str, value: &str) -> Result<(), BrowserError> {
        self.exec(
            "window.localStorage.setItem(arguments[0], arguments[1]); return true;",
            vec![json!(key), json!(value)],
        )
        .await
        .map(|_| ())
    }

    /// Web storage of `origin` through the DevTools protocol. Chromium reads an origin's
    /// storage only through a frame of that origin, so the tab goes to the origin's root
    /// with page scripts off: nothing of the application runs to change what it left.
    async fn storage_of(
        &self,
        origin: &str,
    ) -> Result<(BTreeMap<String, Secret>, BTreeMap<String, Secret>), BrowserError> {
        self.cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        )
        .await?;
        let visit = async {
            let url = url::Url::parse(&format!("{origin}/"))
                .map_err(|e| BrowserError::Command(format!("{origin}: {e}")))?;
            self.client()?
                .goto(url.as_str())
                .await
                .map_err(|e| cmd_err("navigate", e))?;
            self.cdp("DOMStorage.enable", json!({})).await?;
            let mut out = (BTreeMap::new(), BTreeMap::new());
            for (local, map) in [(true, &mut out.0), (false, &mut out.1)] {
                let r = self
                    .cdp(
                        "DOMStorage.getDOMStorageItems",
                        json!({ "storageId": { "securityOrigin": origin, "isLocalStorage": local } }),
                    )
                    .await?;
                for e in r
                    .get("entries")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let (Some(k), Some(v)) = (
                        e.get(0).and_then(Value::as_str),
                        e.get(1).and_then(Value::as_str),
                    ) {
                        map.insert(k.to_string(), Secret::new(v));
                    }
                }
            }
            Ok(out)
        };
        let out = visit.await;
        let restored = self
            .cdp(
                "Emulation.setScriptExecutionDisabled",
                json!({ "value": false }),
            )
            .await;
        let out = out?;
        restored?;
        Ok(out)
    }

    /// Everything the browser holds for the application at `app` (cookies of every site,
    /// web storage of the application's origin), wherever a redirect left the page: a
    /// sign-out that ends on another origin must not make the application's storage
    /// look empty.
    pub async fn observe_app(&self, app: &url::Url) -> Result<Observation, BrowserError> {
        let mut obs = self.observe().await?;
        let origin = app.origin().ascii_serialization();
        let here = url::Url::parse(&obs.url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if here != origin {
            let (local, session) = self.storage_of(&origin).await.map_err(|e| {
                BrowserError::Command(format!(
                    "the page is at {here}, not the application's origin {origin}, and the \
                     application's web storage cannot be read there: {e}"
                ))
            })?;
            obs.local_storage = local;
            obs.session_storage = session;
        }
        Ok(obs)
    }

    /// Everything the browser holds for the current page, at this moment.
    pub async fn observe(&self) -> Result<Observation, BrowserError> {
        let cookies = self.cookies().await?;
        let (local_storage, session_storage) = self.storage().await?;
        let script_cookies = self.exec("return document.cookie;", vec![]).await?;
        Ok(Observation {
            url: self
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default(),
            cookies,
            local_storage,
            session_storage,
            script_cookies: Secret::new(script_cookies.as_str().unwrap_or_default()),
            taken_at: Utc::now(),
        })
    }

    pub async fn screenshot(&self, path: &Path) -> Result<(), BrowserError> {
        let png = self
            .client()?
            .screenshot()
            .await
            .map_err(|e| cmd_err("screenshot", e))?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, png).map_err(|e| cmd_err(&format!("write {}", path.display()), e))
    }

    /// The page's current HTML (W3C WebDriver "Get Page Source").
    pub async fn page_source(&self) -> Result<String, BrowserError> {
        self.client()?
            .source()
            .await
            .map_err(|e| cmd_err("page source", e))
    }

    /// Ends the WebDriver session (chromedriver closes Chromium), then makes sure.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
        }
        if let Some(pid) = self.pid.take() {
            cleanup::kill(pid);
            cleanup::forget_browser(pid);
        }
    }
}

impl Drop for BrowserSession {
    fn drop(&mut self) {
        // Not closed (a panic, Ctrl-C): no async here, so kill the browser by its pid.
        if let Some(pid) = self.pid.take() {
            cleanup::kill(pid);
            cleanup::forget_browser(pid);
        }
    }
}

fn parse_cdp_cookie(c: &Value) -> Option<BrowserCookie> {
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let b = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
    let session = b("session");
    let expires = c
        .get("expires")
        .and_then(Value::as_f64)
        .filter(|e| !session && *e > 0.0);
    Some(BrowserCookie {
        name: c.get("name")?.as_str()?.to_string(),
        value: Secret::new(s("value")),
        domain: s("domain"),
        path: s("path"),
        secure: b("secure"),
        http_only: b("httpOnly"),
        same_site: c
            .get("sameSite")
            .and_then(Value::as_str)
            .and_then(SameSite::parse),
        expires,
    })
}

/// At most `n` characters of `s`, for messages.
fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdp_cookie_without_samesite_reads_as_unset() {
        let c = parse_cdp_cookie(&json!({
            "name": "rc_token", "value": "v", "domain": "rocketchat.test", "path": "/",
            "expires": -1, "size": 9, "httpOnly": false, "secure": true, "session": true
        }))
        .unwrap();
        assert_eq!(c.same_site, None);
        assert!(c.expires.is_none());
        assert!(c.host_only());
        let d = parse_cdp_cookie(&json!({
            "name": "x", "value": "v", "domain": ".rocketchat.test", "path": "/",
            "expires": 1900000000.5, "httpOnly": true, "secure": true, "session": false, "sameSite": "Strict"
        }))
        .unwrap();
        assert_eq!(d.same_site, Some(SameSite::Strict));
        assert!(!d.host_only());
        assert!(d.expires.is_some());
    }
}
