//! `sessiondrill` (run): the suite against the configured targets or reference targets.

use std::path::Path;

use crate::config::{self, Config};
use crate::duration;
use crate::model::AppId;
use crate::refapp::{Posture, Weakness};
use crate::report::{ExitCode, Outcome, RunReport};
use crate::runner::{self, RunOptions, reference};

use super::{RunArgs, default_features, default_out, fail, filters};

/// Runs the suite; with no target configured, against reference targets in `default_posture`.
/// Returns the process exit code: 0 all passed, 1 findings, 2 bad input or preflight,
/// 3 errors (outrank findings), 4 nothing ran.
pub async fn run_suite(args: RunArgs, default_posture: Posture) -> i32 {
    crate::browser::cleanup::become_subreaper();
    let mut config = match Config::load(args.config.as_deref(), &config::process_env) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    for p in &args.profiles {
        if let Err(e) = config.add_profile(p, &config::process_env) {
            return fail(e);
        }
    }
    config.allow_slow |= args.allow_slow;
    config.allow_destructive |= args.allow_destructive;
    let filters = match filters(&args) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let features = args.features.clone().unwrap_or_else(default_features);
    let mut _reference = None;
    let (title, is_reference) = if config.targets.is_empty() {
        let posture = match args.posture.as_deref().map(Posture::parse).transpose() {
            Ok(p) => p.unwrap_or(default_posture),
            Err(e) => return fail(e),
        };
        let weaknesses = match args.weaken.as_deref().map(Weakness::parse_list).transpose() {
            Ok(w) => w.unwrap_or_default(),
            Err(e) => return fail(e),
        };
        // A weakness one application has (Chatwoot's secret_key_base, Rocket.Chat's
        // password history) starts that application's stand-in alone.
        let apps: Vec<AppId> = AppId::ALL
            .into_iter()
            .filter(|&a| weaknesses.iter().all(|w| w.applies_to(a)))
            .collect();
        if apps.is_empty() {
            return fail(format!(
                "no reference target has all of the weaknesses {}: name weaknesses of one application at a time",
                weaknesses
                    .iter()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let refs =
            match reference::start(&apps, posture, &weaknesses, reference::SCALED, true).await {
                Ok(r) => r,
                Err(e) => return fail(format!("cannot start the reference targets: {e:#}")),
            };
        let title = format!(
            "No target configured: running against the built-in {} (time-scaled: idle timeout {}, maximum lifetime {}, grace {}).",
            refs.describe(),
            duration::human(reference::SCALED.idle_timeout),
            duration::human(reference::SCALED.max_lifetime),
            duration::human(reference::SCALED.grace)
        );
        config.targets = refs.configs.clone();
        _reference = Some(refs);
        (title, true)
    } else {
        let list: Vec<String> = config
            .targets
            .iter()
            .map(|t| format!("{} at {}", t.app.name(), t.url))
            .collect();
        (format!("Configured targets: {}.", list.join("; ")), false)
    };
    if !args.quiet {
        println!("{title}");
    }
    let out_dir = args.out.clone().unwrap_or_else(default_out);
    let opts = RunOptions {
        config,
        features,
        filters,
        out_dir: out_dir.clone(),
        progress: !args.quiet,
        concurrency: args.concurrency,
        title,
        reference: is_reference,
        handle_interrupts: true,
        browsers: None,
    };
    let report = match runner::run(opts).await {
        Ok(r) => r,
        Err(runner::RunError::Plan(e @ runner::plan::PlanError::NothingSelected(_))) => {
            eprintln!("sessiondrill: {e}; nothing ran");
            println!("0 passed, 0 failed");
            return ExitCode::NothingRan.code();
        }
        Err(e) => return fail(e),
    };
    print_report(&report, &out_dir);
    report.exit_code().code()
}

pub fn print_report(report: &RunReport, out_dir: &Path) {
    println!("\n{}", report.verdict_table());
    match report.write_files(out_dir) {
        Ok(files) => {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            println!("Reports: {}", names.join(", "));
        }
        Err(e) => eprintln!(
            "sessiondrill: could not write reports to {}: {e}",
            out_dir.display()
        ),
    }
    for f in &report.restore_failures {
        println!("PASSWORD NOT RESTORED: {f}");
    }
    if report.count(Outcome::NotRun) > 0 {
        println!("Not run scenarios are listed above with the setting that enables them.");
    }
    println!("{}", report.totals_line());
    println!("{}", report.summary_line());
}
