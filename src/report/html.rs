//! The evidence report for a reviewer: one self-contained HTML file (styles, script
//! and screenshots inline, nothing fetched), rendered from `templates/report.html`.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use askama::Template;
use base64::Engine as _;
use regex::Regex;

use super::{CookieSeen, Outcome, RunReport, ScenarioResult, StepStatus};
use crate::duration::human;
use crate::model::AppId;

const OUTCOMES: [Outcome; 5] = [
    Outcome::Passed,
    Outcome::Failed,
    Outcome::Error,
    Outcome::NotApplicable,
    Outcome::NotRun,
];

/// Requirement ids with their meaning and the address of their text (`data/standards.tsv`).
static STANDARDS: LazyLock<BTreeMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| {
        include_str!("../../data/standards.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, (f.next()?, f.next()?)))
            })
            .collect()
    });

/// The meaning and address of a requirement id, if the table knows it.
pub fn standard(id: &str) -> Option<(&'static str, &'static str)> {
    STANDARDS.get(id).copied()
}

fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "pass",
        Outcome::Failed => "finding",
        Outcome::Error => "error",
        Outcome::NotApplicable => "na",
        Outcome::NotRun => "notrun",
    }
}

struct Count {
    label: &'static str,
    class: &'static str,
    n: usize,
}

struct Cell {
    label: String,
    class: &'static str,
    anchor: String,
}

struct MatrixRow {
    check: String,
    cells: Vec<Option<Cell>>,
}

struct Requirement {
    id: String,
    meaning: &'static str,
    href: &'static str,
}

struct StepView {
    keyword: String,
    text: String,
    status: &'static str,
    time: String,
    message: Option<String>,
}

/// One use of a captured credential, as the evidence line recorded it.
#[derive(Debug, PartialEq)]
pub struct Replay {
    pub verdict: String,
    /// Seconds since the credential was captured.
    pub at: f64,
    pub request: String,
    pub answer: String,
}

struct Mark {
    label: String,
    left: f64,
    class: &'static str,
    /// Labels alternate between two rows and turn left near the end, so they do not overlap.
    place: String,
}

struct ScenarioView {
    anchor: String,
    label: String,
    class: &'static str,
    app: &'static str,
    app_name: &'static str,
    check: String,
    name: String,
    location: String,
    requirements: Vec<Requirement>,
    message: Option<String>,
    steps: Vec<StepView>,
    evidence: Vec<String>,
    cookies: Vec<CookieSeen>,
    replays: Vec<Replay>,
    timeline: Vec<Mark>,
    time: String,
    screenshot: Option<String>,
    page_html: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: &'a str,
    totals: String,
    counts: Vec<Count>,
    apps: Vec<(&'static str, &'static str)>,
    matrix: Vec<MatrixRow>,
    scenarios: Vec<ScenarioView>,
    restore_failures: &'a [String],
}

static REPLAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"((?:still )?(?:accepted|refused)) at ([0-9]+(?:\.[0-9]+)?)s \(([^()]*?) → ([^ ()]+)",
    )
    .expect("static pattern")
});

static EXPECTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"expected (idle timeout|maximum lifetime) ([0-9][0-9a-z.]*)(?:, grace ([0-9][0-9a-z.]*))?",
    )
    .expect("static pattern")
});

/// The replays an evidence line records: `accepted at 0.1s (GET /api/v1/me → 200 …)`.
pub fn replays(line: &str) -> Vec<Replay> {
    REPLAY
        .captures_iter(line)
        .filter_map(|c| {
            Some(Replay {
                verdict: c.get(1)?.as_str().to_string(),
                at: c.get(2)?.as_str().parse().ok()?,
                request: c.get(3)?.as_str().trim().to_string(),
                answer: c.get(4)?.as_str().to_string(),
            })
        })
        .collect()
}

/// When a refusal was due, from `expected idle timeout 5s, grace 2s`.
pub fn expected_by(text: &str) -> Option<(String, Duration)> {
    let c = EXPECTED.captures(text)?;
    let limit = crate::duration::parse(c.get(2)?.as_str()).ok()?;
    let grace = c
        .get(3)
        .and_then(|g| crate::duration::parse(g.as_str()).ok())
        .unwrap_or_default();
    Some((c.get(1)?.as_str().to_string(), limit + grace))
}

fn timeline(replays: &[Replay], expected: Option<(String, Duration)>) -> Vec<Mark> {
    let mut marks: Vec<Mark> = replays
        .iter()
        .map(|r| Mark {
            label: format!("{} at {:.1}s", r.verdict, r.at),
            left: r.at,
            class: if r.verdict.contains("refused") {
                "refused"
            } else {
                "accepted"
            },
            place: String::new(),
        })
        .collect();
    if let Some((what, by)) = expected {
        marks.push(Mark {
            label: format!("refusal expected by {} ({what} + grace)", human(by)),
            left: by.as_secs_f64(),
            class: "expected",
            place: String::new(),
        });
    }
    if marks.len() < 2 {
        return Vec::new();
    }
    let end = marks.iter().map(|m| m.left).fold(0.0, f64::max).max(0.001) * 1.05;
    for m in &mut marks {
        m.left = (m.left / end * 100.0).clamp(0.0, 100.0);
    }
    marks.sort_by(|a, b| a.left.total_cmp(&b.left));
    for (i, m) in marks.iter_mut().enumerate() {
        let side = if m.left > 55.0 { "right: 0" } else { "left: 0" };
        m.place = format!("{side}; bottom: {:.1}em", 1.1 + 1.3 * (i % 2) as f64);
    }
    marks
}

