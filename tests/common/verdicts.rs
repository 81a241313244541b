//! The verdict table that ends the suite's console output, as the tests read it.

/// The verdict labels; none is a prefix of a later one.
const LABELS: [&str; 5] = ["NOT APPLICABLE", "NOT RUN", "FINDING", "ERROR", "PASS"];

/// One row of the table.
pub struct Row {
    pub verdict: String,
    /// The application's tag (`rocketchat`, `app-django`).
    pub app: String,
    pub check: String,
}

/// The table's rows, from its `VERDICT` header on (progress lines above it are left out).
pub fn rows(console: &str) -> Vec<Row> {
    console
        .lines()
        .skip_while(|l| !l.starts_with("VERDICT "))
        .filter_map(|l| {
            let label = LABELS.iter().find(|p| l.starts_with(*p))?;
            let mut rest = l[label.len()..].split_whitespace();
            Some(Row {
                verdict: label.to_string(),
                app: rest.next()?.to_string(),
                check: rest.next()?.to_string(),
            })
        })
        .collect()
}
