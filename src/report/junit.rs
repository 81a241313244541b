//! JUnit XML: one testsuite per feature and application, one testcase per scenario.
//! Findings are `<failure>`, infrastructure trouble `<error>`, not-run `<skipped>`.

use std::collections::BTreeMap;

use super::{Outcome, RunReport, ScenarioResult};

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn testcase(r: &ScenarioResult) -> String {
    let mut x = format!(
        "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\">\n",
        r.app.tag(),
        escape(&r.check),
        escape(&r.name),
        r.duration.as_secs_f64()
    );
    let message = r.message.clone().unwrap_or_default();
    let partly = r.not_judged();
    if !partly.is_empty() {
        x.push_str(&format!(
            "      <properties><property name=\"partly-judged\" value=\"{}\"/></properties>\n",
            escape(&partly.join("; "))
        ));
    }
    match r.outcome {
        Outcome::Passed => {}
        Outcome::Failed => x.push_str(&format!(
            "      <failure message=\"{}\" type=\"finding\">{}</failure>\n",
            escape(message.lines().next().unwrap_or_default()),
            escape(&message)
        )),
        Outcome::Error => x.push_str(&format!(
            "      <error message=\"{}\" type=\"infrastructure\">{}</error>\n",
            escape(message.lines().next().unwrap_or_default()),
            escape(&message)
        )),
        Outcome::NotRun => x.push_str(&format!(
            "      <skipped message=\"not run: {}\"/>\n",
            escape(&message)
        )),
        Outcome::NotApplicable => x.push_str(&format!(
            "      <skipped message=\"not applicable: {}\"/>\n",
            escape(&message)
        )),
    }
    if !r.evidence.is_empty() {
        let head = if partly.is_empty() {
            String::new()
        } else {
            format!("{} (some Then lines not judged)\n", r.verdict_label())
        };
        x.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            escape(&format!("{head}{}", r.evidence.join("\n")))
        ));
    }
    x.push_str("    </testcase>\n");
    x
}

pub fn render(report: &RunReport) -> String {
    let mut suites: BTreeMap<(String, String), Vec<&ScenarioResult>> = BTreeMap::new();
    for r in &report.results {
        suites
            .entry((r.app.tag().to_string(), r.feature.clone()))
            .or_default()
            .push(r);
    }
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"sessiondrill\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        report.results.len(),
        report.count(Outcome::Failed),
        report.count(Outcome::Error),
        report.count(Outcome::NotRun) + report.count(Outcome::NotApplicable),
        report.wall.as_secs_f64()
    ));
    for ((app, feature), cases) in suites {
        let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}: {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
            escape(&app),
            escape(&feature),
            cases.len(),
            count(Outcome::Failed),
            count(Outcome::Error),
            count(Outcome::NotRun) + count(Outcome::NotApplicable),
            cases.iter().map(|c| c.duration.as_secs_f64()).sum::<f64>()
        ));
        for c in cases {
            x.push_str(&testcase(c));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
