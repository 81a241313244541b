//! The self-check: a check that cannot fail is a defect.
//!
//! For every weakness of the reference target, run the features it concerns
//! against `hardened + weakness` and require that exactly the expected checks
//! fail, with a message naming the problem; run everything against `hardened`
//! and require a clean pass; run everything against `as-shipped` and require
//! exactly the findings the README lists. Every check must appear in the matrix.
//! The runs share one browser pool and run concurrently, for both applications.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sessiondrill::apps::AppId;
use sessiondrill::browser::{Browsers, cleanup};
use sessiondrill::config::Config;
use sessiondrill::refapp::{Posture, Weakness};
use sessiondrill::report::{Outcome, RunReport};
use sessiondrill::runner::{self, RunOptions, plan, reference};

/// (weakness, feature tags to run, [(check that must fail, words its message must contain)]).
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Weaknesses both reference targets have, and the checks each must break.
const SHARED: &[Case] = &[
    (
        "logout-keeps-token",
        "@logout",
        &[
            ("logout-ui", "still accepted by the API"),
            ("logout-api", "still accepted by the API"),
        ],
    ),
    (
        "keeps-cookies-after-logout",
        "@logout",
        &[("logout-ui", "still holds the session token")],
    ),
    (
        "password-change-keeps-sessions",
        "@password",
        &[("password-change", "second session is still accepted")],
    ),
    (
        "no-rotation-at-login",
        "@regeneration",
        &[("new-token-per-sign-in", "same session token")],
    ),
    (
        "adopts-planted-token",
        "@regeneration",
        &[("planted-token", "planted one")],
    ),
    (
        "no-httponly",
        "@cookies",
        &[
            ("cookie-httponly", "no HttpOnly"),
            ("token-not-scriptable", "document.cookie"),
        ],
    ),
    (
        "no-secure",
        "@cookies",
        &[
            ("cookie-secure", "no Secure"),
            ("cookie-host-prefix", "no __Host- prefix"),
        ],
    ),
    (
        "no-samesite",
        "@cookies",
        &[("cookie-samesite", "no SameSite")],
    ),
    (
        "no-host-prefix",
        "@cookies",
        &[("cookie-host-prefix", "no __Host- prefix")],
    ),
    (
        "broad-cookie-scope",
        "@cookies",
        &[
            ("cookie-scope", "Domain="),
            ("cookie-host-prefix", "no __Host- prefix"),
        ],
    ),
    (
        "token-in-web-storage",
        "@cookies",
        &[("token-not-scriptable", "localStorage")],
    ),
    (
        "no-idle-timeout",
        "@idle",
        &[("idle-expiry", "still accepted by the API after")],
    ),
    (
        "idle-ignores-activity",
        "@idle",
        &[("idle-activity", "activity does not reset")],
    ),
    (
        "no-absolute-timeout",
        "@lifetime",
        &[
            ("lifetime-advertised", "exceeds the expected maximum"),
            ("lifetime-enforced", "still accepted after"),
        ],
    ),
    (
        "no-hsts",
        "@transport",
        &[("hsts", "no Strict-Transport-Security")],
    ),
    (
        "no-https-redirect",
        "@transport",
        &[("https-redirect", "over plain HTTP")],
    ),
    (
        "accepts-wrong-password",
        "@login",
        &[("login-wrong-password", "wrong password left a session")],
    ),
    (
        "login-issues-dead-token",
        "@login",
        &[("login-valid-session", "rejected by the API")],
    ),
];

const ROCKETCHAT_ONLY: &[Case] = &[(
    "login-via-url-token",
    "@regeneration",
    &[("token-link", "signed this browser in")],
)];

const CHATWOOT_ONLY: &[Case] = &[
    (
        "no-session-renewal",
        "@regeneration",
        &[("session-renewed", "same before and after sign-in")],
    ),
    (
        "known-secret-key-base",
        "@check-secret-key-base",
        &[(
            "secret-key-base",
            "SECRET_KEY_BASE from Chatwoot .env.example",
        )],
    ),
    (
        "api-token-survives",
        "@chatwoot-own",
        &[
            ("long-lived-after-sign-out", "api_access_token"),
            ("long-lived-after-password-change", "api_access_token"),
        ],
    ),
    (
        "pubsub-survives",
        "@logout or @chatwoot-own or @idle or @password",
        &[
            ("logout-ui", "realtime channel still accepts"),
            ("logout-api", "realtime channel still accepts"),
            (
                "long-lived-after-sign-out",
                "realtime channel still accepts",
            ),
            ("idle-expiry", "realtime channel still accepts"),
            ("password-change", "still open"),
        ],
    ),
];

fn matrix(app: AppId) -> Vec<&'static Case> {
    let own = match app {
        AppId::RocketChat => ROCKETCHAT_ONLY,
        AppId::Chatwoot => CHATWOOT_ONLY,
    };
    SHARED.iter().chain(own).collect()
}

fn features_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("features")
}

fn out_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/sessiondrill/selfcheck")
        .join(name)
}

