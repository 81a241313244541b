//! What a scenario is: its steps, its application, its check id and what it needs.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use cucumber::gherkin::{self};

use crate::checks::timing::Expectations;
use crate::model::AppId;
use crate::report::{Outcome, ScenarioResult};
use crate::steps::{self, Kind, Wait};
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

pub(super) fn needs_browser(f: &gherkin::Feature, s: &gherkin::Scenario) -> bool {
    f.background
        .iter()
        .flat_map(|b| &b.steps)
        .chain(&s.steps)
        .filter_map(|step| steps::find(Kind::of(step.ty), &step.value))
        .any(|d| d.browser)
}
