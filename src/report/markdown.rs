//! The evidence report a reviewer reads: every verdict with what was seen.

use super::{Outcome, RunReport};

pub fn render(report: &RunReport) -> String {
    let mut md = format!(
        "# sessiondrill report\n\n{}\n\n{}\n\n",
        report.title,
        report.totals_line()
    );
    if !report.restore_failures.is_empty() {
        md.push_str("## Password restoration failed\n\n");
        for f in &report.restore_failures {
            md.push_str(&format!("- {f}\n"));
        }
        md.push('\n');
    }
    md.push_str("| Verdict | App | Check | Standards |\n|---|---|---|---|\n");
    for r in &report.results {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.verdict_label(),
            r.app.tag(),
            r.check,
            r.standards()
        ));
    }
    for r in &report.results {
        md.push_str(&format!(
            "\n## {} · {} ({})\n\n",
            r.verdict_label(),
            r.name,
            r.app.name()
        ));
        md.push_str(&format!(
            "`{}:{}` · {}\n\n",
            r.feature_path,
            r.line,
            r.standards()
        ));
        if let Some(m) = &r.message
            && r.outcome != Outcome::Passed
        {
            md.push_str("```\n");
            md.push_str(m);
            md.push_str("\n```\n\n");
        }
        if !r.evidence.is_empty() {
            md.push_str("Evidence:\n\n");
            for e in &r.evidence {
                md.push_str(&format!("- {}\n", e.replace('\n', " ")));
            }
        }
        if let Some(p) = &r.screenshot {
            md.push_str(&format!("\nScreenshot: `{}`\n", p.display()));
        }
    }
    md
}
