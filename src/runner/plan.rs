//! Before anything runs: parse every feature, reject unknown steps and
//! scenarios without an application, apply the filters, and decide what will
//! not run and why (never silently).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv, tagexpr::TagOperation};
use cucumber::tag::Ext as _;
use regex::Regex;

use crate::checks::timing::Expectations;
use crate::duration::human;
use crate::model::AppId;
use crate::report::{Outcome, ScenarioResult};
use crate::steps::{self, Kind, Wait};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no feature files (*.feature) in {0}")]
    NoFeatures(PathBuf),
    #[error("cannot read the features in {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("malformed feature: {0}")]
    Parse(String),
    #[error(
        "{location}: unknown step `{keyword} {text}`\n  closest known phrases:\n{suggestions}\n  \
         run `sessiondrill steps` for the whole phrase book"
    )]
    UnknownStep {
        location: String,
        keyword: String,
        text: String,
        suggestions: String,
    },
    #[error(
        "{location}: scenario \"{name}\" has {found}; tag each Examples block with exactly one \
         application (@rocketchat or @chatwoot)"
    )]
    AppTag {
        location: String,
        name: String,
        found: String,
    },
    #[error("no scenario matches the filter{0}")]
    NothingSelected(String),
    #[error(
        "{location}: scenario \"{name}\" changes account state (step `{step}`) but is not tagged \
         @destructive; add the tag so staging runs leave it out unless SESSIONDRILL_ALLOW_DESTRUCTIVE=1"
    )]
    UndeclaredDestructive {
        location: String,
        name: String,
        step: String,
    },
    #[error(
        "{location}: scenario \"{name}\" sends wrong passwords until the account is blocked (step `{step}`) \
         but is not tagged @bruteforce; add the tag so staging runs leave it out unless SESSIONDRILL_ALLOW_DESTRUCTIVE=1"
    )]
    UndeclaredBruteForce {
        location: String,
        name: String,
        step: String,
    },
}

/// `--tags` and `--name` as the user gave them.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub tags: Option<TagOperation>,
    /// The tag expression as written, for messages.
    pub tags_text: Option<String>,
    pub name: Option<Regex>,
}

/// What the run may do, per application.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allow_slow: bool,
    pub allow_destructive: bool,
    /// Expectations and API expiry slack of each configured application.
    pub apps: BTreeMap<AppId, (Expectations, Duration)>,
    /// Why an application cannot run (not configured, no adapter).
    pub unavailable: BTreeMap<AppId, String>,
}

impl Policy {
    /// What `app` is held to, and how late its API may enforce expiry (ASVS defaults for an app not configured).
    pub fn expectations(&self, app: AppId) -> (Expectations, Duration) {
        self.apps
            .get(&app)
            .copied()
            .unwrap_or((Expectations::ASVS, Duration::ZERO))
    }
}

