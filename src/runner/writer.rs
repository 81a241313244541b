//! Turns cucumber's events into results, printing one line per finished scenario.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::time::{Duration, Instant};

use cucumber::event::{self, HookType, StepError};
use cucumber::{Event, cli, gherkin, parser};

use super::plan;
use crate::duration::human;
use crate::report::{Outcome, ScenarioResult, StepRecord, StepStatus};
use crate::secret::Masker;
use crate::steps::world::{StepFailure, StopKind, World};

type Key = (String, usize);

pub struct Recorder {
    pub results: BTreeMap<Key, ScenarioResult>,
    started: HashMap<Key, Instant>,
    step_started: HashMap<(Key, usize), Instant>,
    pub parse_errors: Vec<String>,
    progress: bool,
    masker: Masker,
}

impl Recorder {
    pub fn new(progress: bool, masker: Masker) -> Self {
        Self {
            results: BTreeMap::new(),
            started: HashMap::new(),
            step_started: HashMap::new(),
            parse_errors: Vec::new(),
            progress,
            masker,
        }
    }

    fn scenario_event(
        &mut self,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        s: &gherkin::Scenario,
        ev: &event::Scenario<World>,
    ) {
        let key: Key = (plan::feature_path(f), s.position.line);
        match ev {
            event::Scenario::Started => {
                self.started.insert(key.clone(), Instant::now());
                let mut res = plan::skeleton(f, r, s);
                res.outcome = Outcome::Passed;
                self.results.insert(key, res);
            }
            event::Scenario::Step(step, st) | event::Scenario::Background(step, st) => {
                self.step_event(&key, step, st)
            }
            event::Scenario::Hook(kind, event::Hook::Failed(_, info)) => {
                let what = match kind {
                    HookType::Before => "before the scenario",
                    HookType::After => "after the scenario",
                };
                if let Some(res) = self.results.get_mut(&key) {
                    res.outcome = Outcome::Error;
                    res.message = Some(format!("harness failure {what}: {}", payload(info).1));
                }
            }
            event::Scenario::Finished => {
                let elapsed = self
                    .started
                    .remove(&key)
                    .map(|t| t.elapsed())
                    .unwrap_or(Duration::ZERO);
                if let Some(res) = self.results.get_mut(&key) {
                    res.duration = elapsed;
                    if self.progress {
                        print_line(res);
                    }
                }
            }
            _ => {}
        }
    }

    fn step_event(&mut self, key: &Key, step: &gherkin::Step, st: &event::Step<World>) {
        let skey = (key.clone(), step.position.line);
        let (status, message) = match st {
            event::Step::Started => {
                self.step_started.insert(skey, Instant::now());
                return;
            }
            event::Step::Passed(..) => (StepStatus::Passed, None),
            event::Step::Skipped => (StepStatus::Skipped, None),
            event::Step::Failed(_, _, _, err) => {
                let (kind, message) = match err {
                    StepError::Panic(info) => payload(info),
                    StepError::NotFound => (
                        StopKind::Error,
                        "no step definition matches this step".to_string(),
                    ),
                    StepError::AmbiguousMatch(e) => (
                        StopKind::Error,
                        format!("step matches several definitions: {e}"),
                    ),
                };
                let message = self.masker.scrub(&message);
                let (outcome, status) = match kind {
                    StopKind::Finding => (Outcome::Failed, StepStatus::Failed),
                    StopKind::Error => (Outcome::Error, StepStatus::Failed),
                    // Nothing to judge is not a failed step: it is skipped, with the reason.
                    StopKind::NotApplicable => (Outcome::NotApplicable, StepStatus::Skipped),
                };
                if let Some(res) = self.results.get_mut(key) {
                    res.outcome = outcome;
                    res.message = Some(message.clone());
                }
                (status, Some(message))
            }
        };
        let duration = self
            .step_started
            .remove(&skey)
            .map(|t| t.elapsed())
            .unwrap_or(Duration::ZERO);
        if let Some(res) = self.results.get_mut(key) {
            let record = StepRecord {
                keyword: step.keyword.clone(),
                text: step.value.clone(),
                line: step.position.line,
                status,
                duration,
                message,
            };
            // The skeleton lists every step as skipped; replace the one that ran.
            match res.steps.iter_mut().find(|s| s.line == record.line) {
                Some(slot) => *slot = record,
                None => res.steps.push(record),
            }
        }
    }
}

/// (kind, message) from a step's panic payload.
fn payload(info: &event::Info) -> (StopKind, String) {
    if let Some(f) = info.downcast_ref::<StepFailure>() {
        return (f.kind, f.message.clone());
    }
    let text = info
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    (StopKind::Error, format!("internal error: {text}"))
}

fn print_line(r: &ScenarioResult) {
    super::waits::clear_status();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<7}  {:<10}  {}  ({})",
        r.outcome.label(),
        r.app.tag(),
        r.name,
        human(r.duration)
    );
    // A PASS reached without some of its Then lines says so on the line below it.
    for line in r.not_judged() {
        let _ = writeln!(out, "{:<7}  {:<10}    partly judged: {line}", "", "");
    }
    if r.outcome != Outcome::Passed
        && let Some(m) = &r.message
    {
        for line in m.lines().take(6) {
            let _ = writeln!(out, "{:<7}  {:<10}    {line}", "", "");
        }
    }
    let _ = out.flush();
}

impl cucumber::Writer<World> for Recorder {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        ev: parser::Result<Event<event::Cucumber<World>>>,
        _cli: &Self::Cli,
    ) {
        let ev = match ev {
            Ok(ev) => ev.value,
            Err(e) => {
                self.parse_errors.push(e.to_string());
                return;
            }
        };
        if let event::Cucumber::Feature(f, fe) = ev {
            match fe {
                event::Feature::Scenario(s, rs) => self.scenario_event(&f, None, &s, &rs.event),
                event::Feature::Rule(r, event::Rule::Scenario(s, rs)) => {
                    self.scenario_event(&f, Some(&r), &s, &rs.event)
                }
                _ => {}
            }
        }
    }
}

impl cucumber::writer::Normalized for Recorder {}