fn inline_png(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn view(r: &ScenarioResult, index: usize) -> ScenarioView {
    let mut lines: Vec<&str> = r.evidence.iter().map(String::as_str).collect();
    lines.extend(r.message.as_deref());
    lines.extend(r.steps.iter().filter_map(|s| s.message.as_deref()));
    let mut replays_seen: Vec<Replay> = Vec::new();
    for r in lines.iter().flat_map(|l| replays(l)) {
        // The message repeats its failed step's evidence: one row per replay.
        if !replays_seen.contains(&r) {
            replays_seen.push(r);
        }
    }
    let replays = replays_seen;
    let expected = lines.iter().find_map(|l| expected_by(l));
    ScenarioView {
        anchor: format!("s{index}"),
        label: r.verdict_label(),
        class: class(r.outcome),
        app: r.app.tag(),
        app_name: r.app.name(),
        check: r.check.clone(),
        name: r.name.clone(),
        location: format!("{}:{}", r.feature_path, r.line),
        requirements: r
            .standard_ids()
            .into_iter()
            .map(|id| {
                let (meaning, href) = standard(&id).unwrap_or(("", ""));
                Requirement { id, meaning, href }
            })
            .collect(),
        message: r.message.clone().filter(|_| r.outcome != Outcome::Passed),
        steps: r
            .steps
            .iter()
            .map(|s| StepView {
                keyword: s.keyword.trim().to_string(),
                text: s.text.clone(),
                status: match s.status {
                    StepStatus::Passed => "passed",
                    StepStatus::Failed => "failed",
                    StepStatus::Skipped => "skipped",
                },
                time: if s.status == StepStatus::Skipped {
                    String::new()
                } else {
                    human(s.duration)
                },
                message: s.message.clone(),
            })
            .collect(),
        evidence: r.evidence.clone(),
        cookies: r.cookies.clone(),
        timeline: timeline(&replays, expected),
        replays,
        time: human(r.duration),
        screenshot: r.screenshot.as_deref().and_then(inline_png),
        page_html: r
            .page_html
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok()),
    }
}

pub fn render(report: &RunReport) -> Result<String, askama::Error> {
    let mut results: Vec<&ScenarioResult> = report.results.iter().collect();
    results.sort_by(|a, b| (&a.feature_path, a.line, a.app).cmp(&(&b.feature_path, b.line, b.app)));
    let apps: Vec<AppId> = AppId::ALL
        .into_iter()
        .chain(crate::model::profile_apps())
        .filter(|a| results.iter().any(|r| r.app == *a))
        .collect();
    let scenarios: Vec<ScenarioView> = results
        .iter()
        .enumerate()
        .map(|(i, r)| view(r, i))
        .collect();
    let mut checks: Vec<&str> = Vec::new();
    for r in &results {
        if !checks.contains(&r.check.as_str()) {
            checks.push(&r.check);
        }
    }
    let matrix = checks
        .iter()
        .map(|check| MatrixRow {
            check: check.to_string(),
            cells: apps
                .iter()
                .map(|app| {
                    results
                        .iter()
                        .position(|r| r.app == *app && r.check == *check)
                        .map(|i| Cell {
                            label: results[i].verdict_label(),
                            class: class(results[i].outcome),
                            anchor: format!("s{i}"),
                        })
                })
                .collect(),
        })
        .collect();
    Page {
        title: &report.title,
        totals: report.totals_line(),
        counts: OUTCOMES
            .iter()
            .map(|o| Count {
                label: o.label(),
                class: class(*o),
                n: report.count(*o),
            })
            .collect(),
        apps: apps.iter().map(|a| (a.tag(), a.name())).collect(),
        matrix,
        scenarios,
        restore_failures: &report.restore_failures,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_expectation_are_read_from_evidence() {
        let line = "browser session rejected by the API: accepted at 6.2s (GET /api/v1/me → 200 {\"_id\":\"x\"}) … refused at 7.7s (GET /api/v1/me → 401 {\"error\":\"You must be logged in\"})";
        let r = replays(line);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].verdict, "accepted");
        assert_eq!(r[1].at, 7.7);
        assert_eq!(r[1].request, "GET /api/v1/me");
        assert_eq!(r[1].answer, "401");
        let (what, by) =
            expected_by("still accepted after 7s untouched (expected idle timeout 5s, grace 2s)")
                .expect("an expectation");
        assert_eq!(
            (what.as_str(), by),
            ("idle timeout", Duration::from_secs(7))
        );
        assert_eq!(timeline(&r, Some((what, by))).len(), 3);
    }

    #[test]
    fn every_tagged_requirement_has_its_text() {
        for feature in std::fs::read_dir("features").expect("features/") {
            let text = std::fs::read_to_string(feature.expect("entry").path()).unwrap_or_default();
            for tag in text.split_whitespace().filter(|w| w.starts_with('@')) {
                let r = ScenarioResult {
                    tags: vec![tag.trim_start_matches('@').to_string()],
                    ..super::super::tests::result(Outcome::Passed)
                };
                for id in r.standard_ids() {
                    assert!(standard(&id).is_some(), "{id} is not in data/standards.tsv");
                }
            }
        }
    }
}
