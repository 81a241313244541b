//! What every scenario of one run shares: the targets with their adapters, the
//! browser pool, the account lock, observations made once per run, and password
//! changes still to be undone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, RwLock};

use crate::apps::{Adapter, ApiSignIn, AppId, Target, UiSignIn};
use crate::browser::{BrowserSession, Browsers};
use crate::duration::human;
use crate::model::{Credential, Observation};
use crate::secret::{Masker, Secret};

/// A browser session signed in through the login page and observed once, for the
/// checks that only read its cookies and storage (saves sign-ins on throttled apps).
#[derive(Clone, Debug)]
pub struct SharedObservation {
    pub observation: Observation,
    pub credential: Credential,
    pub evidence: Vec<String>,
}

pub struct TargetRuntime {
    pub target: Target,
    pub adapter: Arc<dyn Adapter>,
    /// Scenarios share the account; one that changes it (a password change ends
    /// every other session) takes this for writing and runs alone.
    pub account: Arc<RwLock<()>>,
    pub observed: OnceCell<Result<SharedObservation, String>>,
    /// The application's cap on sessions per account, kept by the suite's sign-ins.
    pub budget: Arc<super::budget::SessionBudget>,
}

impl TargetRuntime {
    pub fn new(target: Target, adapter: Arc<dyn Adapter>) -> Self {
        let cap = target
            .config
            .hardening
            .sessions_per_account
            .or(adapter.sessions_per_account());
        Self {
            budget: super::budget::SessionBudget::new(cap),
            target,
            adapter,
            account: Arc::new(RwLock::new(())),
            observed: OnceCell::new(),
        }
    }

    pub fn app(&self) -> AppId {
        self.target.app()
    }

    /// How long to wait out the application's sign-in throttle before giving up.
    fn throttle_limit(&self) -> Duration {
        self.adapter
            .sign_in_throttle()
            .map(|(_, period)| period + Duration::from_secs(30))
            .unwrap_or(Duration::from_secs(60))
    }

    fn throttle_advice(&self, waited: Duration, evidence: &str) -> String {
        let limit = match self.adapter.sign_in_throttle() {
            Some((n, period)) => format!(
                " ({} allows {n} sign-ins per {} per address)",
                self.app().name(),
                human(period)
            ),
            None => String::new(),
        };
        format!(
            "{} still throttles sign-ins after waiting {}{limit}: {evidence}. On a test deployment exempt the \
             suite's address (Chatwoot: RACK_ATTACK_ALLOWED_IPS, or ENABLE_RACK_ATTACK=false)",
            self.app().name(),
            human(waited)
        )
    }

