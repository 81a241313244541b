//! What the suite prints and writes, tested from outside: the binary runs against
//! reference targets started here, as it would against a staging server.
//!
//! - Golden files: the console, `junit.xml`, `cucumber.json` and `report.md` of a small
//!   run with a PASS, a FINDING, an ERROR and a NOT RUN scenario equal the recorded files
//!   in `tests/output/`, once times, ports and masked values are replaced by placeholders.
//!   `SESSIONDRILL_BLESS=1 cargo test --test output` records them anew.
//! - Leaks: a whole as-shipped run of both applications writes no password and no token
//!   the reference targets handed out, whole or percent-encoded, anywhere: console,
//!   reports, screenshots. The targets' own ledgers say what to look for, independently
//!   of the suite's masker. The same run's verdicts are exactly the as-shipped findings
//!   the README lists, and nothing else is left unjudged.

#[path = "common/verdicts.rs"]
mod verdicts;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use sessiondrill::apps::AppId;
use sessiondrill::config::TargetConfig;
use sessiondrill::probe::store;
use sessiondrill::refapp::{Posture, RefApp, Weakness};
use sessiondrill::runner::reference;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

async fn target(app: AppId, posture: Posture, weaknesses: &str) -> (RefApp, TargetConfig) {
    let weak = Weakness::parse_list(weaknesses).expect("known weaknesses");
    let opts = reference::options(app, posture, &weak, reference::SCALED);
    reference::start_one(opts, reference::SCALED)
        .await
        .expect("reference target starts")
}

/// The environment that points the suite at `t`, as a user configures a deployment.
fn env_for(t: &TargetConfig) -> Vec<(String, String)> {
    let up = t.app.tag().to_uppercase();
    let login = sessiondrill::config::login_key(t.app);
    let mut v = vec![
        (format!("SESSIONDRILL_{up}_URL"), t.url.to_string()),
        (
            format!("SESSIONDRILL_{up}_HTTP_URL"),
            t.http_url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
        ),
        (
            format!("SESSIONDRILL_{up}_{login}"),
            t.account.login.clone(),
        ),
        (
            format!("SESSIONDRILL_{up}_PASSWORD"),
            t.account.password.expose().to_string(),
        ),
        (format!("SESSIONDRILL_{up}_EXPIRY_SLACK"), "1s".into()),
    ];
    // The stand-in's administrator, as a user names a second account for deactivation.
    if let Some(a) = &t.admin {
        v.push((format!("SESSIONDRILL_{up}_ADMIN_{login}"), a.login.clone()));
        v.push((
            format!("SESSIONDRILL_{up}_ADMIN_PASSWORD"),
            a.password.expose().to_string(),
        ));
    }
    if let Some((n, period)) = t.hardening.lockout {
        v.push((
            format!("SESSIONDRILL_{up}_LOCKOUT"),
            format!("{n}/{}s", period.as_secs()),
        ));
    }
    if let Some(k) = &t.secret_key_base {
        v.push((
            format!("SESSIONDRILL_{up}_SECRET_KEY_BASE"),
            k.expose().to_string(),
        ));
    }
    // The stand-in's CA and session stores, as a user names a private CA and their stores.
    if let Some(pem) = &t.hardening.ca_pem {
        let dir = manifest().join("target/sessiondrill/output-tests");
        std::fs::create_dir_all(&dir).expect("output-tests dir");
        let path = dir.join(format!(
            "{}-{}-ca.pem",
            t.app.tag(),
            t.url.port().unwrap_or(0)
        ));
        std::fs::write(&path, pem).expect("CA written");
        v.push((
            format!("SESSIONDRILL_{up}_CA_FILE"),
            path.display().to_string(),
        ));
    }
    let stores: Vec<String> = t
        .hardening
        .stores
        .iter()
        .map(|s| match s.kind {
            store::Kind::Postgres => format!("postgres://{}@{}:{}", s.user, s.host, s.port),
            _ => s.label(),
        })
        .collect();
    if !stores.is_empty() {
        v.push((format!("SESSIONDRILL_{up}_STORE"), stores.join(",")));
    }
    v
}

struct Run {
    code: i32,
    console: String,
    out: PathBuf,
}

fn run_binary(name: &str, args: &[&str], env: &[(String, String)]) -> Run {
    let out = manifest()
        .join("target/sessiondrill/output-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sessiondrill"));
    cmd.args(args)
        .arg("--out")
        .arg(&out)
        .current_dir(manifest())
        .env(
            "SESSIONDRILL_IDLE_TIMEOUT",
            format!("{}s", reference::SCALED.idle_timeout.as_secs()),
        )
        .env(
            "SESSIONDRILL_MAX_LIFETIME",
            format!("{}s", reference::SCALED.max_lifetime.as_secs()),
        )
        .env(
            "SESSIONDRILL_GRACE",
            format!("{}s", reference::SCALED.grace.as_secs()),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("the sessiondrill binary runs");
    Run {
        code: o.status.code().unwrap_or(-1),
        console: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        out,
    }
}

