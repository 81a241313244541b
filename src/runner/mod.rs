//! One run of the suite: plan, preflight, execute with cucumber, report.

pub mod plan;
pub mod preflight;
pub mod reference;
pub use crate::steps::{alone, context, waits};
pub mod writer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::event::ScenarioFinished;
use cucumber::{ScenarioType, cli};
use futures::FutureExt as _;

use crate::apps::{self, AppId, Target};
use crate::browser::{Browsers, cleanup};
use crate::config::Config;
use crate::report::{Outcome, RunReport};
use crate::secret::Masker;
use crate::steps;
use context::{RunContext, TargetRuntime};
use plan::{Filters, PlanError, Policy};
use writer::Recorder;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Preflight(String),
    #[error("{0}")]
    Setup(String),
}

pub struct RunOptions {
    pub config: Config,
    pub features: PathBuf,
    pub filters: Filters,
    pub out_dir: PathBuf,
    /// Print a line per scenario and progress on long waits.
    pub progress: bool,
    pub concurrency: Option<usize>,
    pub title: String,
    /// The targets are our own reference targets: slow and destructive scenarios are fine.
    pub reference: bool,
    /// Exit the process on Ctrl-C after cleaning up (binaries, not tests that run several suites).
    pub handle_interrupts: bool,
    /// A browser pool shared with other runs (the self-check); by default the run owns one.
    pub browsers: Option<Arc<Browsers>>,
}

fn tags_of(
    f: &cucumber::gherkin::Feature,
    r: Option<&cucumber::gherkin::Rule>,
    s: &cucumber::gherkin::Scenario,
) -> Vec<String> {
    plan::all_tags(f, r, s)
}

