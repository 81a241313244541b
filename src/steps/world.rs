//! The per-scenario state. Small on purpose: the target it runs against, the
//! browser, captured sessions by role, and the evidence gathered so far.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

use super::context::{RunContext, SharedObservation, TargetRuntime};
use crate::apps::{Adapter, AppId, RealtimeLink, Target, UiSignIn};
use crate::browser::{BrowserError, BrowserSession};
use crate::duration::human;
use crate::model::{Baseline, Channel, Credential, Observation};
use crate::probe::ProbeError;
use crate::secret::Secret;

/// Why a step did not pass: a security finding, trouble that says nothing about
/// security, or nothing there to judge (which says what was looked for, and where).
#[derive(Debug, Clone)]
pub enum Failure {
    Finding(String),
    Infra(String),
    NotApplicable(String),
}

impl Failure {
    /// The refusal could not be judged: the credential was never shown to work over `channel`.
    pub fn no_baseline(channel: &str, detail: &str) -> Self {
        Failure::Infra(format!(
            "no baseline: the credential was never shown to work over {channel} ({detail}); \
             a refusal now proves nothing"
        ))
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Infra(format!("{e:#}"))
    }
}

impl From<BrowserError> for Failure {
    fn from(e: BrowserError) -> Self {
        Failure::Infra(e.to_string())
    }
}

impl From<ProbeError> for Failure {
    fn from(e: ProbeError) -> Self {
        Failure::Infra(e.to_string())
    }
}

pub type StepResult = Result<(), Failure>;

/// What kind of verdict a stopped step carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    Finding,
    Error,
    NotApplicable,
}

/// The panic payload a failed step carries to the report writer.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub kind: StopKind,
    pub message: String,
}

/// The outcome of keeping a session in use.
#[derive(Debug, Clone, Copy)]
pub struct Activity {
    pub rejected_after: Option<Duration>,
    pub used_for: Duration,
    pub interval: Duration,
    pub deadline: Duration,
}

/// Held for its lifetime only: dropping it releases the account to other scenarios.
#[allow(dead_code)]
enum AccountGuard {
    Shared(OwnedRwLockReadGuard<()>),
    Exclusive(OwnedRwLockWriteGuard<()>),
}

#[derive(Default)]
pub struct World {
    ctx: Option<Arc<RunContext>>,
    rt: Option<Arc<TargetRuntime>>,
    pub key: (String, usize),
    pub scenario: String,
    /// `check (app)`, how progress names this scenario's waits.
    pub label: String,
    /// The scenario waits: its browser does not queue behind others.
    pub priority: bool,
    pub browser: Option<BrowserSession>,
    /// Captured sessions by role: `browser`, `api`, `second`, `sign-in 1`, ...
    pub sessions: BTreeMap<String, Credential>,
    pub realtime: BTreeMap<String, Box<dyn RealtimeLink>>,
    pub last_observation: Option<Observation>,
    /// What the browser held on the login page, before signing in.
    pub before_sign_in: Option<Observation>,
    pub shared: Option<SharedObservation>,
    pub ui_outcome: Option<UiSignIn>,
    /// Says what the last wait did, for the messages of the steps after it.
    pub context_note: Option<String>,
    pub activity: Option<Activity>,
    pub planted: Option<Secret>,
    /// The session id the login page issued before sign-in, once judged replaced.
    pub issued: Option<Secret>,
    pub restore_id: Option<u64>,
    /// A deactivation to undo at the scenario's end.
    pub reactivate_id: Option<u64>,
    /// What signing in past the account's session limit did.
    pub limit: Option<super::limited::LimitOutcome>,
    /// Password changes sent with a wrong or no current password: the session that sent
    /// them, the new password they carried, and the answers.
    pub wrong_changes: Option<(String, Secret, Vec<crate::model::ChangeAttempt>)>,
    pub evidence: Vec<String>,
    /// Lines reported while a step could only borrow the world (throttle waits).
    reported: std::cell::RefCell<Vec<String>>,
    /// Sessions this scenario created, signed out at its end (no litter on staging).
    pub created: Vec<Credential>,
    guard: Option<AccountGuard>,
    /// Fresh tokens collected for the strength analysis (never printed).
    pub tokens: Vec<String>,
    /// The wrong-password run of a brute-force scenario, while its block may last.
    pub brute: Option<super::blocked::BruteForce>,
    /// What the browser recorded (its performance and console logs), read so far.
    pub recorded: crate::browser::log::Recorded,
    /// Channels this scenario's refusal steps judge: each captured session gets a baseline on them.
    pub needs: std::collections::BTreeSet<Channel>,
    /// Shared guard of an ordinary scenario: heavy steps wait until none is held.
    ordinary: Option<tokio::sync::RwLockReadGuard<'static, ()>>,
    /// Holds the account alone (a password change): others wait, so it does not queue for browsers.
    exclusive: bool,
    /// Watches the account's session cap while the scenario waits on its session.
    watch: Option<super::budget::Watch>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "World({}, {} sessions)",
            self.scenario,
            self.sessions.len()
        )
    }
}