    /// Runs `attempt` until it is not throttled (`Ok(Err(evidence))` means throttled),
    /// backing off, for at most the application's throttle window: a throttled sign-in is
    /// infrastructure, so retrying it cannot change a verdict.
    async fn waiting_out_throttle<T>(
        &self,
        progress: &dyn Fn(&str),
        mut attempt: impl AsyncFnMut() -> anyhow::Result<Result<T, String>>,
    ) -> anyhow::Result<T> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_secs(1);
        loop {
            match attempt().await? {
                Ok(done) => return Ok(done),
                Err(evidence) if started.elapsed() + pause <= self.throttle_limit() => {
                    progress(&format!(
                        "{} throttles sign-ins; retrying in {} ({evidence})",
                        self.app().name(),
                        human(pause)
                    ));
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(15));
                }
                Err(evidence) => anyhow::bail!(self.throttle_advice(started.elapsed(), &evidence)),
            }
        }
    }

    /// Admits one sign-in under the application's session cap (`me`: the calling
    /// scenario's watch), saying so when it had to wait.
    async fn admit(&self, me: Option<u64>, progress: &dyn Fn(&str)) {
        if self.budget.admit(me).await {
            progress(&format!(
                "a sign-in waited for a scenario that waits on its session: {} keeps {} sessions per account",
                self.app().name(),
                self.budget.cap().unwrap_or_default()
            ));
        }
    }

    /// Signs in through the API as the configured account with `password`, waiting out a
    /// sign-in throttle and, under a session cap, for scenarios waiting on their sessions.
    pub async fn api_sign_in(
        &self,
        me: Option<u64>,
        password: &Secret,
        progress: &dyn Fn(&str),
    ) -> anyhow::Result<ApiSignIn> {
        self.admit(me, progress).await;
        let t = &self.target;
        self.waiting_out_throttle(progress, async || {
            // The server's clock for this session starts when the request is sent, not
            // when its answer is read: lifetimes are reckoned from here (conservative).
            let sent = chrono::Utc::now();
            Ok(
                match self
                    .adapter
                    .sign_in_api(t, &t.config.account.login, password)
                    .await
                    .map(|r| match r {
                        ApiSignIn::SignedIn(mut c) => {
                            c.obtained_at = sent;
                            ApiSignIn::SignedIn(c)
                        }
                        other => other,
                    })? {
                    ApiSignIn::Throttled { evidence } => Err(evidence),
                    other => Ok(other),
                },
            )
        })
        .await
    }

    /// Signs in through the login page as the configured account with `password`, waiting out a sign-in throttle.
    pub async fn ui_sign_in(
        &self,
        me: Option<u64>,
        b: &BrowserSession,
        password: &Secret,
        progress: &dyn Fn(&str),
    ) -> anyhow::Result<UiSignIn> {
        self.admit(me, progress).await;
        let t = &self.target;
        self.waiting_out_throttle(progress, async || {
            Ok(
                match self
                    .adapter
                    .sign_in_ui(t, b, &t.config.account.login, password)
                    .await?
                {
                    UiSignIn::Throttled { shown } => Err(shown),
                    other => Ok(other),
                },
            )
        })
        .await
    }

    /// The shared observation, made by the first scenario that asks for it.
    pub async fn observation(
        &self,
        browsers: &Browsers,
        progress: &dyn Fn(&str),
    ) -> Result<SharedObservation, String> {
        self.observed
            .get_or_init(|| async {
                self.observe_once(browsers, progress)
                    .await
                    .map_err(|e| format!("{e:#}"))
            })
            .await
            .clone()
    }

    async fn observe_once(
        &self,
        browsers: &Browsers,
        progress: &dyn Fn(&str),
    ) -> anyhow::Result<SharedObservation> {
        let t = &self.target;
        let account = &t.config.account;
        let browser = browsers.session(t.config.insecure_tls).await?;
        let result = async {
            match self
                .ui_sign_in(None, &browser, &account.password, progress)
                .await?
            {
                UiSignIn::SignedIn => {}
                UiSignIn::Rejected { shown } | UiSignIn::Throttled { shown } => {
                    anyhow::bail!(
                        "the login page refused the configured account {} ({shown})",
                        account.login
                    )
                }
                UiSignIn::Silent { waited } => anyhow::bail!(
                    "the login page showed neither the signed-in page nor an error within {} for the configured account {}",
                    crate::duration::human(waited),
                    account.login
                ),
            }
            let observation = browser.observe().await?;
            let (credential, note) =
                crate::apps::live_credential(self.adapter.as_ref(), t, &observation, None)
                    .await?
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "signed in, but no session credential was found ({})",
                            observation.summary()
                        )
                    })?;
            let credential = self.adapter.enrich(t, credential).await?;
            let mut evidence = vec![
                format!(
                    "signed in through {} as {}",
                    self.adapter.login_page(t),
                    account.login
                ),
                format!("browser holds {}", observation.summary()),
                format!("session credential: {credential}"),
            ];
            evidence.extend(note);
            Ok(SharedObservation {
                observation,
                credential,
                evidence,
            })
        }
        .await;
        browser.close().await;
        result
    }
}

/// A password change that must be undone, even if its scenario fails or the run is interrupted.
#[derive(Clone)]
pub struct PendingRestore {
    pub id: u64,
    pub app: AppId,
    pub original: Secret,
    pub temporary: Secret,
    /// The session that made the change, if it still works.
    pub via: Option<Credential>,
}

#[derive(Default)]
pub struct Restorations {
    pending: Mutex<BTreeMap<u64, PendingRestore>>,
    next: Mutex<u64>,
    /// Restores that failed or could not be proven, for the run's report and exit code.
    failed: Mutex<Vec<String>>,
}

/// How a scenario's evidence marks a restore that failed: the scenario is then ERROR.
pub const RESTORE_FAILED: &str = "account not restored: ";

impl Restorations {
    pub fn record_failure(&self, what: &str) {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what.to_string());
    }

    pub fn take_failures(&self) -> Vec<String> {
        std::mem::take(&mut *self.failed.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn register(
        &self,
        app: AppId,
        original: Secret,
        temporary: Secret,
        via: Option<Credential>,
    ) -> u64 {
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        let r = PendingRestore {
            id,
            app,
            original,
            temporary,
            via,
        };
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, r);
        id
    }

    pub fn take(&self, id: u64) -> Option<PendingRestore> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }

    pub fn take_all(&self) -> Vec<PendingRestore> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
            .into_values()
            .collect()
    }
}

/// What a scenario leaves for the evidence report besides its lines.
#[derive(Clone, Debug, Default)]
pub struct ScenarioExtras {
    pub screenshot: Option<PathBuf>,
    pub page_html: Option<PathBuf>,
    pub cookies: Vec<crate::model::CookieSeen>,
}

pub struct RunContext {
    pub targets: BTreeMap<AppId, Arc<TargetRuntime>>,
    pub browsers: Arc<Browsers>,
    pub out_dir: PathBuf,
    pub masker: Masker,
    pub restorations: Restorations,
    /// Deactivated accounts to reactivate.
    pub reactivations: super::reactivations::Reactivations,
    /// Evidence per scenario (feature path, line), written by the after hook.
    pub evidence: Mutex<BTreeMap<(String, usize), Vec<String>>>,
    /// Screenshot, page HTML and cookies per scenario, for the evidence report.
    pub extras: Mutex<BTreeMap<(String, usize), ScenarioExtras>>,
    pub progress: bool,
    /// The waits running now, shown while they run.
    pub waits: Arc<super::waits::Waits>,
}