pub async fn run(opts: RunOptions) -> Result<RunReport, RunError> {
    let started = Instant::now();
    quiet_step_panics();
    let profiles: Vec<AppId> = opts
        .config
        .targets
        .iter()
        .map(|t| t.app)
        .filter(|a| matches!(a, AppId::Profile(_)))
        .collect();
    let features = plan::load(&opts.features, &profiles)?;
    plan::validate(&features)?;

    let masker = Masker::new();
    let mut targets = BTreeMap::new();
    let mut policy = Policy {
        allow_slow: opts.config.allow_slow || opts.reference,
        allow_destructive: opts.config.allow_destructive || opts.reference,
        ..Policy::default()
    };
    for app in AppId::ALL.into_iter().chain(profiles.iter().copied()) {
        let Some(tc) = opts.config.target(app) else {
            policy.unavailable.insert(
                app,
                format!(
                    "{} is not configured (set {}_URL and its account)",
                    app.name(),
                    app.env_prefix()
                ),
            );
            continue;
        };
        let Some(adapter) = apps::adapter(app) else {
            policy
                .unavailable
                .insert(app, format!("no {} adapter in this version", app.name()));
            continue;
        };
        let target =
            Target::new(tc.clone(), masker.clone()).map_err(|e| RunError::Setup(e.to_string()))?;
        let slack = tc.expiry_slack.unwrap_or_else(|| adapter.expiry_slack());
        policy.apps.insert(app, (tc.expect, slack));
        targets.insert(app, Arc::new(TargetRuntime::new(target, adapter)));
    }
    let planned = plan::plan(features, &opts.filters, &policy)?;
    targets.retain(|app, _| planned.apps.contains(app));

    let owns_browsers = opts.browsers.is_none();
    let browsers = opts.browsers.clone().unwrap_or_else(|| {
        Arc::new(Browsers::new(
            opts.config.webdriver_url.clone(),
            opts.config.max_browsers,
        ))
    });
    // The browser reaches the targets (and hosts the user allowed), nothing else.
    for rt in targets.values() {
        let t = &rt.target.config;
        for host in [Some(&t.url), t.http_url.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|u| u.host_str())
        {
            browsers.allow_host(host);
        }
    }
    for host in &opts.config.browser_hosts {
        browsers.allow_host(host);
    }
    let checks = targets.values().map(|rt| preflight::target(rt));
    let (target_results, browser_result) =
        futures::join!(futures::future::join_all(checks), async {
            if planned.needs_browser {
                preflight::browser(&browsers).await
            } else {
                Ok(())
            }
        });
    let problems: Vec<String> = target_results
        .into_iter()
        .filter_map(Result::err)
        .chain(browser_result.err())
        .collect();
    if !problems.is_empty() {
        if owns_browsers {
            browsers.shutdown();
        }
        return Err(RunError::Preflight(problems.join("\n")));
    }

    if planned.needs_browser && owns_browsers {
        let n = browsers.fit_capacity(opts.config.max_browsers_set).await;
        if opts.progress && opts.config.webdriver_url.is_some() {
            println!(
                "WebDriver {}: {n} browser sessions at once",
                opts.config
                    .webdriver_url
                    .as_ref()
                    .map(|u| u.as_str())
                    .unwrap_or_default()
            );
        }
    }
    let ctx = Arc::new(RunContext {
        targets,
        browsers,
        out_dir: opts.out_dir.clone(),
        masker: masker.clone(),
        restorations: Default::default(),
        reactivations: Default::default(),
        evidence: Mutex::new(BTreeMap::new()),
        extras: Mutex::new(BTreeMap::new()),
        progress: opts.progress,
        waits: Default::default(),
    });
    // Stopped when the run ends (dropped with this handle's abort below).
    let watcher = opts
        .progress
        .then(|| tokio::spawn(ctx.waits.clone().watch(Duration::from_secs(60))));
    if opts.progress {
        for rt in ctx.targets.values() {
            let t = &rt.target.config;
            println!(
                "{}: {}{} — expecting idle timeout {}, maximum lifetime {}, grace {}",
                rt.app().name(),
                t.url,
                t.description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                crate::duration::human(t.expect.idle_timeout),
                crate::duration::human(t.expect.max_lifetime),
                crate::duration::human(t.expect.grace),
            );
            if let Some(cap) = rt.budget.cap() {
                println!(
                    "  keeps {cap} sessions per account: while a scenario waits on its session, other sign-ins wait rather than end it"
                );
            }
        }
        println!(
            "{} scenarios to run, {} not run; longest required wait {}, so expect the run to take about that long at least\n",
            planned.to_run,
            planned.not_run.len(),
            crate::duration::human(planned.longest_wait)
        );
    }

    let before_ctx = ctx.clone();
    let runner = cucumber::runner::Basic::<steps::world::World>::default()
        .max_concurrent_scenarios(opts.concurrency.unwrap_or(64))
        // Isolation is per account (the account lock in `World::begin`): a password change
        // must not overlap its own account's scenarios, but may run beside another app's.
        .which_scenario(|_, _, _| ScenarioType::Concurrent)
        .before(move |f, r, s, w| {
            let ctx = before_ctx.clone();
            let tags = tags_of(f, r, s);
            let app = plan::app_of(&tags)
                .first()
                .copied()
                .unwrap_or(AppId::RocketChat);
            let key = (plan::feature_path(f), s.position.line);
            // The account lock follows from the steps, not the tag.
            // A brute force blocks the account: nothing else may use it meanwhile.
            let exclusive = plan::holds_account(f, r, s);
            let heavy = plan::runs_alone(f, r, s);
            let waits = plan::waits(f, r, s);
            let needs = plan::channels_needed(f, r, s);
            let name = s.name.clone();
            let label = format!("{} ({})", plan::check_id(&tags, &s.name), app.tag());
            async move {
                w.begin(ctx, app, key, name, exclusive, needs).await;
                w.label = label;
                w.priority = waits;
                if waits {
                    w.watch_account();
                }
                if !heavy {
                    w.hold_ordinary(alone::ordinary().await);
                }
            }
            .boxed_local()
        })
        .after(move |_f, _r, _s, finished, w| {
            let failed = !matches!(finished, ScenarioFinished::StepPassed);
            async move {
                if let Some(w) = w {
                    w.finish(failed).await;
                }
            }
            .boxed_local()
        })
        .steps(steps::collection());
    let cucumber = cucumber::Cucumber::<_, _, _, _, _, cli::Empty>::custom(
        plan::Preparsed,
        runner,
        Recorder::new(opts.progress, masker.clone()),
    )
    .with_cli(cli::Opts::<_, _, _, cli::Empty>::default());

    let mut execution = Box::pin(cucumber.run(planned.features));
    let recorder = if opts.handle_interrupts {
        tokio::select! {
            r = &mut execution => r,
            () = interrupted() => {
                drop(execution);
                eprintln!("\ninterrupted: restoring changed accounts and closing browsers…");
                for r in ctx.restore_all(Duration::from_secs(20)).await {
                    match r { Ok(m) | Err(m) => eprintln!("  {m}") }
                }
                ctx.browsers.shutdown();
                cleanup::kill_all();
                cleanup::kill_servers();
                std::process::exit(130);
            }
        }
    } else {
        execution.await
    };

    if let Some(w) = watcher {
        w.abort();
        waits::stop_live();
    }
    // The once-per-run browser session is nobody's scenario: sign it out here.
    for rt in ctx.targets.values() {
        if let Some(Ok(shared)) = rt.observed.get() {
            let _ = rt
                .adapter
                .sign_out_api(&rt.target, &shared.credential)
                .await;
        }
    }
    let mut restore_failures: Vec<String> = ctx.restorations.take_failures();
    restore_failures.extend(
        ctx.restore_all(Duration::from_secs(60))
            .await
            .into_iter()
            .filter_map(Result::err),
    );
    if owns_browsers {
        ctx.browsers.shutdown();
    }

    let mut evidence = std::mem::take(&mut *ctx.evidence.lock().unwrap_or_else(|e| e.into_inner()));
    let mut extras = std::mem::take(&mut *ctx.extras.lock().unwrap_or_else(|e| e.into_inner()));
    let mut results: Vec<_> = recorder
        .results
        .into_iter()
        .map(|(key, mut r)| {
            r.evidence = planned.notes.get(&key).cloned().unwrap_or_default();
            r.evidence.extend(evidence.remove(&key).unwrap_or_default());
            // An account the scenario changed and could not give back: its verdict is
            // not final, whatever the steps found.
            if let Some(line) = r
                .evidence
                .iter()
                .find(|e| e.starts_with(context::RESTORE_FAILED))
            {
                r.outcome = Outcome::Error;
                r.message = Some(line.clone());
            }
            let x = extras.remove(&key).unwrap_or_default();
            r.screenshot = x.screenshot;
            r.page_html = x.page_html;
            r.cookies = x.cookies;
            r
        })
        .collect();
    for e in &recorder.parse_errors {
        results.push(crate::report::ScenarioResult {
            outcome: Outcome::Error,
            message: Some(e.clone()),
            ..planned_placeholder()
        });
    }
    results.extend(planned.not_run);
    results.extend(planned.not_applicable);
    Ok(RunReport {
        title: opts.title,
        results,
        wall: started.elapsed(),
        longest_wait: planned.longest_wait,
        restore_failures,
    })
}

fn planned_placeholder() -> crate::report::ScenarioResult {
    crate::report::ScenarioResult {
        app: AppId::RocketChat,
        check: "parse".into(),
        name: "feature parsing".into(),
        feature: String::new(),
        feature_path: String::new(),
        line: 0,
        tags: Vec::new(),
        outcome: Outcome::Error,
        message: None,
        steps: Vec::new(),
        evidence: Vec::new(),
        duration: Duration::ZERO,
        screenshot: None,
        page_html: None,
        cookies: Vec::new(),
    }
}

/// A panic hook that stays quiet for failed steps (their message goes to the report)
/// and reports anything else. Cucumber swaps hooks during a run and restores the one
/// it found, so concurrent runs only ever restore this one or its own silent hook.
pub fn quiet_step_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .payload()
                .downcast_ref::<steps::world::StepFailure>()
                .is_none()
            {
                default(info);
            }
        }));
    });
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
