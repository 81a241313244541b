//! Results of a run and how they are shown: the console verdict table and the
//! files under `target/sessiondrill/` (JUnit XML, Cucumber JSON, Markdown evidence).

pub mod cucumber_json;
pub mod html;
pub mod junit;
pub mod markdown;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::duration::human;
use crate::model::AppId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// A security finding: the check ran and the deployment failed it.
    Failed,
    /// Infrastructure trouble: the check could not reach a verdict.
    Error,
    /// Nothing to judge (no session cookie, no advertised expiry): says what was looked for.
    NotApplicable,
    /// Deliberately not run, with the reason in `message`.
    NotRun,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed => "FINDING",
            Outcome::Error => "ERROR",
            Outcome::NotApplicable => "NOT APPLICABLE",
            Outcome::NotRun => "NOT RUN",
        }
    }
}

/// The process exit status of a run (documented in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Every scenario that ran passed (or had nothing to judge).
    Passed = 0,
    /// Findings, and nothing worse.
    Findings = 1,
    /// Bad input or a failed preflight: nothing was judged.
    BadInput = 2,
    /// At least one scenario could not be judged.
    Errors = 3,
    /// Nothing ran: everything was left out by policy or filters.
    NothingRan = 4,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Failed,
    Skipped,
}

#[derive(Clone, Debug)]
pub struct StepRecord {
    pub keyword: String,
    pub text: String,
    pub line: usize,
    pub status: StepStatus,
    pub duration: Duration,
    pub message: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ScenarioResult {
    pub app: AppId,
    /// The stable check id (the scenario's `@check-…` tag).
    pub check: String,
    pub name: String,
    pub feature: String,
    pub feature_path: String,
    pub line: usize,
    pub tags: Vec<String>,
    pub outcome: Outcome,
    /// Why it failed, errored or was not run.
    pub message: Option<String>,
    pub steps: Vec<StepRecord>,
    pub evidence: Vec<String>,
    pub duration: Duration,
    pub screenshot: Option<PathBuf>,
    /// The page as the browser had it when a step failed, secrets masked.
    pub page_html: Option<PathBuf>,
    /// The cookies the scenario's last look at the browser found, every attribute.
    pub cookies: Vec<CookieSeen>,
}

use crate::model::CookieSeen;

/// How an evidence line names a `Then` step left out for an application that cannot be
/// judged on it (a profile without a realtime channel, say).
pub const NOT_JUDGED: &str = "not judged: ";

impl ScenarioResult {
    /// The `Then` steps left out of a PASS that was reached on the others. (A finding
    /// stands on the step that failed, whatever was left out.)
    pub fn not_judged(&self) -> Vec<&str> {
        if self.outcome != Outcome::Passed {
            return Vec::new();
        }
        self.evidence
            .iter()
            .filter(|e| e.starts_with(NOT_JUDGED))
            .map(String::as_str)
            .collect()
    }

    /// The verdict's label, marked when some of its `Then` steps were left out.
    pub fn verdict_label(&self) -> String {
        if self.not_judged().is_empty() {
            self.outcome.label().to_string()
        } else {
            format!("{} (partly judged)", self.outcome.label())
        }
    }

    /// The ASVS/WSTG tags, e.g. `ASVS 3.4.2, WSTG-SESS-02`.
    pub fn standards(&self) -> String {
        self.standard_ids().join(", ")
    }

    /// The requirement ids in the scenario's tags: `ASVS 3.4.2`, `ASVS5 3.3.4`, `WSTG-SESS-02`.
    pub fn standard_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tags {
            if let Some(id) = t.strip_prefix("asvs5-") {
                out.push(format!("ASVS5 {id}"));
            } else if let Some(id) = t.strip_prefix("asvs-") {
                out.push(format!("ASVS {id}"));
            } else if let Some(id) = t.strip_prefix("wstg-") {
                out.push(format!("WSTG-{}", id.to_uppercase()));
            }
        }
        out
    }
}

#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub title: String,
    pub results: Vec<ScenarioResult>,
    pub wall: Duration,
    pub longest_wait: Duration,
    /// Password changes that could not be undone: always reported, and fail the run.
    pub restore_failures: Vec<String>,
}

impl RunReport {
    pub fn count(&self, o: Outcome) -> usize {
        self.results.iter().filter(|r| r.outcome == o).count()
    }

    /// `N passed, N failed` over the scenarios that ran (errors count as failed).
    pub fn summary_line(&self) -> String {
        let failed = self.count(Outcome::Failed) + self.count(Outcome::Error);
        format!("{} passed, {failed} failed", self.count(Outcome::Passed))
    }

    /// What the run means for CI: errors outrank findings ("could not judge" reads
    /// neither as insecure nor as secure); a run where nothing was judged is its own case.
    pub fn exit_code(&self) -> ExitCode {
        if self.count(Outcome::Error) > 0 || !self.restore_failures.is_empty() {
            ExitCode::Errors
        } else if self.count(Outcome::Failed) > 0 {
            ExitCode::Findings
        } else if self.results.iter().all(|r| r.outcome == Outcome::NotRun) {
            ExitCode::NothingRan
        } else {
            ExitCode::Passed
        }
    }

    /// The check ids that produced a finding for `app`.
    pub fn findings(&self, app: AppId) -> BTreeSet<String> {
        self.results
            .iter()
            .filter(|r| r.app == app && r.outcome == Outcome::Failed)
            .map(|r| r.check.clone())
            .collect()
    }

    pub fn by_check(&self, app: AppId, check: &str) -> Option<&ScenarioResult> {
        self.results
            .iter()
            .find(|r| r.app == app && r.check == check)
    }