/// Every check id the features define for `app`.
fn all_checks(app: AppId) -> BTreeSet<String> {
    let features = plan::load(&features_dir()).expect("features parse");
    let mut ids = BTreeSet::new();
    for f in &features {
        for (r, s) in plan::scenarios(f) {
            let sk = plan::skeleton(f, r, s);
            if sk.app == app {
                ids.insert(sk.check);
            }
        }
    }
    ids
}

/// The check ids the README lists as an application's as-shipped findings.
fn readme_findings(app: AppId) -> BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = format!("<!-- as-shipped-findings:{} -->", app.tag());
    let section = text
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once("<!-- /as-shipped-findings -->"))
        .map(|(s, _)| s)
        .unwrap_or_else(|| panic!("README.md has no {start} section"));
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(id, _)| id.to_string()))
        .collect()
}

async fn run_against(
    browsers: Arc<Browsers>,
    name: &str,
    apps: &[AppId],
    posture: Posture,
    weakness: Option<&str>,
    tags: Option<&str>,
) -> Result<RunReport, String> {
    let weaknesses = match weakness {
        Some(w) => Weakness::parse_list(w)?,
        None => Default::default(),
    };
    let refs = reference::start(apps, posture, &weaknesses, reference::SCALED)
        .await
        .map_err(|e| format!("{name}: {e:#}"))?;
    let config = Config {
        targets: refs.configs.clone(),
        ..Config::default()
    };
    // A weakness run judges only its own application's scenarios.
    let tags = tags.map(|t| match apps {
        [one] => format!("@{} and ({t})", one.tag()),
        _ => t.to_string(),
    });
    let filters = plan::Filters {
        tags: tags
            .as_deref()
            .map(|t| t.parse().expect("valid tag expression")),
        tags_text: tags.clone(),
        name: None,
    };
    let opts = RunOptions {
        config,
        features: features_dir(),
        filters,
        out_dir: out_dir(name),
        progress: false,
        concurrency: None,
        title: format!("self-check: {name}"),
        reference: true,
        handle_interrupts: false,
        browsers: Some(browsers),
    };
    let report = runner::run(opts)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let _ = report.write_files(&out_dir(name));
    drop(refs);
    Ok(report)
}

fn failed(report: &RunReport) -> BTreeSet<String> {
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .map(|r| r.check.clone())
        .collect()
}

fn errors(report: &RunReport) -> Vec<String> {
    report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Error | Outcome::NotRun))
        .map(|r| {
            format!(
                "{} {} ({:?}): {}",
                r.app.tag(),
                r.check,
                r.outcome,
                r.message.clone().unwrap_or_default()
            )
        })
        .collect()
}

/// Chatwoot as shipped with its sign-in throttle applying to the suite (as behind
/// Docker's bridge) and a 6-second window: the suite must wait it out, not error.
async fn throttled_run(browsers: Arc<Browsers>) -> Result<RunReport, String> {
    let mut opts = reference::options(
        AppId::Chatwoot,
        Posture::AsShipped,
        &Default::default(),
        reference::SCALED,
    );
    opts.throttle_loopback = true;
    opts.throttle_period = Some(std::time::Duration::from_secs(6));
    let (running, target) = reference::start_one(opts, reference::SCALED)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let tags = "@chatwoot and (@login or @regeneration)";
    let opts = RunOptions {
        config: Config {
            targets: vec![target],
            ..Config::default()
        },
        features: features_dir(),
        filters: plan::Filters {
            tags: tags.parse().ok(),
            tags_text: Some(tags.into()),
            name: None,
        },
        out_dir: out_dir("chatwoot-throttled"),
        progress: false,
        concurrency: None,
        title: "self-check: Chatwoot with its sign-in throttle".into(),
        reference: true,
        handle_interrupts: false,
        browsers: Some(browsers),
    };
    let report = runner::run(opts).await.map_err(|e| e.to_string())?;
    let _ = report.write_files(&out_dir("chatwoot-throttled"));
    drop(running);
    Ok(report)
}

