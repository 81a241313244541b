//! chromedriver: found on the machine and started here, or an existing endpoint
//! given by `WEBDRIVER_URL`.

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use url::Url;

use super::BrowserError;
use super::cleanup;

const INSTALL_HINT: &str = "install Debian's chromium and chromium-driver \
    (sudo apt-get install -y chromium chromium-driver), or set WEBDRIVER_URL to a running WebDriver";

/// A WebDriver endpoint, and the chromedriver process if we started it.
pub struct Driver {
    pub url: Url,
    /// The browser binary to ask for (a pdeathsig wrapper around Chromium) when local.
    pub browser_binary: Option<PathBuf>,
    child: Mutex<Option<Child>>,
    log: Option<PathBuf>,
    workdir: Option<PathBuf>,
}

impl Driver {
    pub fn managed(&self) -> bool {
        self.child.lock().map(|c| c.is_some()).unwrap_or(false)
    }

    /// Attaches to `webdriver_url`, or finds and starts chromedriver.
    pub async fn start(webdriver_url: Option<&Url>) -> Result<Self, BrowserError> {
        if let Some(url) = webdriver_url {
            wait_ready(url, Duration::from_secs(5)).await.map_err(|detail| BrowserError::DriverStart(format!(
                "WEBDRIVER_URL {url} is not a ready WebDriver endpoint ({detail}); start it or unset WEBDRIVER_URL"
            )))?;
            return Ok(Self {
                url: url.clone(),
                browser_binary: None,
                child: Mutex::new(None),
                log: None,
                workdir: None,
            });
        }
        let chromedriver = find_binary(
            "CHROMEDRIVER",
            &["chromedriver"],
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        )
        .ok_or_else(|| {
            BrowserError::NotInstalled(format!("chromedriver not found: {INSTALL_HINT}"))
        })?;
        let chromium = find_binary(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
            &["/usr/bin/chromium"],
        )
        .ok_or_else(|| BrowserError::NotInstalled(format!("chromium not found: {INSTALL_HINT}")))?;
        let workdir = std::env::temp_dir().join(format!("sessiondrill-{}", std::process::id()));
        std::fs::create_dir_all(&workdir).map_err(|e| {
            BrowserError::DriverStart(format!("cannot create {}: {e}", workdir.display()))
        })?;
        let browser_binary = Some(pdeathsig_wrapper(&workdir, &chromium).unwrap_or(chromium));
        let port = crate::loopback::free_port()
            .map_err(|e| BrowserError::DriverStart(format!("no free port: {e}")))?;
        let log = workdir.join("chromedriver.log");
        let log_file =
            std::fs::File::create(&log).map_err(|e| BrowserError::DriverStart(e.to_string()))?;
        let mut cmd = Command::new(&chromedriver);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .map_err(|e| BrowserError::DriverStart(e.to_string()))?,
            )
            .stderr(log_file);
        // SAFETY: prctl in the forked child before exec; async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        let child = spawn_from_launcher(cmd).map_err(|e| {
            BrowserError::DriverStart(format!("cannot start {}: {e}", chromedriver.display()))
        })?;
        cleanup::register_driver(child.id());
        let url = Url::parse(&format!("http://127.0.0.1:{port}/"))
            .map_err(|e| BrowserError::DriverStart(e.to_string()))?;
        let driver = Self {
            url,
            browser_binary,
            child: Mutex::new(Some(child)),
            log: Some(log),
            workdir: Some(workdir),
        };
        if let Err(detail) = wait_ready(&driver.url, Duration::from_secs(10)).await {
            let tail = driver.log_tail();
            driver.stop();
            return Err(BrowserError::DriverStart(format!(
                "chromedriver did not become ready within 10 s ({detail}). Its log ends:\n{tail}"
            )));
        }
        Ok(driver)
    }

    pub fn log_tail(&self) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(path) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }

    /// Kills chromedriver (browsers must be closed or killed before) and reaps it.
    pub fn stop(&self) {
        let child = self.child.lock().ok().and_then(|mut c| c.take());
        if let Some(mut child) = child {
            let pid = child.id();
            let _ = child.kill();
            let _ = child.wait();
            cleanup::forget_driver(pid);
        }
        cleanup::reap_orphans();
        if let Some(dir) = &self.workdir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so
/// chromedriver is spawned from one thread that lives as long as the process.
fn spawn_from_launcher(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static LAUNCHER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let launcher = LAUNCHER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let _ = std::thread::Builder::new()
            .name("sessiondrill-launcher".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    launcher
        .lock()
        .map_err(|_| std::io::Error::other("launcher poisoned"))?
        .send((cmd, reply_tx))
        .map_err(|_| std::io::Error::other("launcher thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("launcher thread is gone"))?
}

/// A script that execs Chromium with PR_SET_PDEATHSIG, so it dies with chromedriver.
fn pdeathsig_wrapper(dir: &Path, chromium: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let setpriv = find_binary("", &["setpriv"], &["/usr/bin/setpriv"])?;
    let path = dir.join("chromium-pdeathsig");
    let script = format!(
        "#!/bin/sh\nexec '{}' --pdeathsig KILL '{}' \"$@\"\n",
        setpriv.display(),
        chromium.display()
    );
    std::fs::write(&path, script).ok()?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).ok()?;
    Some(path)
}

fn find_binary(env_var: &str, names: &[&str], fallbacks: &[&str]) -> Option<PathBuf> {
    if !env_var.is_empty()
        && let Some(p) = std::env::var_os(env_var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
    {
        return Some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    fallbacks.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// The number of browser sessions a Selenium Grid offers (its nodes' slots), from its
/// `/status`; `None` for a plain chromedriver or an unreadable answer.
pub async fn grid_slots(url: &Url) -> Option<usize> {
    let v = read_status(&status_client(Duration::from_secs(5)).ok()?, url)
        .await
        .ok()?;
    let nodes = v.pointer("/value/nodes")?.as_array()?;
    Some(
        nodes
            .iter()
            .filter(|n| n.get("availability").and_then(|a| a.as_str()) != Some("DOWN"))
            .filter_map(|n| n.get("slots")?.as_array().map(Vec::len))
            .sum(),
    )
    .filter(|n| *n > 0)
}

fn status_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::crypto::http_client()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// The WebDriver endpoint's `GET /status` answer (chromedriver's or a Grid hub's).
async fn read_status(client: &reqwest::Client, url: &Url) -> Result<serde_json::Value, String> {
    let status = url.join("status").map_err(|e| e.to_string())?;
    client
        .get(status)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

async fn wait_ready(url: &Url, within: Duration) -> Result<(), String> {
    let client = status_client(Duration::from_secs(2))?;
    let started = Instant::now();
    let mut last = String::from("no answer");
    while started.elapsed() < within {
        match read_status(&client, url).await {
            Ok(v)
                if v.pointer("/value/ready")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true) =>
            {
                return Ok(());
            }
            Ok(v) => last = format!("not ready: {v}"),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last)
}