/// Replaces what differs between runs: times, ports, masked values, dates, random ids.
fn normalise(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"[^\s(){}\[\]]{0,4}…#[0-9a-f]{8}", "<masked>"),
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?",
            "<date>",
        ),
        (r"\.test:\d+", ".test:<port>"),
        (r#"(time|duration)(="|": ?)[\d.]+"#, "$1$2<n>"),
        (r"\b\d+(\.\d+)?(ms|s)\b", "<t>"),
        (r"\b\d+m \d+s\b|\b\d+m\b", "<t>"),
        (r"[0-9a-f]{32}", "<hex>"),
    ];
    // The checkout's own path first: it differs between machines and may hold digits.
    let mut out = text.replace(&manifest().display().to_string(), "<repo>");
    for (pattern, with) in rules {
        out = Regex::new(pattern)
            .expect("valid pattern")
            .replace_all(&out, *with)
            .into_owned();
    }
    out
}

fn golden(name: &str, actual: &str) -> Option<String> {
    let path = manifest().join("tests/output").join(name);
    let actual = normalise(actual);
    if std::env::var_os("SESSIONDRILL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("golden dir");
        std::fs::write(&path, &actual).expect("golden file written");
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Some(format!(
        "{name} differs from tests/output/{name} at line {}:\n  expected: {}\n  actual:   {}\n(SESSIONDRILL_BLESS=1 records the new output)",
        first + 1,
        expected.lines().nth(first).unwrap_or("<end>"),
        actual.lines().nth(first).unwrap_or("<end>")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_reports_match_the_recorded_output() {
    let (running, t) = target(
        AppId::RocketChat,
        Posture::Hardened,
        "no-hsts,refuses-every-replay",
    )
    .await;
    let mut secrets = running.ledger.values();
    secrets.push(t.account.password.expose().to_string());
    let env = env_for(&t);
    // One scenario at a time, so the console's order is the plan's.
    let run = tokio::task::spawn_blocking(move || {
        run_binary(
            "golden",
            &[
                "--concurrency",
                "1",
                "--tags",
                "@transport or @check-logout-api or @check-logout-ui or @password",
            ],
            &env,
        )
    })
    .await
    .expect("run finished");
    assert_eq!(run.code, 3, "errors outrank findings:\n{}", run.console);
    // The console's progress lines for waits vary; the rest is stable.
    let console: String = run
        .console
        .lines()
        .filter(|l| !l.trim_start().starts_with('…'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut diffs = Vec::new();
    diffs.extend(golden("console.out", &console));
    for f in ["junit.xml", "cucumber.json", "report.md"] {
        let text = std::fs::read_to_string(run.out.join(f)).expect("report written");
        diffs.extend(golden(f, &text));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
    html_report_reads_right_in_a_browser(&run.out, &secrets).await;
}

/// `n` in `name="n"` of JUnit's `<testsuites>` element.
fn junit_count(junit: &str, name: &str) -> usize {
    Regex::new(&format!(r#"<testsuites[^>]*\b{name}="(\d+)""#))
        .expect("valid pattern")
        .captures(junit)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("junit.xml has no {name} count"))
}

/// The HTML report as a reader sees it in headless Chromium: counts equal JUnit's, a
/// failed scenario shows its screenshot, the filters work offline, no whole secret.
async fn html_report_reads_right_in_a_browser(out: &Path, secrets: &[String]) {
    use serde_json::Value;
    use sessiondrill::browser::Browsers;
    let html = out.join("report.html");
    let url = url::Url::from_file_path(&html).expect("absolute path");
    let browsers = Browsers::new(None, 1);
    let b = browsers.session(false).await.expect("a browser session");
    b.goto(&url).await.expect("the report opens");
    let count = |outcome: &'static str| {
        let b = &b;
        async move {
            b.exec(
                &format!(
                    "return Number(document.querySelector('[data-count={outcome}]').textContent)"
                ),
                vec![],
            )
            .await
            .expect("count readable")
            .as_u64()
            .expect("a number") as usize
        }
    };
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    let (pass, finding, error, na, notrun) = (
        count("pass").await,
        count("finding").await,
        count("error").await,
        count("na").await,
        count("notrun").await,
    );
    assert!(
        pass > 0 && finding > 0 && error > 0 && notrun > 0,
        "the run has every outcome"
    );
    assert_eq!(
        pass + finding + error + na + notrun,
        junit_count(&junit, "tests")
    );
    assert_eq!(finding, junit_count(&junit, "failures"));
    assert_eq!(error, junit_count(&junit, "errors"));
    assert_eq!(na + notrun, junit_count(&junit, "skipped"));
    let matrix_cells = b
        .exec(
            "return document.querySelectorAll('#matrix a.v').length",
            vec![],
        )
        .await
        .expect("matrix readable");
    assert_eq!(
        matrix_cells.as_u64(),
        Some((pass + finding + error + na + notrun) as u64)
    );

    // A failed scenario's screenshot is in the page itself and has loaded.
    let shots = b
        .exec(
            "return [...document.querySelectorAll('section.scenario')]
               .filter(s => s.dataset.outcome === 'finding' || s.dataset.outcome === 'error')
               .map(s => s.querySelector('img.shot'))
               .filter(i => i && i.complete && i.naturalWidth > 0 && i.src.startsWith('data:image/png')).length",
            vec![],
        )
        .await
        .expect("screenshots readable");
    assert!(
        shots.as_u64().unwrap_or(0) > 0,
        "no failed scenario shows its screenshot"
    );

    // The filters work without a server: hide passes and one application.
    let visible = "return [...document.querySelectorAll('section.scenario')].filter(s => s.offsetParent !== null).map(s => s.dataset.outcome)";
    let before = b.exec(visible, vec![]).await.expect("sections");
    b.exec(
        "document.querySelector('input[data-outcome=pass]').click()",
        vec![],
    )
    .await
    .expect("filter clicked");
    let after = b.exec(visible, vec![]).await.expect("sections");
    let outcomes = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        outcomes(&before).len(),
        pass + finding + error + na + notrun
    );
    assert_eq!(outcomes(&after).len(), finding + error + na + notrun);
    assert!(!outcomes(&after).iter().any(|o| o == "pass"));
    b.exec(
        "document.querySelectorAll('input[data-app]').forEach(i => i.click())",
        vec![],
    )
    .await
    .expect("filter clicked");
    assert!(outcomes(&b.exec(visible, vec![]).await.expect("sections")).is_empty());
    b.exec(
        "document.querySelectorAll('#filters input').forEach(i => { if (!i.checked) i.click() })",
        vec![],
    )
    .await
    .expect("filters reset");

    // What a reader can see or copy holds no whole secret.
    let page = b
        .exec(
            "return document.documentElement.outerHTML + document.body.innerText",
            vec![],
        )
        .await
        .expect("page text");
    let page = page.as_str().unwrap_or_default();
    assert!(page.contains("…#"), "the report shows masked values");
    for s in secrets {
        assert!(
            !page.contains(s.as_str()),
            "{} appears whole in report.html",
            sessiondrill::secret::mask(s)
        );
    }
    b.screenshot(&out.join("report.png"))
        .await
        .expect("screenshot of the report");
    b.close().await;
    browsers.shutdown();
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// The check ids the README lists as an application's as-shipped findings.
fn readme_findings(app: AppId) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest().join("README.md")).expect("README.md");
    let start = format!("<!-- as-shipped-findings:{} -->", app.tag());
    let section = text
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once("<!-- /as-shipped-findings -->"))
        .map(|(s, _)| s)
        .unwrap_or_else(|| panic!("README.md has no {start} section"));
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(id, _)| id.to_string()))
        .collect()
}

/// Checks the as-shipped posture leaves with nothing to judge, and why that is right.
const AS_SHIPPED_NOT_APPLICABLE: &[(AppId, &str)] = &[
    // Chatwoot signs in with `store: false`: the Rails session never holds the sign-in.
    (AppId::Chatwoot, "session-renewed"),
    // Rocket.Chat issues no session before sign-in.
    (AppId::RocketChat, "issued-id-replaced"),
    // Chatwoot 4.9.1 offers no "sign out other sessions" and no deactivation of a user.
    (AppId::Chatwoot, "end-other-sessions"),
    (AppId::Chatwoot, "deactivation-ends-sessions"),
];

/// As shipped, each application has exactly the findings its README section lists, and
/// every other check is judged: PASS, or NOT APPLICABLE where listed above.
fn as_shipped_verdicts_are_the_readmes(console: &str) {
    let table = verdicts::rows(console);
    let mut wrong = Vec::new();
    for app in AppId::ALL {
        let got: BTreeSet<String> = table
            .iter()
            .filter(|r| r.verdict == "FINDING" && r.app == app.tag())
            .map(|r| r.check.clone())
            .collect();
        let listed = readme_findings(app);
        if got != listed {
            wrong.push(format!(
                "{} findings differ from the README: only found {:?}; only listed {:?}",
                app.tag(),
                got.difference(&listed).collect::<Vec<_>>(),
                listed.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    for r in &table {
        let allowed = r.verdict == "NOT APPLICABLE"
            && AS_SHIPPED_NOT_APPLICABLE
                .iter()
                .any(|(app, check)| app.tag() == r.app && *check == r.check);
        if r.verdict != "PASS" && r.verdict != "FINDING" && !allowed {
            wrong.push(format!("{} {}: {}", r.app, r.check, r.verdict));
        }
    }
    assert!(
        table.len() > 40 && wrong.is_empty(),
        "as shipped ({} verdicts read):\n{}\n\n{console}",
        table.len(),
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_token_appears_in_any_output() {
    let (rc, rc_t) = target(AppId::RocketChat, Posture::AsShipped, "").await;
    let (cw, cw_t) = target(AppId::Chatwoot, Posture::AsShipped, "").await;
    let mut env = env_for(&rc_t);
    env.extend(env_for(&cw_t));
    env.push(("SESSIONDRILL_ALLOW_DESTRUCTIVE".into(), "1".into()));
    env.push(("SESSIONDRILL_ALLOW_SLOW".into(), "1".into()));
    let run = tokio::task::spawn_blocking(move || run_binary("leaks", &[], &env))
        .await
        .expect("run finished");
    assert_eq!(
        run.code, 1,
        "as shipped, both have findings:\n{}",
        run.console
    );
    as_shipped_verdicts_are_the_readmes(&run.console);

    let mut secrets: Vec<String> = rc.ledger.values();
    secrets.extend(cw.ledger.values());
    for t in [&rc_t, &cw_t] {
        secrets.push(t.account.password.expose().to_string());
        if let Some(k) = &t.secret_key_base {
            secrets.push(k.expose().to_string());
        }
    }
    assert!(
        secrets.len() > 20,
        "the targets handed out too few secrets to make this test mean anything: {}",
        secrets.len()
    );
    let mut files = Vec::new();
    files_under(&run.out, &mut files);
    let mut places: Vec<(String, Vec<u8>)> = vec![("console".into(), run.console.into_bytes())];
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        places.push((f.display().to_string(), bytes));
    }
    // Every secret, whole and percent-encoded, searched for in one pass per place.
    let needles: Vec<(usize, Vec<u8>)> = secrets
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            [(i, s.as_bytes().to_vec()), (i, encoded.into_bytes())]
        })
        .collect();
    let finder = aho_corasick::AhoCorasick::new(needles.iter().map(|(_, n)| n))
        .expect("secrets make a searcher");
    // A control: the searcher finds a secret planted in ordinary text.
    let planted = format!("token: {}; end", secrets[secrets.len() / 2]);
    assert!(
        finder.find(planted.as_bytes()).is_some(),
        "the searcher misses a planted secret"
    );
    let mut found: BTreeSet<(usize, String)> = BTreeSet::new();
    for (name, bytes) in &places {
        for m in finder.find_overlapping_iter(bytes.as_slice()) {
            found.insert((needles[m.pattern().as_usize()].0, name.clone()));
        }
    }
    let leaks: Vec<String> = found
        .iter()
        .map(|(i, name)| {
            format!(
                "{} (of {} characters) appears whole in {name}",
                sessiondrill::secret::mask(&secrets[*i]),
                secrets[*i].len()
            )
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} secrets leaked:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_page_names_the_selector_and_its_setting() {
    let (_running, t) = target(AppId::RocketChat, Posture::Hardened, "").await;
    let dir = manifest().join("target/sessiondrill/output-tests/ui-config");
    std::fs::create_dir_all(&dir).expect("config dir");
    let config = dir.join("sessiondrill.toml");
    std::fs::write(
        &config,
        "[rocketchat]\nui = { user_menu = \"#menu-of-another-version\" }\n",
    )
    .expect("config written");
    let mut env = env_for(&t);
    env.push(("SESSIONDRILL_CONFIG".into(), config.display().to_string()));
    let run = tokio::task::spawn_blocking(move || {
        run_binary("ui-drift", &["--tags", "@check-logout-ui"], &env)
    })
    .await
    .expect("run finished");
    assert_eq!(
        run.code, 3,
        "a page that differs is ERROR:\n{}",
        run.console
    );
    assert!(
        run.console.contains("`#menu-of-another-version`")
            && run.console.contains("[rocketchat.ui] user_menu"),
        "the error names the selector and its setting:\n{}",
        run.console
    );
    let mut files = Vec::new();
    files_under(&run.out.join("screenshots"), &mut files);
    let has = |ext: &str| {
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == ext))
    };
    assert!(
        has("png") && has("html"),
        "screenshot and page HTML: {files:?}"
    );
}
