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
/// no background networking on a closed network, `.test` names on loopback.
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
    "--host-resolver-rules=MAP *.test 127.0.0.1",
    "--window-size=1280,900",
];

/// Starts the driver on first use and hands out sessions, at most `max` at once.
pub struct Browsers {
    webdriver_url: Option<Url>,
    driver: OnceCell<Arc<Driver>>,
    permits: Arc<Semaphore>,
    /// A few extra sessions for scenarios that hold their account exclusively: they are
    /// on every other scenario's critical path, so they do not queue.
    priority: Arc<Semaphore>,
}

impl Browsers {
    pub fn new(webdriver_url: Option<Url>, max: usize) -> Self {
        Self {
            webdriver_url,
            driver: OnceCell::new(),
            permits: Arc::new(Semaphore::new(max.max(1))),
            priority: Arc::new(Semaphore::new(2)),
        }
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
            match new_client(&driver, accept_insecure_certs).await {
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

async fn new_client(
    driver: &Driver,
    insecure: bool,
) -> Result<(fantoccini::Client, Option<u32>), String> {
    let mut chrome = json!({ "args": CHROMIUM_ARGS });
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
        fantoccini::ClientBuilder::rustls()
            .map_err(|e| e.to_string())?
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