impl cucumber::World for World {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(Self::default())
    }
}

impl World {
    /// Binds the scenario to its run and target; takes the account lock.
    pub async fn begin(
        &mut self,
        ctx: Arc<RunContext>,
        app: AppId,
        key: (String, usize),
        scenario: String,
        exclusive: bool,
        needs: std::collections::BTreeSet<Channel>,
    ) {
        let rt = ctx.target(app);
        if let Some(rt) = &rt {
            let lock = rt.account.clone();
            self.guard = Some(if exclusive {
                AccountGuard::Exclusive(lock.write_owned().await)
            } else {
                AccountGuard::Shared(lock.read_owned().await)
            });
        }
        self.exclusive = exclusive;
        self.needs = needs;
        self.ctx = Some(ctx);
        self.rt = rt;
        self.key = key;
        self.scenario = scenario;
    }

    /// For a scenario that waits on its session: other scenarios' sign-ins must not push
    /// it out under the application's session cap (`budget`).
    pub fn watch_account(&mut self) {
        self.watch = self.rt.as_ref().and_then(|rt| rt.budget.watch());
    }

    /// This scenario's watch of the account, if it waits on its session.
    pub fn watch_id(&self) -> Option<u64> {
        self.watch.as_ref().map(|w| w.id)
    }

    pub fn hold_ordinary(&mut self, guard: tokio::sync::RwLockReadGuard<'static, ()>) {
        self.ordinary = Some(guard);
    }

    pub fn ctx(&self) -> Result<&Arc<RunContext>, Failure> {
        self.ctx
            .as_ref()
            .ok_or_else(|| Failure::Infra("scenario is not bound to a run".into()))
    }

    pub fn rt(&self) -> Result<&Arc<TargetRuntime>, Failure> {
        self.rt.as_ref().ok_or_else(|| {
            Failure::Infra("no target is configured for this scenario's application".into())
        })
    }

    pub fn target(&self) -> Result<&Target, Failure> {
        Ok(&self.rt()?.target)
    }

    pub fn adapter(&self) -> Result<Arc<dyn Adapter>, Failure> {
        Ok(self.rt()?.adapter.clone())
    }

    /// Reports progress (printed now) that also becomes evidence.
    pub fn report(&self, line: &str) {
        if let Some(c) = &self.ctx {
            c.progress(line);
        }
        self.reported.borrow_mut().push(line.to_string());
    }

    /// Adds a line of evidence, with every known secret masked.
    pub fn note(&mut self, line: impl AsRef<str>) {
        self.flush_reported();
        self.push_masked(line.as_ref());
    }

    fn flush_reported(&mut self) {
        let reported: Vec<String> = self.reported.borrow_mut().drain(..).collect();
        for r in reported {
            self.push_masked(&r);
        }
    }

    fn push_masked(&mut self, line: &str) {
        let line = match &self.ctx {
            Some(c) => c.masker.scrub(line),
            None => line.to_string(),
        };
        self.evidence.push(line);
    }

    pub async fn open_browser(&mut self) -> StepResult {
        if let Some(old) = self.browser.take() {
            old.close().await;
        }
        self.recorded = Default::default();
        let insecure = self.target()?.config.insecure_tls;
        let b = self
            .ctx()?
            .browsers
            .session_with(insecure, self.exclusive || self.priority)
            .await?;
        self.browser = Some(b);
        Ok(())
    }

    pub async fn ensure_browser(&mut self) -> StepResult {
        if self.browser.is_none() {
            self.open_browser().await?;
        }
        Ok(())
    }

    pub fn browser(&self) -> Result<&BrowserSession, Failure> {
        self.browser.as_ref().ok_or_else(|| {
            Failure::Infra("no browser: start the scenario with \"Given a fresh browser\"".into())
        })
    }

    /// A captured session by role (`browser`, `API`, `second`, ...).
    pub fn session(&self, role: &str) -> Result<&Credential, Failure> {
        self.sessions.get(&role_key(role)).ok_or_else(|| {
            Failure::Infra(format!("no {role} session was captured by an earlier step"))
        })
    }

    pub fn keep_session(&mut self, role: &str, cred: Credential) {
        self.created.push(cred.clone());
        self.sessions.insert(role_key(role), cred);
    }

