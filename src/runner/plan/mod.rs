//! Before anything runs: parse every feature, reject unknown steps and
//! scenarios without an application, apply the filters, and decide what will
//! not run and why (never silently).

mod load;
mod scenario;

pub use load::{load, validate};
pub use scenario::*;

use load::scope_for_profile;
use scenario::needs_browser;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use cucumber::gherkin::{self, tagexpr::TagOperation};
use cucumber::tag::Ext as _;
use regex::Regex;

use crate::checks::timing::Expectations;
use crate::duration::human;
use crate::model::AppId;
use crate::report::{Outcome, ScenarioResult};

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
    use std::path::Path;

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
