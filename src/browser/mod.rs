//! Headless Chromium over WebDriver: one driver per run, one session per scenario.

pub mod cleanup;
pub mod driver;
pub mod log;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

pub use driver::Driver;
pub use session::BrowserSession;

/// Browser trouble is infrastructure, never a finding.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BrowserError {
    #[error("{0}")]
    NotInstalled(String),
    #[error("browser driver: {0}")]
    DriverStart(String),
    #[error("could not start a browser session: {0}")]
    Session(String),
    #[error("browser: {0}")]
    Command(String),
    #[error("browser: {0}")]
    Timeout(String),
}

/// Chromium flags measured to work here (DESIGN.md): headless, no sandbox as root,
/// no background networking on a closed network. Name resolution comes from
/// [`resolver_rules`].
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// Chromium's name resolution for a run: `.test` names (the reference targets) on
/// loopback, the given hosts as the system resolves them, every other name (and address
/// literal, `localhost` included) unresolvable, so a staging run contacts nothing but
/// its targets. An `EXCLUDE` bypasses every `MAP`, so `.test` hosts are never excluded.
pub fn resolver_rules<'a>(allowed: impl IntoIterator<Item = &'a str>) -> String {
    let mut rules = vec!["MAP *.test 127.0.0.1".to_string()];
    let mut seen = std::collections::BTreeSet::new();
    for host in allowed {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !host.is_empty() && !host.ends_with(".test") && seen.insert(host.clone()) {
            rules.push(format!("EXCLUDE {host}"));
        }
    }
    rules.push("MAP * ~NOTFOUND".into());
    rules.join(", ")
}

/// Starts the driver on first use and hands out sessions, at most `max` at once.
pub struct Browsers {
    webdriver_url: Option<Url>,
    driver: OnceCell<Arc<Driver>>,
    permits: Arc<Semaphore>,
    /// A few extra sessions for scenarios that hold their account exclusively: they are
    /// on every other scenario's critical path, so they do not queue.
    priority: Arc<Semaphore>,
    /// Hosts outside `.test` the browser may resolve: the targets and `SESSIONDRILL_BROWSER_HOSTS`.
    allowed: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Browsers {
    pub fn new(webdriver_url: Option<Url>, max: usize) -> Self {
        Self {
            webdriver_url,
            driver: OnceCell::new(),
            permits: Arc::new(Semaphore::new(max.max(1))),
            priority: Arc::new(Semaphore::new(2)),
            allowed: Default::default(),
        }
    }

    /// Sessions at once: `max` from the user, or else what a Selenium Grid behind
    /// `WEBDRIVER_URL` offers (its nodes' slots). Returns the number in force.
    pub async fn fit_capacity(&self, set_by_user: bool) -> usize {
        let now = self.permits.available_permits();
        if set_by_user {
            return now;
        }
        let Some(url) = &self.webdriver_url else {
            return now;
        };
        match driver::grid_slots(url).await {
            Some(slots) if slots > now => {
                self.permits.add_permits(slots - now);
                slots
            }
            Some(slots) if slots < now => {
                if let Ok(p) = self
                    .permits
                    .clone()
                    .try_acquire_many_owned((now - slots) as u32)
                {
                    p.forget();
                }
                slots
            }
            _ => now,
        }
    }

    /// Lets the browser resolve `host` (a target's); every host not allowed fails to resolve.
    pub fn allow_host(&self, host: &str) {
        self.allowed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(host.to_ascii_lowercase());
    }

    fn rules(&self) -> String {
        let allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        resolver_rules(allowed.iter().map(String::as_str))
    }

    /// Starts (or attaches to) the driver now, so a missing browser is reported at once.
    pub async fn driver(&self) -> Result<Arc<Driver>, BrowserError> {
        self.driver
            .get_or_try_init(|| async {
                Driver::start(self.webdriver_url.as_ref())
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// A fresh browser. A failed start is retried once (infrastructure, not a verdict).
    pub async fn session(
        &self,
        accept_insecure_certs: bool,
    ) -> Result<BrowserSession, BrowserError> {
        self.session_with(accept_insecure_certs, false).await
    }

    /// As [`Self::session`]; `priority` takes one of the few extra sessions when the pool is full.
    pub async fn session_with(
        &self,
        accept_insecure_certs: bool,
        priority: bool,
    ) -> Result<BrowserSession, BrowserError> {
        let driver = self.driver().await?;
        let extra = if priority {
            self.priority.clone().try_acquire_owned().ok()
        } else {
            None
        };
        let permit = match extra {
            Some(p) => p,
            None => self
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| BrowserError::Session("browser pool closed".into()))?,
        };
        let mut last = String::new();
        for attempt in 0..2 {
            match new_client(&driver, accept_insecure_certs, &self.rules()).await {
                Ok((client, pid)) => return Ok(BrowserSession::new(client, pid, permit)),
                Err(e) => last = e,
            }
            if attempt == 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Err(BrowserError::Session(format!(
            "{last}\nchromedriver log:\n{}",
            driver.log_tail()
        )))
    }

    /// Stops the driver; sessions must be closed (or dropped) first.
    pub fn shutdown(&self) {
        if let Some(d) = self.driver.get() {
            d.stop();
        }
        cleanup::kill_all();
    }
}

/// The WebDriver connection: plain HTTP to chromedriver, or HTTPS to a Grid, with the
/// process's one crypto provider.
fn webdriver_connector()
-> Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, String>
{
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::crypto::platform_tls()?)
        .https_or_http()
        .enable_http1()
        .build())
}

async fn new_client(
    driver: &Driver,
    insecure: bool,
    rules: &str,
) -> Result<(fantoccini::Client, Option<u32>), String> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--host-resolver-rules={rules}"));
    let mut chrome = json!({ "args": args });
    if let Some(bin) = &driver.browser_binary {
        chrome["binary"] = json!(bin.display().to_string());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("acceptInsecureCerts".into(), json!(insecure));
    caps.insert("pageLoadStrategy".into(), json!("normal"));
    caps.insert("goog:chromeOptions".into(), chrome);
    // What the browser loaded and sent, for the mixed-content and token-in-URL checks.
    caps.insert("goog:loggingPrefs".into(), log::logging_prefs());
    let connect = async {
        fantoccini::ClientBuilder::new(webdriver_connector()?)
            .capabilities(caps)
            .connect(driver.url.as_str())
            .await
            .map_err(|e| e.to_string())
    };
    let client = tokio::time::timeout(Duration::from_secs(30), connect)
        .await
        .map_err(|_| "no session within 30 s".to_string())??;
    let pid = if driver.managed() {
        client
            .capabilities()
            .and_then(|c| c.get("goog:processID"))
            .and_then(serde_json::Value::as_u64)
            .map(|p| p as u32)
    } else {
        None
    };
    Ok((client, pid))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_targets_resolve() {
        assert_eq!(
            super::resolver_rules([
                "chat.example.com",
                "rocketchat.test",
                "[::1]",
                "chat.example.com"
            ]),
            "MAP *.test 127.0.0.1, EXCLUDE chat.example.com, EXCLUDE ::1, MAP * ~NOTFOUND"
        );
    }
}
