//! The self-check: a check that cannot fail is a defect.
//!
//! For every weakness of the reference target, run the features it concerns
//! against `hardened + weakness` and require that exactly the expected checks
//! fail, with a message naming the problem; run everything against `hardened`
//! and require a clean pass; run everything against `as-shipped` and require
//! exactly the findings the README lists. Every check must appear in the matrix.
//! The runs share one browser pool and run concurrently.

use std::collections::{BTreeMap, BTreeSet};
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

const ROCKETCHAT: &[Case] = &[
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
        "login-via-url-token",
        "@regeneration",
        &[("token-link", "signed this browser in")],
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
        &[("token-not-scriptable", "localStorage Meteor.loginToken")],
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

/// The check ids the README lists as Rocket.Chat's as-shipped findings.
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
    posture: Posture,
    weakness: Option<&str>,
    tags: Option<&str>,
) -> Result<RunReport, String> {
    let weaknesses = match weakness {
        Some(w) => Weakness::parse_list(w)?,
        None => Default::default(),
    };
    let refs = reference::start(
        &[AppId::RocketChat],
        posture,
        &weaknesses,
        reference::SCALED,
    )
    .await
    .map_err(|e| format!("{name}: {e:#}"))?;
    let config = Config {
        targets: refs.configs.clone(),
        ..Config::default()
    };
    let filters = plan::Filters {
        tags: tags.map(|t| t.parse().expect("valid tag expression")),
        tags_text: tags.map(str::to_string),
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
                "{} ({:?}): {}",
                r.check,
                r.outcome,
                r.message.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::main]
async fn main() {
    cleanup::become_subreaper();
    let started = std::time::Instant::now();
    let mut problems: Vec<String> = Vec::new();

    // Every check must be provable: covered by at least one weakness.
    let covered: BTreeSet<String> = ROCKETCHAT
        .iter()
        .flat_map(|(_, _, fails)| fails.iter().map(|(c, _)| c.to_string()))
        .collect();
    for check in all_checks(AppId::RocketChat).difference(&covered) {
        problems.push(format!(
            "check `{check}` has no weakness under which the self-check proves it fails"
        ));
    }

    runner::quiet_step_panics();
    let browsers = Arc::new(Browsers::new(None, 4));
    if let Err(e) = browsers.driver().await {
        eprintln!("self-check: {e}");
        std::process::exit(2);
    }
    let hardened = run_against(browsers.clone(), "hardened", Posture::Hardened, None, None);
    let shipped = run_against(
        browsers.clone(),
        "as-shipped",
        Posture::AsShipped,
        None,
        None,
    );
    let weak = futures::future::join_all(ROCKETCHAT.iter().map(|(w, tags, _)| {
        run_against(browsers.clone(), w, Posture::Hardened, Some(w), Some(tags))
    }));
    let (hardened, shipped, weak) = futures::join!(hardened, shipped, weak);
    browsers.shutdown();
    // Cucumber swaps the panic hook during runs; put the default back for what follows.
    drop(std::panic::take_hook());

    let mut lines = vec![format!(
        "{:<32} {:<52} {}",
        "WEAKNESS (on hardened)", "CHECKS THAT FAIL", "RESULT"
    )];
    for ((weakness, _, expected), outcome) in ROCKETCHAT.iter().zip(weak) {
        let expected_ids: BTreeSet<String> = expected.iter().map(|(c, _)| c.to_string()).collect();
        let verdict = match outcome {
            Err(e) => Err(e),
            Ok(report) => {
                let got = failed(&report);
                let mut why = Vec::new();
                if got != expected_ids {
                    why.push(format!("expected {expected_ids:?} to fail, got {got:?}"));
                }
                for (check, words) in expected.iter() {
                    let msg = report
                        .by_check(AppId::RocketChat, check)
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
        };
        let ids: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
        match verdict {
            Ok(()) => lines.push(format!("{weakness:<32} {:<52} ok", ids.join(", "))),
            Err(e) => {
                lines.push(format!("{weakness:<32} {:<52} WRONG", ids.join(", ")));
                problems.push(format!("{weakness}: {e}"));
            }
        }
    }

    match hardened {
        Ok(r) => {
            let bad = failed(&r);
            let errs = errors(&r);
            if bad.is_empty() && errs.is_empty() {
                lines.push(format!(
                    "hardened: all {} checks pass",
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
            let got = r.findings(AppId::RocketChat);
            let listed = readme_findings(AppId::RocketChat);
            if got == listed {
                lines.push(format!(
                    "as-shipped: {} findings, exactly those the README lists",
                    got.len()
                ));
            } else {
                problems.push(format!(
                    "as-shipped findings differ from the README: only found {:?}; only listed {:?}",
                    got.difference(&listed).collect::<Vec<_>>(),
                    listed.difference(&got).collect::<Vec<_>>()
                ));
            }
            problems.extend(errors(&r).into_iter().map(|e| format!("as-shipped: {e}")));
        }
        Err(e) => problems.push(e),
    }

    let summary = lines.join("\n");
    println!("{summary}");
    let _ = std::fs::write(out_dir("").join("matrix.txt"), format!("{summary}\n"));
    let leftover = cleanup::count_processes("chromium") + cleanup::count_processes("chromedriver");
    if leftover > 0 {
        problems.push(format!(
            "{leftover} chromium/chromedriver processes outlived the runs"
        ));
    }
    let weaknesses: BTreeMap<&str, ()> = ROCKETCHAT.iter().map(|(w, _, _)| (*w, ())).collect();
    println!(
        "self-check: {} weaknesses, {} problems, {:.1}s",
        weaknesses.len(),
        problems.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        println!("{} passed, 0 failed", weaknesses.len() + 2);
    } else {
        for p in &problems {
            println!("PROBLEM: {p}");
        }
        println!(
            "{} passed, {} failed",
            (weaknesses.len() + 2).saturating_sub(problems.len()),
            problems.len()
        );
        std::process::exit(1);
    }
}