pub struct Planned {
    pub features: Vec<gherkin::Feature>,
    pub not_run: Vec<ScenarioResult>,
    /// Scenarios a profile application cannot run, with the reason.
    pub not_applicable: Vec<ScenarioResult>,
    /// Evidence lines for scenarios run without the steps their application cannot judge.
    pub notes: BTreeMap<(String, usize), Vec<String>>,
    pub apps: BTreeSet<AppId>,
    pub needs_browser: bool,
    pub longest_wait: Duration,
    pub to_run: usize,
}

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
fn scope_for_profile(
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

/// All scenarios with their rule, in file order.
pub fn scenarios(f: &gherkin::Feature) -> Vec<(Option<&gherkin::Rule>, &gherkin::Scenario)> {
    f.scenarios
        .iter()
        .map(|s| (None, s))
        .chain(
            f.rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
        )
        .collect()
}

/// Every step a scenario runs: backgrounds first.
pub fn all_steps<'a>(
    f: &'a gherkin::Feature,
    r: Option<&'a gherkin::Rule>,
    s: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a gherkin::Step> {
    f.background
        .iter()
        .chain(r.and_then(|r| r.background.as_ref()))
        .flat_map(|b| &b.steps)
        .chain(&s.steps)
}

/// Whether any of the scenario's steps' definitions has the property.
fn any_step(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
    property: impl Fn(&steps::StepDef) -> bool,
) -> bool {
    all_steps(f, r, s)
        .filter_map(|st| steps::find(Kind::of(st.ty), &st.value))
        .any(property)
}

/// Whether a scenario changes account state: known from its steps' definitions.
pub fn is_destructive(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> bool {
    any_step(f, r, s, |d| d.destructive)
}

/// Whether a step of the scenario sends wrong passwords until the account is blocked.
pub fn is_bruteforce(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> bool {
    any_step(f, r, s, |d| d.bruteforce)
}

/// Whether the scenario holds its account alone: it changes the account, blocks its
/// sign-in with wrong passwords, or judges a long-lived credential. That credential is
/// the account's, not the session's: another scenario's sign-out or password change may
/// revoke it, which would turn the baseline into an ERROR or, worse, earn a refusal the
/// scenario's own action never caused.
pub fn holds_account(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> bool {
    is_destructive(f, r, s)
        || is_bruteforce(f, r, s)
        || channels_needed(f, r, s).contains(&crate::model::Channel::LongLived)
}

/// Whether a step of the scenario loads the target so heavily that it must run alone.
pub fn runs_alone(f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario) -> bool {
    any_step(f, r, s, |d| d.alone)
}

/// Whether a scenario waits (idle, lifetime): its browser comes before others', so the
/// run's longest wait starts as early as it can.
pub fn waits(f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario) -> bool {
    any_step(f, r, s, |d| d.wait.is_some())
}

/// The channels whose baselines the scenario's refusal steps rest on.
pub fn channels_needed(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> BTreeSet<crate::model::Channel> {
    all_steps(f, r, s)
        .filter_map(|st| steps::find(Kind::of(st.ty), &st.value))
        .flat_map(|d| d.needs.iter().copied())
        .collect()
}

/// Feature, rule and scenario tags together, without `@`.
pub fn all_tags(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> Vec<String> {
    f.tags
        .iter()
        .chain(r.iter().flat_map(|r| &r.tags))
        .chain(&s.tags)
        .cloned()
        .collect()
}

pub fn app_of(tags: &[String]) -> Vec<AppId> {
    let mut apps: Vec<AppId> = tags.iter().filter_map(|t| AppId::from_tag(t)).collect();
    apps.dedup();
    apps
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

/// The stable id of a check: its `@check-…` tag, or its name.
pub fn check_id(tags: &[String], name: &str) -> String {
    tags.iter()
        .find_map(|t| t.strip_prefix("check-"))
        .map(str::to_string)
        .unwrap_or_else(|| crate::steps::world::slug(name.split(" (").next().unwrap_or(name)))
}

/// A result with everything but the outcome filled in.
pub fn skeleton(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> ScenarioResult {
    let tags = all_tags(f, r, s);
    let app = app_of(&tags).first().copied().unwrap_or(AppId::RocketChat);
    ScenarioResult {
        app,
        check: check_id(&tags, &s.name),
        name: s.name.clone(),
        feature: f.name.clone(),
        feature_path: feature_path(f),
        line: s.position.line,
        tags: tags
            .into_iter()
            .filter(|t| AppId::from_tag(t).is_none())
            .collect(),
        outcome: Outcome::NotRun,
        message: None,
        // Every step, skipped until it runs: reports of NOT RUN scenarios list them too.
        steps: all_steps(f, r, s)
            .map(|st| crate::report::StepRecord {
                keyword: st.keyword.clone(),
                text: st.value.clone(),
                line: st.position.line,
                status: crate::report::StepStatus::Skipped,
                duration: Duration::ZERO,
                message: None,
            })
            .collect(),
        evidence: Vec::new(),
        duration: Duration::ZERO,
        screenshot: None,
        page_html: None,
        cookies: Vec::new(),
    }
}

/// The feature's path relative to the working directory, for stable keys and reports.
pub fn feature_path(f: &gherkin::Feature) -> String {
    let p = f.path.clone().unwrap_or_default();
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf));
    rel.unwrap_or(p).display().to_string()
}

/// The wait a scenario requires, from its steps and the application's expectations.
pub fn required_wait(
    f: &gherkin::Feature,
    s: &gherkin::Scenario,
    expect: &Expectations,
    slack: Duration,
) -> Duration {
    f.background
        .iter()
        .flat_map(|b| &b.steps)
        .chain(&s.steps)
        .filter_map(|step| steps::find(Kind::of(step.ty), &step.value))
        .filter_map(|d| d.wait)
        .map(|w| match w {
            Wait::IdleTimeout => expect.idle_wait(),
            Wait::MaxLifetime => expect.lifetime_deadline(slack),
        })
        .sum()
}

fn needs_browser(f: &gherkin::Feature, s: &gherkin::Scenario) -> bool {
    f.background
        .iter()
        .flat_map(|b| &b.steps)
        .chain(&s.steps)
        .filter_map(|step| steps::find(Kind::of(step.ty), &step.value))
        .any(|d| d.browser)
}

const SLOW: Duration = Duration::from_secs(60);

/// Applies filters and policy; scenarios that stay out for policy reasons are reported.
pub fn plan(
    mut features: Vec<gherkin::Feature>,
    filters: &Filters,
    policy: &Policy,
) -> Result<Planned, PlanError> {
    let mut not_run = Vec::new();
    let mut not_applicable = Vec::new();
    let mut notes = BTreeMap::new();
    let mut apps = BTreeSet::new();
    let mut needs = false;
    let mut longest = Duration::ZERO;
    let mut to_run = 0;
    for f in &mut features {
        let snapshot = f.clone();
        let keep = |r: Option<&gherkin::Rule>,
                    s: &gherkin::Scenario,
                    not_run: &mut Vec<ScenarioResult>|
         -> bool {
            let tags = all_tags(&snapshot, r, s);
            if filters.tags.as_ref().is_some_and(|t| !t.eval(tags.iter())) {
                return false;
            }
            if filters
                .name
                .as_ref()
                .is_some_and(|re| !re.is_match(&s.name))
            {
                return false;
            }
            let app = app_of(&tags)[0];
            let reason = if let Some(why) = policy.unavailable.get(&app) {
                Some(why.clone())
            } else if is_destructive(&snapshot, r, s) && !policy.allow_destructive {
                Some("changes the account's password; set SESSIONDRILL_ALLOW_DESTRUCTIVE=1 to run it (it is changed back afterwards)".to_string())
            } else if is_bruteforce(&snapshot, r, s) && !policy.allow_destructive {
                Some("sends wrong passwords until the account is blocked; set SESSIONDRILL_ALLOW_DESTRUCTIVE=1 to run it (it waits the block out afterwards)".to_string())
            } else {
                let (expect, slack) = policy.expectations(app);
                let wait = required_wait(&snapshot, s, &expect, slack);
                (wait > SLOW && !policy.allow_slow).then(|| {
                    format!(
                        "would wait {}; set SESSIONDRILL_ALLOW_SLOW=1 to run it",
                        human(wait)
                    )
                })
            };
            if let Some(reason) = reason {
                let mut r = skeleton(&snapshot, r, s);
                r.message = Some(reason);
                not_run.push(r);
                return false;
            }
            true
        };
        f.scenarios.retain(|s| keep(None, s, &mut not_run));
        for rule in &mut f.rules {
            let rule_snapshot = rule.clone();
            rule.scenarios
                .retain(|s| keep(Some(&rule_snapshot), s, &mut not_run));
        }
        let mut scoped = |r: Option<&gherkin::Rule>, list: &mut Vec<gherkin::Scenario>| {
            list.retain_mut(|s| match scope_for_profile(&snapshot, r, s, &mut notes) {
                Some(why) => {
                    let mut res = skeleton(&snapshot, r, s);
                    res.outcome = Outcome::NotApplicable;
                    res.message = Some(why);
                    not_applicable.push(res);
                    false
                }
                None => true,
            });
        };
        scoped(None, &mut f.scenarios);
        for rule in &mut f.rules {
            let rule_snapshot = rule.clone();
            scoped(Some(&rule_snapshot), &mut rule.scenarios);
        }
        for (r, s) in scenarios(f) {
            let tags = all_tags(f, r, s);
            let app = app_of(&tags)[0];
            apps.insert(app);
            needs |= needs_browser(f, s);
            let (expect, slack) = policy.expectations(app);
            longest = longest.max(required_wait(f, s, &expect, slack));
            to_run += 1;
        }
    }
    features.retain(|f| !scenarios(f).is_empty());
    // Scenarios that change or block the account hold it alone; starting them first (within and
    // across features) keeps them, and everything queued behind them, from waiting
    // behind long idle waits. Then the longest waits, so the run ends near its floor
    // (the longest wait plus one sign-in), not the sum of a late start and the wait.
    let wait_of = |f: &gherkin::Feature, s: &gherkin::Scenario| {
        let (expect, slack) = policy.expectations(app_of(&all_tags(f, None, s))[0]);
        required_wait(f, s, &expect, slack)
    };
    for f in &mut features {
        let snapshot = f.clone();
        f.scenarios.sort_by_key(|s| {
            (
                !holds_account(&snapshot, None, s),
                std::cmp::Reverse(wait_of(&snapshot, s)),
            )
        });
    }
    // A feature's account-holding scenarios go ahead of every feature's others: behind a
    // feature's ordinary scenarios they would queue for the account behind the long waits.
    let mut heads = Vec::new();
    for f in &mut features {
        let split = f.scenarios.iter().position(|s| !holds_account(f, None, s));
        if let Some(at) = split.filter(|&at| at > 0) {
            let mut head = f.clone();
            head.rules.clear();
            head.scenarios = f.scenarios.drain(..at).collect();
            heads.push(head);
        }
    }
    features.extend(heads);
    features.retain(|f| !scenarios(f).is_empty());
    features.sort_by_key(|f| {
        let holds = scenarios(f).iter().any(|(r, s)| holds_account(f, *r, s));
        let longest = scenarios(f)
            .iter()
            .map(|(_, s)| wait_of(f, s))
            .max()
            .unwrap_or_default();
        (!holds, std::cmp::Reverse(longest), f.path.clone())
    });
    if to_run == 0 && not_run.is_empty() && not_applicable.is_empty() {
        let mut what = String::new();
        if let Some(t) = &filters.tags_text {
            what.push_str(&format!(" --tags {t}"));
        }
        if let Some(n) = &filters.name {
            what.push_str(&format!(" --name {n}"));
        }
        return Err(PlanError::NothingSelected(what));
    }
    Ok(Planned {
        features,
        not_run,
        not_applicable,
        notes,
        apps,
        needs_browser: needs,
        longest_wait: longest,
        to_run,
    })
}

/// Feeds already parsed and planned features to cucumber.
pub struct Preparsed;

impl cucumber::Parser<Vec<gherkin::Feature>> for Preparsed {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _cli: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(text: &str) -> Vec<gherkin::Feature> {
        let dir = std::env::temp_dir().join(format!(
            "sessiondrill-plan-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.feature"), text).unwrap();
        let f = load(&dir, &[]).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        f
    }

    const PASSWORD_SCENARIO: &str = "Feature: f
  TAGS
  Scenario Outline: change (<app>)
    Given I am signed in through the API
    When I change the password using the API session
    Then the API session is rejected by the API

    @rocketchat
    Examples:
      | app |
      | rocketchat |
";

    #[test]
    fn a_step_that_changes_the_account_needs_the_destructive_tag() {
        let untagged = feature(&PASSWORD_SCENARIO.replace("TAGS", "@check-x"));
        let err = validate(&untagged).unwrap_err().to_string();
        assert!(err.contains("not tagged @destructive"), "{err}");
        assert!(err.contains("When I change the password"), "{err}");
        let tagged = feature(&PASSWORD_SCENARIO.replace("TAGS", "@check-x @destructive"));
        validate(&tagged).unwrap();
        let (r, s) = scenarios(&tagged[0])[0];
        assert!(is_destructive(&tagged[0], r, s));
        let needs = channels_needed(&tagged[0], r, s);
        assert!(needs.contains(&crate::model::Channel::Api), "{needs:?}");
    }

    #[test]
    fn wrong_passwords_until_blocked_need_the_bruteforce_tag() {
        let text = PASSWORD_SCENARIO
            .replace(
                "When I change the password using the API session",
                "When wrong passwords are sent through the API until sign-in is blocked",
            )
            .replace(
                "Then the API session is rejected by the API",
                "Then sign-in was blocked within the expected number of failures",
            );
        let untagged = feature(&text.replace("TAGS", "@check-x"));
        let err = validate(&untagged).unwrap_err().to_string();
        assert!(err.contains("not tagged @bruteforce"), "{err}");
        let tagged = feature(&text.replace("TAGS", "@check-x @bruteforce"));
        validate(&tagged).unwrap();
        let (r, s) = scenarios(&tagged[0])[0];
        assert!(is_bruteforce(&tagged[0], r, s));
        assert!(!is_destructive(&tagged[0], r, s));
    }

    fn outline(name: &str, tags: &str, steps: &[&str]) -> String {
        format!(
            "  {tags}\n  Scenario Outline: {name} (<app>)\n{}\n    @rocketchat\n    Examples:\n      | app |\n      | rocketchat |\n\n",
            steps
                .iter()
                .map(|s| format!("    {s}\n"))
                .collect::<String>()
        )
    }

    #[test]
    fn scenarios_that_hold_the_account_start_first_then_the_longest_waits() {
        let dir = std::env::temp_dir().join(format!("sessiondrill-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let signed_in = "Given I am signed in through the API";
        // Sorted by path, `a` would start its ordinary scenario and its idle wait before
        // `b`'s account-holding scenarios.
        let a = format!(
            "Feature: a\n{}{}",
            outline(
                "plain a",
                "@check-a",
                &[signed_in, "Then the API session is accepted by the API"]
            ),
            outline(
                "idle",
                "@check-idle",
                &[
                    signed_in,
                    "When I leave the API session untouched for the idle timeout plus grace",
                    "Then the API session is rejected by the API"
                ],
            ),
        );
        let b = format!(
            "Feature: b\n{}{}{}",
            outline(
                "plain b",
                "@check-b",
                &[signed_in, "Then the API session is accepted by the API"]
            ),
            outline(
                "long-lived",
                "@check-ll",
                &[
                    signed_in,
                    "When I sign out through the API",
                    "Then the API session's long-lived credentials are rejected by the API"
                ],
            ),
            outline(
                "change",
                "@check-pw @destructive",
                &[
                    signed_in,
                    "When I change the password using the API session",
                    "Then the API session is rejected by the API"
                ],
            ),
        );
        std::fs::write(dir.join("a.feature"), a).unwrap();
        std::fs::write(dir.join("b.feature"), b).unwrap();
        let features = load(&dir, &[]).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        validate(&features).unwrap();
        let policy = Policy {
            allow_slow: true,
            allow_destructive: true,
            ..Policy::default()
        };
        let planned = plan(features, &Filters::default(), &policy).unwrap();
        let order: Vec<String> = planned
            .features
            .iter()
            .flat_map(|f| scenarios(f).into_iter().map(|(_, s)| s.name.clone()))
            .collect();
        let held: Vec<bool> = planned
            .features
            .iter()
            .flat_map(|f| {
                scenarios(f)
                    .into_iter()
                    .map(move |(r, s)| holds_account(f, r, s))
            })
            .collect();
        assert_eq!(held, [true, true, false, false, false], "{order:?}");
        assert!(order[2].starts_with("idle"), "{order:?}");
        // Split features keep their path, so results and reports still name the file.
        assert!(planned.features.iter().filter(|f| f.name == "b").count() == 2);
    }

    /// A profile application gets every outline's examples; a channel it lacks leaves its
    /// steps out with a note, a missing action makes the scenario NOT APPLICABLE.
    #[test]
    fn profile_applications_run_what_their_profile_can_judge() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/django.toml"),
        )
        .unwrap()
        .replace("name = \"django\"", "name = \"plantest\"");
        let cut = text.find("[password_change]").unwrap();
        let end = text.find("[checks.skip]").unwrap();
        let text = format!("{}{}", &text[..cut], &text[end..]);
        let profile = crate::profile::Profile::parse(Path::new("plantest.toml"), &text).unwrap();
        let app = crate::profile::registry::register_profile(profile);
        let both = "\n    @rocketchat\n    Examples:\n      | app |\n      | rocketchat |\n\n    @chatwoot\n    Examples:\n      | app |\n      | chatwoot |\n";
        let feature = format!(
            "Feature: f\n  @check-out\n  Scenario Outline: out (<app>)\n    Given I am signed in through the API\n    When I sign out through the API\n    Then the API session is rejected by the API\n    And resuming the API session over the realtime channel is rejected\n{both}\n  @check-pw @destructive\n  Scenario Outline: pw (<app>)\n    Given I am signed in through the API\n    When I change the password using the API session\n    Then the API session is rejected by the API\n{both}\n  @check-ll\n  Scenario Outline: ll (<app>)\n    Given I am signed in through the API\n    When I sign out through the API\n    Then the API session's long-lived credentials are rejected by the API\n    And the API session is rejected by the API\n{both}"
        );
        let dir = std::env::temp_dir().join(format!("sessiondrill-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f.feature"), feature).unwrap();
        let features = load(&dir, &[app]).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        validate(&features).unwrap();
        let policy = Policy {
            allow_destructive: true,
            ..Policy::default()
        };
        let filters = Filters {
            tags: Some("@app-plantest".parse().unwrap()),
            ..Filters::default()
        };
        let planned = plan(features, &filters, &policy).unwrap();
        let run: Vec<&gherkin::Scenario> = planned
            .features
            .iter()
            .flat_map(|f| f.scenarios.iter())
            .collect();
        assert_eq!(run.len(), 1, "{run:?}");
        assert_eq!(run[0].name, "out (plantest)");
        assert_eq!(run[0].steps.len(), 3, "the realtime step is left out");
        let note = planned.notes.values().flatten().collect::<Vec<_>>();
        assert!(note[0].contains("realtime channel"), "{note:?}");
        assert_eq!(planned.not_applicable.len(), 2);
        let na = &planned.not_applicable[0];
        assert_eq!(na.outcome, Outcome::NotApplicable);
        assert!(
            na.message.as_deref().unwrap().contains("password change"),
            "{na:?}"
        );
        // What the check judges is on a channel the profile lacks: not applicable, even
        // though a later line could run.
        let ll = &planned.not_applicable[1];
        assert_eq!(ll.outcome, Outcome::NotApplicable);
        let why = ll.message.as_deref().unwrap();
        assert!(
            why.contains("long-lived") && why.contains("what this check judges"),
            "{ll:?}"
        );
    }

    #[test]
    fn every_scenario_lists_its_steps_skipped_until_they_run() {
        let f = feature(&PASSWORD_SCENARIO.replace("TAGS", "@destructive"));
        let (r, s) = scenarios(&f[0])[0];
        let sk = skeleton(&f[0], r, s);
        assert_eq!(sk.steps.len(), 3);
        assert!(
            sk.steps
                .iter()
                .all(|st| st.status == crate::report::StepStatus::Skipped)
        );
    }
}