    /// The table printed at the end of a run.
    pub fn verdict_table(&self) -> String {
        let mut rows: Vec<&ScenarioResult> = self.results.iter().collect();
        rows.sort_by(|a, b| {
            (a.app, &a.feature_path, a.line).cmp(&(b.app, &b.feature_path, b.line))
        });
        let check_w = rows.iter().map(|r| r.check.len()).max().unwrap_or(5).max(5);
        let mut out = format!(
            "{:<7}  {:<10}  {:<check_w$}  {}\n",
            "VERDICT", "APP", "CHECK", "WHAT IT MEANS"
        );
        for r in rows {
            out.push_str(&format!(
                "{:<7}  {:<10}  {:<check_w$}  {}",
                r.outcome.label(),
                r.app.tag(),
                r.check,
                r.name
            ));
            let std = r.standards();
            if !std.is_empty() {
                out.push_str(&format!(" [{std}]"));
            }
            out.push('\n');
            if r.outcome != Outcome::Passed
                && let Some(m) = &r.message
            {
                for line in m.lines().take(4) {
                    out.push_str(&format!(
                        "{:<7}  {:<10}  {:<check_w$}    {line}\n",
                        "", "", ""
                    ));
                }
            }
            // A verdict reached on some `Then` lines says which it did not judge.
            for line in r.not_judged() {
                out.push_str(&format!(
                    "{:<7}  {:<10}  {:<check_w$}    partly judged: {line}\n",
                    "", "", ""
                ));
            }
        }
        out
    }

    /// Counts with the wall time, before the summary line.
    pub fn totals_line(&self) -> String {
        format!(
            "{} scenarios: {} passed, {} findings, {} errors (could not judge), {} not applicable, {} not run; wall time {}, longest required wait {}",
            self.results.len(),
            self.count(Outcome::Passed),
            self.count(Outcome::Failed),
            self.count(Outcome::Error),
            self.count(Outcome::NotApplicable),
            self.count(Outcome::NotRun),
            human(self.wall),
            human(self.longest_wait)
        )
    }

    /// Writes JUnit XML, Cucumber JSON and the Markdown evidence report into `dir`.
    pub fn write_files(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let files = [
            (dir.join("junit.xml"), junit::render(self)),
            (dir.join("cucumber.json"), cucumber_json::render(self)),
            (dir.join("report.md"), markdown::render(self)),
            (
                dir.join("report.html"),
                html::render(self).map_err(std::io::Error::other)?,
            ),
        ];
        let mut written = Vec::new();
        for (path, text) in files {
            std::fs::write(&path, text)?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn result(outcome: Outcome) -> ScenarioResult {
        ScenarioResult {
            app: AppId::RocketChat,
            check: "c".into(),
            name: "n".into(),
            feature: "f".into(),
            feature_path: "f.feature".into(),
            line: 1,
            tags: Vec::new(),
            outcome,
            message: None,
            steps: Vec::new(),
            evidence: Vec::new(),
            duration: Duration::ZERO,
            screenshot: None,
            page_html: None,
            cookies: Vec::new(),
        }
    }

    fn code(outcomes: &[Outcome]) -> ExitCode {
        RunReport {
            results: outcomes.iter().map(|o| result(*o)).collect(),
            ..RunReport::default()
        }
        .exit_code()
    }

    /// A PASS reached without some of its `Then` lines says so wherever it is shown.
    #[test]
    fn a_partly_judged_verdict_is_marked() {
        let mut partly = result(Outcome::Passed);
        partly.evidence = vec![
            format!("{NOT_JUDGED}\"And resuming … is rejected\": no realtime channel"),
            "the browser session is refused".into(),
        ];
        let whole = result(Outcome::Passed);
        assert_eq!(partly.verdict_label(), "PASS (partly judged)");
        assert_eq!(whole.verdict_label(), "PASS");
        for outcome in [Outcome::Failed, Outcome::NotApplicable] {
            let mut other = partly.clone();
            other.outcome = outcome;
            assert_eq!(other.verdict_label(), outcome.label());
        }

        let report = RunReport {
            results: vec![partly],
            ..RunReport::default()
        };
        let table = report.verdict_table();
        assert!(
            table.contains("partly judged: not judged: \"And resuming … is rejected\""),
            "{table}"
        );
        assert!(!table.contains("the browser session is refused"), "{table}");
        let md = markdown::render(&report);
        assert!(md.contains("| PASS (partly judged) |"), "{md}");
        let xml = junit::render(&report);
        assert!(
            xml.contains("<property name=\"partly-judged\"")
                && xml.contains("PASS (partly judged) (some Then lines not judged)"),
            "{xml}"
        );
        let json = cucumber_json::render(&report);
        assert!(
            json.contains("@partly-judged") && json.contains("PASS (partly judged): not judged"),
            "{json}"
        );
    }

    #[test]
    fn errors_outrank_findings_and_nothing_run_is_its_own_case() {
        use Outcome::*;
        assert_eq!(code(&[Passed, NotApplicable, NotRun]), ExitCode::Passed);
        assert_eq!(code(&[Passed, Failed]), ExitCode::Findings);
        assert_eq!(code(&[Failed, Error, Passed]), ExitCode::Errors);
        assert_eq!(code(&[NotRun, NotRun]), ExitCode::NothingRan);
        let mut r = RunReport {
            results: vec![result(Passed)],
            ..RunReport::default()
        };
        r.restore_failures.push("password not restored".into());
        assert_eq!(r.exit_code(), ExitCode::Errors);
        assert_eq!(
            [0, 1, 2, 3, 4],
            [
                ExitCode::Passed.code(),
                ExitCode::Findings.code(),
                ExitCode::BadInput.code(),
                ExitCode::Errors.code(),
                ExitCode::NothingRan.code()
            ]
        );
    }
}