/// Judges one weakness run: exactly the expected checks fail, each naming its problem.
fn judge(
    app: AppId,
    expected: &[(&str, &str)],
    outcome: Result<RunReport, String>,
) -> Result<(), String> {
    let report = outcome?;
    let expected_ids: BTreeSet<String> = expected.iter().map(|(c, _)| c.to_string()).collect();
    let got = failed(&report);
    let mut why = Vec::new();
    if got != expected_ids {
        why.push(format!("expected {expected_ids:?} to fail, got {got:?}"));
    }
    for (check, words) in expected {
        let msg = report
            .by_check(app, check)
            .and_then(|r| r.message.clone())
            .unwrap_or_default();
        if got.contains(*check) && !msg.contains(words) {
            why.push(format!(
                "{check} failed without naming the problem (`{words}` not in: {msg})"
            ));
        }
    }
    why.extend(errors(&report));
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

#[tokio::main]
async fn main() {
    cleanup::become_subreaper();
    let started = std::time::Instant::now();
    let mut problems: Vec<String> = Vec::new();

    // Every check must be provable: covered by at least one weakness.
    for app in AppId::ALL {
        let covered: BTreeSet<String> = matrix(app)
            .iter()
            .flat_map(|(_, _, fails)| fails.iter().map(|(c, _)| c.to_string()))
            .collect();
        for check in all_checks(app).difference(&covered) {
            problems.push(format!(
                "{}: check `{check}` has no weakness under which it is proven to fail",
                app.tag()
            ));
        }
    }

    runner::quiet_step_panics();
    let browsers = Arc::new(Browsers::new(None, 4));
    if let Err(e) = browsers.driver().await {
        eprintln!("self-check: {e}");
        std::process::exit(2);
    }
    let both = AppId::ALL;
    let hardened = run_against(
        browsers.clone(),
        "hardened",
        &both,
        Posture::Hardened,
        None,
        None,
    );
    let shipped = run_against(
        browsers.clone(),
        "as-shipped",
        &both,
        Posture::AsShipped,
        None,
        None,
    );
    let cases: Vec<(AppId, &Case)> = AppId::ALL
        .iter()
        .flat_map(|&a| matrix(a).into_iter().map(move |c| (a, c)))
        .collect();
    let weak = futures::future::join_all(cases.iter().map(|(app, (w, tags, _))| {
        let name = format!("{}-{w}", app.tag());
        let browsers = browsers.clone();
        async move {
            run_against(
                browsers,
                &name,
                &[*app],
                Posture::Hardened,
                Some(w),
                Some(tags),
            )
            .await
        }
    }));
    let throttled = throttled_run(browsers.clone());
    let (hardened, shipped, weak, throttled) = futures::join!(hardened, shipped, weak, throttled);
    browsers.shutdown();
    // Cucumber swaps the panic hook during runs; put the default back for what follows.
    drop(std::panic::take_hook());

    let mut lines = vec![format!(
        "{:<11} {:<32} {:<58} RESULT",
        "APP", "WEAKNESS (on hardened)", "CHECKS THAT FAIL"
    )];
    for ((app, (weakness, _, expected)), outcome) in cases.iter().zip(weak) {
        let ids: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
        let line = format!("{:<11} {weakness:<32} {:<58}", app.tag(), ids.join(", "));
        match judge(*app, expected, outcome) {
            Ok(()) => lines.push(format!("{line} ok")),
            Err(e) => {
                lines.push(format!("{line} WRONG"));
                problems.push(format!("{} {weakness}: {e}", app.tag()));
            }
        }
    }

    match hardened {
        Ok(r) => {
            let (bad, errs) = (failed(&r), errors(&r));
            if bad.is_empty() && errs.is_empty() {
                lines.push(format!(
                    "hardened: all {} scenarios pass",
                    r.count(Outcome::Passed)
                ));
            } else {
                problems.push(format!(
                    "hardened must pass every check; failed {bad:?}; {}",
                    errs.join("; ")
                ));
            }
        }
        Err(e) => problems.push(e),
    }
    match shipped {
        Ok(r) => {
            for app in AppId::ALL {
                let (got, listed) = (r.findings(app), readme_findings(app));
                if got == listed {
                    lines.push(format!(
                        "as-shipped {}: {} findings, exactly those the README lists",
                        app.tag(),
                        got.len()
                    ));
                } else {
                    problems.push(format!(
                        "as-shipped {} findings differ from the README: only found {:?}; only listed {:?}",
                        app.tag(),
                        got.difference(&listed).collect::<Vec<_>>(),
                        listed.difference(&got).collect::<Vec<_>>()
                    ));
                }
            }
            problems.extend(errors(&r).into_iter().map(|e| format!("as-shipped: {e}")));
        }
        Err(e) => problems.push(e),
    }

    match throttled {
        Ok(r) => {
            let (bad, errs) = (failed(&r), errors(&r));
            if bad.is_empty() && errs.is_empty() {
                lines.push(format!(
                    "chatwoot with its sign-in throttle (5 per 6 s): all {} scenarios completed, {:.0}s",
                    r.count(Outcome::Passed),
                    r.wall.as_secs_f64()
                ));
            } else {
                problems.push(format!(
                    "throttled chatwoot: failed {bad:?}; {}",
                    errs.join("; ")
                ));
            }
        }
        Err(e) => problems.push(format!("throttled chatwoot: {e}")),
    }

    let summary = lines.join("\n");
    println!("{summary}");
    let _ = std::fs::create_dir_all(out_dir(""));
    let _ = std::fs::write(out_dir("").join("matrix.txt"), format!("{summary}\n"));
    let leftover = cleanup::count_processes("chromium") + cleanup::count_processes("chromedriver");
    if leftover > 0 {
        problems.push(format!(
            "{leftover} chromium/chromedriver processes outlived the runs"
        ));
    }
    let runs = cases.len() + 3;
    println!(
        "self-check: {} weakness runs over {} applications, {} problems, {:.1}s",
        cases.len(),
        AppId::ALL.len(),
        problems.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        println!("{runs} passed, 0 failed");
    } else {
        for p in &problems {
            println!("PROBLEM: {p}");
        }
        println!(
            "{} passed, {} failed",
            runs.saturating_sub(problems.len()),
            problems.len()
        );
        std::process::exit(1);
    }
}