    /// Keeps a captured session after taking its positive controls: one use over each
    /// channel a later refusal step of this scenario judges. A refusal counts only
    /// against an accepted baseline; a failed control is recorded, not raised, so the
    /// refusal step can say why it cannot judge.
    pub async fn capture_session(&mut self, role: &str, mut cred: Credential) -> StepResult {
        let (t, a) = (self.rt()?.clone(), self.adapter()?);
        for channel in self.needs.clone() {
            let at = chrono::Utc::now();
            let outcome = match channel {
                Channel::Api => a.accepts(&t.target, &cred).await.map(|r| vec![r]),
                Channel::Realtime => a.realtime_accepts(&t.target, &cred).await.map(|r| vec![r]),
                Channel::LongLived => a
                    .long_lived_accepts(&t.target, &cred)
                    .await
                    .map(|v| v.into_iter().map(|(_, r)| r).collect()),
            };
            let baseline = match outcome {
                // Nothing handed out over this channel: the step will say so.
                Ok(v) if v.is_empty() => continue,
                Ok(v) if v.iter().all(|r| r.accepted) => Baseline::Accepted {
                    at,
                    evidence: v
                        .iter()
                        .map(|r| r.evidence.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                },
                Ok(v) => Baseline::Refused {
                    evidence: v
                        .iter()
                        .filter(|r| !r.accepted)
                        .map(|r| r.evidence.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                },
                Err(e) => Baseline::Trouble {
                    error: format!("{e:#}"),
                },
            };
            let line = match &baseline {
                Baseline::Accepted { evidence, .. } => {
                    format!(
                        "control: the {role} session is accepted over {}: {evidence}",
                        channel.describe()
                    )
                }
                Baseline::Refused { evidence } => format!(
                    "control: the {role} session is already refused over {} when captured: {evidence}",
                    channel.describe()
                ),
                Baseline::Trouble { error } => format!(
                    "control: could not use the {role} session over {}: {error}",
                    channel.describe()
                ),
            };
            self.note(line);
            cred.baselines.insert(channel, baseline);
        }
        self.keep_session(role, cred);
        Ok(())
    }

    /// A refusal of the `role` session (or its credential gone from the browser) seen at
    /// `at` proves what its step claims (sign-out, password change, idleness) only while
    /// neither the expected maximum lifetime nor the expiry the application advertised for
    /// the credential can explain it; later, it cannot be judged. Matters on slow runs
    /// against short, time-scaled lifetimes, and on applications whose own lifetime is
    /// shorter than the policy's.
    pub fn within_lifetime(&self, role: &str, at: chrono::DateTime<chrono::Utc>) -> StepResult {
        let max = self.target()?.config.expect.max_lifetime;
        let cred = self.session(role)?;
        if let Some(why) = &cred.expiry_unread {
            return Err(Failure::Infra(format!(
                "the expiry the application advertised for the {role} session cannot be read ({why}): \
                 it could explain this refusal, so nothing is judged; fix credential.expiry in the profile"
            )));
        }
        let by_policy = chrono::Duration::from_std(max)
            .ok()
            .and_then(|d| cred.obtained_at.checked_add_signed(d));
        if let Some(until) = by_policy
            && at > until
        {
            return Err(Failure::Infra(format!(
                "the {role} session was judged {} after its expected maximum lifetime ({}) could have ended it: \
                 the outcome cannot be told from the absolute timeout (the run was too slow to judge it)",
                human((at - until).to_std().unwrap_or_default()),
                human(max)
            )));
        }
        if let Some(until) = cred.expires_at
            && at > until
        {
            return Err(Failure::Infra(format!(
                "the {role} session was judged {} after the expiry the application advertised for it \
                 ({}): the outcome cannot be told from that expiry",
                human((at - until).to_std().unwrap_or_default()),
                until.to_rfc3339()
            )));
        }
        Ok(())
    }

    /// The accepted control use a refusal over `channel` rests on, or ERROR without one.
    pub fn baseline_of(&self, role: &str, channel: Channel) -> Result<String, Failure> {
        self.session(role)?
            .baseline(channel)
            .map_err(|why| Failure::no_baseline(channel.describe(), &why))
    }

    /// " (after 5s idle ...)" for messages, when a wait preceded.
    pub fn context_suffix(&self) -> String {
        self.context_note
            .as_ref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    }

    /// Sleeps for a wait the check requires, reporting progress on long ones.
    pub async fn wait(&self, total: Duration, why: &str) -> StepResult {
        let ctx = self.ctx()?;
        ctx.progress(&format!(
            "{}: waiting {} ({why})",
            self.scenario,
            human(total)
        ));
        let _shown = ctx.waits.start(&self.label, total);
        let started = tokio::time::Instant::now();
        let end = started + total;
        while tokio::time::Instant::now() < end {
            let left = end - tokio::time::Instant::now();
            tokio::time::sleep(left.min(Duration::from_secs(60))).await;
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            if !left.is_zero() {
                ctx.progress(&format!("{}: {} left", self.scenario, human(left)));
            }
        }
        Ok(())
    }

    /// Ends the scenario: undo password changes, screenshot a failure, close
    /// browsers and sockets, sign out what it created, and hand over the evidence.
    pub async fn finish(&mut self, failed: bool) {
        let Some(ctx) = self.ctx.clone() else { return };
        if let Some(id) = self.reactivate_id.take()
            && let Some(pending) = ctx.reactivations.take(id)
        {
            match ctx.reactivate(&pending).await {
                Ok(what) => self.note(what),
                Err(what) => {
                    ctx.progress(&what);
                    ctx.restorations.record_failure(&what);
                    self.note(format!("{}{what}", super::context::RESTORE_FAILED));
                }
            }
        }
        if let Some(id) = self.restore_id.take()
            && let Some(pending) = ctx.restorations.take(id)
        {
            match ctx.restore(&pending).await {
                Ok(what) => self.note(what),
                Err(what) => {
                    // The scenario's verdict is not final: it ends in ERROR, and the run says why.
                    ctx.progress(&what);
                    ctx.restorations.record_failure(&what);
                    self.note(format!("{}{what}", super::context::RESTORE_FAILED));
                }
            }
        }
        // The account must be usable by the scenarios after this one, even after a finding.
        if let Some(b) = self.brute.take()
            && b.blocked_at.is_some()
            && let Some(rt) = &self.rt
        {
            let left = b
                .usable_at(rt.target.config.expect.grace)
                .saturating_duration_since(std::time::Instant::now());
            if !left.is_zero() {
                ctx.progress(&format!(
                    "{}: waiting {} for the sign-in block to pass",
                    self.scenario,
                    human(left)
                ));
                let _shown = ctx.waits.start(&self.label, left);
                tokio::time::sleep(left).await;
                self.note(format!(
                    "waited {} for the sign-in block to pass, so the account is usable again",
                    human(left)
                ));
            }
        }
        let mut extras = super::context::ScenarioExtras {
            cookies: self.cookies_seen(),
            ..Default::default()
        };
        if failed && let Some(b) = &self.browser {
            let stem = format!("{}-{}", self.key.1, slug(&self.scenario));
            let path = ctx.out_dir.join("screenshots").join(format!("{stem}.png"));
            if b.screenshot(&path).await.is_ok() {
                extras.screenshot = Some(path);
            }
            // The page as the browser had it, every known secret masked: what a selector
            // setting has to match when the page changed.
            if let Ok(html) = b.page_source().await {
                let path = ctx.out_dir.join("screenshots").join(format!("{stem}.html"));
                if std::fs::write(&path, ctx.masker.scrub(&html)).is_ok() {
                    self.note(format!("page HTML (secrets masked): {}", path.display()));
                    extras.page_html = Some(path);
                }
            }
        }
        ctx.extras
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.key.clone(), extras);
        for (_, link) in std::mem::take(&mut self.realtime) {
            link.close().await;
        }
        if let Some(b) = self.browser.take() {
            b.close().await;
        }
        if let Some(rt) = self.rt.clone() {
            for cred in std::mem::take(&mut self.created) {
                let _ = rt.adapter.sign_out_api(&rt.target, &cred).await;
            }
        }
        self.flush_reported();
        let evidence = std::mem::take(&mut self.evidence);
        ctx.evidence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.key.clone(), evidence);
        self.guard = None;
        self.ordinary = None;
        self.watch = None;
    }

    /// The cookies of the scenario's last look at a browser (its own, or the shared one), values masked.
    fn cookies_seen(&self) -> Vec<crate::model::CookieSeen> {
        self.last_observation
            .as_ref()
            .or(self.shared.as_ref().map(|s| &s.observation))
            .map(|obs| obs.cookies.iter().map(|c| c.seen()).collect())
            .unwrap_or_default()
    }

    /// Turns a step's result into cucumber's pass/fail (a panic carrying [`StepFailure`]).
    pub fn conclude(&mut self, result: StepResult) {
        let (kind, message) = match result {
            Ok(()) => return,
            Err(Failure::Finding(m)) => (StopKind::Finding, m),
            Err(Failure::Infra(m)) => (StopKind::Error, m),
            Err(Failure::NotApplicable(m)) => (StopKind::NotApplicable, m),
        };
        let message = match &self.ctx {
            Some(c) => c.masker.scrub(&message),
            None => message,
        };
        std::panic::panic_any(StepFailure { kind, message });
    }
}

pub fn role_key(role: &str) -> String {
    role.trim().to_ascii_lowercase()
}

/// `Session cookies are Secure (rocketchat)` → `session-cookies-are-secure-rocketchat`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}
