//! Reading the features: parse, expand the profile applications' examples, and reject
//! unknown steps and scenarios without an application.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};

use crate::model::AppId;
use crate::steps::{self, Kind};

use super::PlanError;
use super::scenario::{all_steps, all_tags, app_of, check_id, feature_path, scenarios};
/// Reads, parses and expands every `*.feature` under `dir` (sorted by path), with the
/// examples of each profile application in `profiles` added.
pub fn load(dir: &Path, profiles: &[AppId]) -> Result<Vec<gherkin::Feature>, PlanError> {
    let mut paths = Vec::new();
    collect(dir, &mut paths).map_err(|e| PlanError::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    }
    paths.sort();
    if paths.is_empty() {
        return Err(PlanError::NoFeatures(dir.to_path_buf()));
    }
    paths
        .iter()
        .map(|p| {
            let mut f = gherkin::Feature::parse_path(p, GherkinEnv::default())
                .map_err(|e| PlanError::Parse(error_chain(&e)))?;
            add_profile_examples(&mut f, profiles);
            f.expand_examples()
                .map_err(|e| PlanError::Parse(e.to_string()))
        })
        .collect()
}

/// Every outline with examples for a built-in application also runs for each profile
/// application: a copy of those examples, tagged `@app-<name>`; what the profile cannot
/// judge is then left out or NOT APPLICABLE (`scope_for_profile`).
/// The copy's line lies inside the outline, so each expanded scenario keeps a line of
/// its own.
fn add_profile_examples(f: &mut gherkin::Feature, profiles: &[AppId]) {
    if profiles.is_empty() {
        return;
    }
    let outlines = f
        .scenarios
        .iter_mut()
        .chain(f.rules.iter_mut().flat_map(|r| r.scenarios.iter_mut()));
    for s in outlines {
        let block = |tag: &str| {
            s.examples
                .iter()
                .find(|e| e.tags.iter().any(|t| t.trim_start_matches('@') == tag))
                .cloned()
        };
        let Some(rc) = block("rocketchat").or_else(|| block("chatwoot")) else {
            continue;
        };
        for (k, app) in profiles.iter().enumerate() {
            let mut ex = rc.clone();
            ex.tags = vec![app.tag().to_string()];
            ex.position.line = s.position.line + k;
            let name = app.tag().trim_start_matches("app-").to_string();
            if let Some(t) = &mut ex.table {
                for cell in t.rows.iter_mut().skip(1).flatten() {
                    if cell == "rocketchat" || cell == "chatwoot" {
                        *cell = name.clone();
                    }
                }
            }
            s.examples.push(ex);
        }
    }
}

/// For a profile application: leaves out the `Then` steps it cannot judge (with notes
/// saying why), or says why the whole scenario is NOT APPLICABLE.
pub(super) fn scope_for_profile(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &mut gherkin::Scenario,
    notes: &mut BTreeMap<(String, usize), Vec<String>>,
) -> Option<String> {
    use crate::profile::scope;
    let tags = all_tags(f, r, s);
    let profile = crate::profile::registry::profile_of(*app_of(&tags).first()?)?;
    if let Some(why) = scope::skipped(&profile, &check_id(&tags, &s.name)) {
        return Some(why);
    }
    let background = f
        .background
        .iter()
        .chain(r.and_then(|r| r.background.as_ref()))
        .flat_map(|b| &b.steps);
    if let Some(why) = background
        .filter_map(|st| scope::lacks(&profile, &st.value))
        .next()
    {
        return Some(why);
    }
    let mut dropped = Vec::new();
    // A scenario's first `Then` says what its check judges; the lines after it judge the
    // same thing on further channels. Without that first line the check does not apply,
    // whatever else the profile could still judge.
    let first_then = s
        .steps
        .iter()
        .position(|st| st.ty == gherkin::StepType::Then);
    for (i, st) in s.steps.iter().enumerate() {
        if let Some(why) = scope::lacks(&profile, &st.value) {
            if st.ty != gherkin::StepType::Then && !scope::on_channel(&st.value) {
                return Some(why);
            }
            if Some(i) == first_then {
                return Some(format!("{why}, and that is what this check judges"));
            }
            dropped.push(format!(
                "{}\"{} {}\": {why}",
                crate::report::NOT_JUDGED,
                st.keyword.trim(),
                st.value
            ));
        }
    }
    s.steps
        .retain(|st| scope::lacks(&profile, &st.value).is_none());
    if !s.steps.iter().any(|st| st.ty == gherkin::StepType::Then) {
        return Some(dropped.join("; "));
    }
    if !dropped.is_empty() {
        notes.insert((feature_path(f), s.position.line), dropped);
    }
    None
}

/// An error with its causes: gherkin puts the line and column in the source.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(&format!(": {s}"));
        src = s.source();
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return if dir.is_file() {
            Ok(())
        } else {
            Err(std::io::Error::other("no such directory"))
        };
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn location(f: &gherkin::Feature, line: usize) -> String {
    format!(
        "{}:{line}",
        f.path
            .as_deref()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default()
    )
}

/// Every step known and every scenario bound to one application, or the first problem.
pub fn validate(features: &[gherkin::Feature]) -> Result<(), PlanError> {
    for f in features {
        for (r, s) in scenarios(f) {
            let apps = app_of(&all_tags(f, r, s));
            if apps.len() != 1 {
                let found = if apps.is_empty() {
                    "no application tag".to_string()
                } else {
                    format!(
                        "several ({})",
                        apps.iter()
                            .map(|a| format!("@{}", a.tag()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(PlanError::AppTag {
                    location: location(f, s.position.line),
                    name: s.name.clone(),
                    found,
                });
            }
            let tags = all_tags(f, r, s);
            let tagged = tags.iter().any(|t| t == "destructive");
            let tagged_bruteforce = tags.iter().any(|t| t == "bruteforce");
            for step in all_steps(f, r, s) {
                let kind = Kind::of(step.ty);
                if steps::find(kind, &step.value).is_none() {
                    let suggestions = steps::closest(kind, &step.value, 3)
                        .iter()
                        .map(|d| format!("    {} {}", d.kind.word(), d.phrase))
                        .collect::<Vec<_>>()
                        .join("\n");
                    return Err(PlanError::UnknownStep {
                        location: location(f, step.position.line),
                        keyword: step.keyword.trim().to_string(),
                        text: step.value.clone(),
                        suggestions,
                    });
                }
                if !tagged && steps::find(kind, &step.value).is_some_and(|d| d.destructive) {
                    return Err(PlanError::UndeclaredDestructive {
                        location: location(f, step.position.line),
                        name: s.name.clone(),
                        step: format!("{} {}", step.keyword.trim(), step.value),
                    });
                }
                if !tagged_bruteforce
                    && steps::find(kind, &step.value).is_some_and(|d| d.bruteforce)
                {
                    return Err(PlanError::UndeclaredBruteForce {
                        location: location(f, step.position.line),
                        name: s.name.clone(),
                        step: format!("{} {}", step.keyword.trim(), step.value),
                    });
                }
            }
        }
    }
    Ok(())
}
