//! Every exit code of `sessiondrill`, as the README documents them, from a real run of
//! the binary against its built-in reference targets. The scenarios chosen need no
//! browser, so each run takes a few seconds.

use std::process::Command;

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "sessiondrill-exit-{}-{}",
        std::process::id(),
        args.join("_").replace(['@', ' ', '/', '(', ')'], "")
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sessiondrill"));
    cmd.args(args)
        .arg("--quiet")
        .arg("--out")
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SESSIONDRILL_ROCKETCHAT_URL")
        .env_remove("SESSIONDRILL_CHATWOOT_URL")
        .env_remove("SESSIONDRILL_SECRET_KEY_BASES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the sessiondrill binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn zero_when_everything_passes() {
    let (code, out) = run(
        &[
            "--posture",
            "hardened",
            "--tags",
            "@rocketchat and @transport",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
}

#[test]
fn one_for_findings() {
    let (code, out) = run(
        &[
            "--posture",
            "hardened",
            "--weaken",
            "no-hsts",
            "--tags",
            "@rocketchat and @transport",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FINDING"), "{out}");
}

#[test]
fn two_for_bad_input() {
    let (code, out) = run(&["--tags", "@a and ("], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is not a tag expression"), "{out}");
    let (code, out) = run(
        &["--tags", "@transport"],
        &[("SESSIONDRILL_SECRET_KEY_BASES", "/nonexistent/secrets.txt")],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("SESSIONDRILL_SECRET_KEY_BASES"), "{out}");
}

#[test]
fn three_when_anything_could_not_be_judged_even_beside_findings() {
    // Every replay refused from the start: the logout check cannot judge (no baseline),
    // while the missing HSTS is a finding. Errors outrank findings.
    let (code, out) = run(
        &[
            "--posture",
            "hardened",
            "--weaken",
            "refuses-every-replay,no-hsts",
            "--tags",
            "@rocketchat and (@check-logout-api or @check-hsts)",
        ],
        &[],
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("no baseline"), "{out}");
    assert!(out.contains("FINDING"), "{out}");
}

#[test]
fn four_when_nothing_ran() {
    let (code, out) = run(&["--name", "no scenario is called this"], &[]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("0 passed, 0 failed"), "{out}");
}

/// An account the suite changed and cannot give back ends the run in ERROR, with the
/// reason, the way out, and the temporary password in a private file (never on screen).
#[test]
fn three_when_a_changed_password_cannot_be_restored() {
    let dir = std::env::temp_dir().join(format!("sessiondrill-restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_sessiondrill"))
        .args([
            "--posture",
            "hardened",
            "--weaken",
            "password-history",
            "--tags",
            "@rocketchat and @check-password-change",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SESSIONDRILL_ROCKETCHAT_URL")
        .env_remove("SESSIONDRILL_CHATWOOT_URL")
        .output()
        .expect("the sessiondrill binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("COULD NOT RESTORE"), "{text}");
    assert!(text.contains("error-password-in-history"), "{text}");
    assert!(
        text.contains("password history"),
        "the way out is named: {text}"
    );
    let file = dir.join("RESTORE-PASSWORD-rocketchat.txt");
    let note = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}\n{text}", file.display()));
    assert!(note.contains("temporary password"), "{note}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o600));
    // The scenario itself is not a PASS: its verdict could not be made final.
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap_or_default();
    assert!(report.contains("account not restored"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