impl RunContext {
    pub fn target(&self, app: AppId) -> Option<Arc<TargetRuntime>> {
        self.targets.get(&app).cloned()
    }

    /// Prints a progress line for long waits (stderr, so reports on stdout stay clean).
    pub fn progress(&self, line: &str) {
        if self.progress {
            super::waits::clear_status();
            eprintln!("  … {}", self.masker.scrub(line));
        }
    }

    /// Undoes a password change: through the changing session if it still works,
    /// otherwise by signing in with the temporary password; then proves it with a fresh
    /// sign-in with the original password (a restore answered "done" is not a restore).
    /// Returns what happened.
    pub async fn restore(&self, r: &PendingRestore) -> Result<String, String> {
        let Some(rt) = self.target(r.app) else {
            return Err("no such target".into());
        };
        let (t, a) = (&rt.target, &rt.adapter);
        let quiet = |_: &str| {};
        let done = if let Some(via) = &r.via
            && a.change_password(t, via, &r.temporary, &r.original)
                .await
                .is_ok()
        {
            let _ = a.sign_out_api(t, via).await;
            "password restored through the session that changed it"
        } else {
            match rt.api_sign_in(None, &r.temporary, &quiet).await {
                Ok(ApiSignIn::SignedIn(cred)) => {
                    let outcome = a.change_password(t, &cred, &r.temporary, &r.original).await;
                    let _ = a.sign_out_api(t, &cred).await;
                    if let Err(e) = outcome {
                        return Err(self.write_recovery(
                            r,
                            &format!(
                                "{e:#}; an application that keeps a password history refuses an \
                                 earlier password: allow its reuse for the test account, or give \
                                 the suite an account whose password it may change freely"
                            ),
                        ));
                    }
                    "password restored after signing in with the temporary password"
                }
                _ => match rt.api_sign_in(None, &r.original, &quiet).await {
                    // The change never took effect: nothing to undo, and this sign-in proves it.
                    Ok(ApiSignIn::SignedIn(cred)) => {
                        let _ = a.sign_out_api(t, &cred).await;
                        return Ok("the original password still works; nothing to restore".into());
                    }
                    _ => {
                        return Err(self.write_recovery(
                            r,
                            "neither the temporary nor the original password signs in",
                        ));
                    }
                },
            }
        };
        // The positive control of the restore: the original password signs in again.
        match rt.api_sign_in(None, &r.original, &quiet).await {
            Ok(ApiSignIn::SignedIn(cred)) => {
                let _ = a.sign_out_api(t, &cred).await;
                Ok(format!(
                    "{done}; proven by a fresh sign-in with the original password"
                ))
            }
            Ok(ApiSignIn::Rejected { evidence } | ApiSignIn::Throttled { evidence }) => {
                Err(self.write_recovery(
                    r,
                    &format!(
                        "the change back was answered as done, but a fresh sign-in with the original \
                         password is refused ({evidence}); an application that keeps a password \
                         history refuses an earlier password: allow its reuse for the test account, \
                         or give the suite an account whose password it may change freely"
                    ),
                ))
            }
            Err(e) => Err(self.write_recovery(
                r,
                &format!("the fresh sign-in that proves the restore failed: {e:#}"),
            )),
        }
    }

    /// Last resort: the temporary password goes to a private file so the account can be recovered.
    fn write_recovery(&self, r: &PendingRestore, why: &str) -> String {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = self
            .out_dir
            .join(format!("RESTORE-PASSWORD-{}.txt", r.app.tag()));
        let _ = std::fs::create_dir_all(&self.out_dir);
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| {
                writeln!(
                    f,
                    "sessiondrill changed the password of the {} test account and could not change it back ({why}).\n\
                     Sign in with this temporary password and set the original one again, then delete this file:\n{}",
                    r.app.name(),
                    r.temporary.expose()
                )
            });
        match written {
            Ok(()) => format!(
                "COULD NOT RESTORE the {} password ({why}); the temporary password is in {} (mode 0600)",
                r.app.name(),
                path.display()
            ),
            Err(e) => format!(
                "COULD NOT RESTORE the {} password ({why}) nor write {}: {e}",
                r.app.name(),
                path.display()
            ),
        }
    }

    /// Reactivates every deactivated account and restores every pending password change
    /// (end of run, Ctrl-C), within `limit`.
    pub async fn restore_all(&self, limit: Duration) -> Vec<Result<String, String>> {
        let pending = self.restorations.take_all();
        let work = async {
            // An account must be active again before its password can be changed back.
            let mut out = self.reactivate_all().await;
            for r in &pending {
                out.push(self.restore(r).await);
            }
            out
        };
        tokio::time::timeout(limit, work)
            .await
            .unwrap_or_else(|_| vec![Err("timed out restoring passwords".into())])
    }
}
