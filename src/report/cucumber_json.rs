//! Cucumber JSON (the format cucumber-jvm, Allure and CI dashboards read).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Outcome, RunReport, ScenarioResult, StepStatus};

fn element(r: &ScenarioResult) -> Value {
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| {
            let status = match s.status {
                StepStatus::Passed => "passed",
                StepStatus::Failed => "failed",
                StepStatus::Skipped => "skipped",
            };
            let mut result = json!({"status": status, "duration": s.duration.as_nanos() as u64});
            if let Some(m) = &s.message {
                result["error_message"] = json!(m);
            }
            json!({"keyword": s.keyword, "name": s.text, "line": s.line, "result": result})
        })
        .collect();
    let mut e = json!({
        "id": format!("{}:{}", r.feature_path, r.line),
        "keyword": "Scenario Outline",
        "type": "scenario",
        "name": r.name,
        "line": r.line,
        "tags": r.tags.iter().map(|t| json!({"name": format!("@{t}")})).collect::<Vec<_>>(),
        "steps": steps,
    });
    let why = match r.outcome {
        Outcome::NotRun => Some("not run"),
        Outcome::NotApplicable => Some("not applicable"),
        _ => None,
    };
    if let Some(why) = why {
        e["description"] = json!(format!("{why}: {}", r.message.clone().unwrap_or_default()));
    }
    let partly = r.not_judged();
    if !partly.is_empty() {
        e["description"] = json!(format!("{}: {}", r.verdict_label(), partly.join("; ")));
        if let Some(t) = e["tags"].as_array_mut() {
            t.push(json!({"name": "@partly-judged"}));
        }
    }
    if !r.evidence.is_empty() {
        e["output"] = json!(r.evidence);
    }
    e
}

pub fn render(report: &RunReport) -> String {
    let mut features: BTreeMap<&str, (String, Vec<Value>)> = BTreeMap::new();
    for r in &report.results {
        features
            .entry(r.feature_path.as_str())
            .or_insert_with(|| (r.feature.clone(), Vec::new()))
            .1
            .push(element(r));
    }
    let out: Vec<Value> = features
        .into_iter()
        .map(|(uri, (name, elements))| {
            json!({"uri": uri, "id": crate::steps::world::slug(&name), "keyword": "Feature", "name": name, "elements": elements})
        })
        .collect();
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".into())
}
