//! docker-compose.yml, the CI recipes and the README cannot drift apart: the names,
//! ports, users, passwords and variables the README's compose command relies on are
//! the ones the compose file defines and the recipes use. Read with a YAML parser.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use yaml_rust2::{Yaml, YamlLoader};

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one YAML document");
    docs.remove(0)
}

/// The shell block under the README's `### docker-compose.yml` heading.
fn readme_compose_block() -> String {
    let readme = read("README.md");
    let section = readme
        .split("### docker-compose.yml")
        .nth(1)
        .expect("README has a docker-compose.yml section");
    section
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section has a sh block")
        .to_string()
}

/// `NAME=value` assignments in shell text (quotes removed).
fn assignments(text: &str) -> BTreeMap<String, String> {
    Regex::new(r#"\b((?:SESSIONDRILL|CHATWOOT)_[A-Z_]+)=('[^']*'|"[^"]*"|\S+)"#)
        .expect("pattern")
        .captures_iter(text)
        .map(|c| (c[1].to_string(), c[2].trim_matches(['\'', '"']).to_string()))
        .collect()
}

fn profiles(text: &str) -> Vec<String> {
    Regex::new(r"--profile (\S+)")
        .expect("pattern")
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

fn service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    let s = &compose["services"][name];
    assert!(!s.is_badvalue(), "docker-compose.yml has no service {name}");
    s
}

/// `environment.key` of a service, also through a `<<:` merge of an anchored block.
fn env_of<'a>(svc: &'a Yaml, key: &str) -> &'a str {
    [&svc["environment"][key], &svc["<<"]["environment"][key]]
        .into_iter()
        .find_map(|v| v.as_str())
        .unwrap_or_else(|| panic!("no environment {key}"))
}

/// The default in `${VAR:-default}`.
fn default_of(value: &str) -> &str {
    value
        .split(":-")
        .nth(1)
        .and_then(|d| d.strip_suffix('}'))
        .unwrap_or(value)
}

/// Rocket.Chat 8.1's default password policy: 14 characters, upper, lower, digit, symbol.
fn meets_rocketchat_policy(p: &str) -> bool {
    p.chars().count() >= 14
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| !c.is_ascii_alphanumeric())
}

#[test]
fn the_readme_compose_command_matches_the_compose_file() {
    let compose = yaml("docker-compose.yml");
    let block = readme_compose_block();
    let vars = assignments(&block);
    let all_profiles: Vec<String> = compose["services"]
        .as_hash()
        .expect("services")
        .values()
        .flat_map(|s| s["profiles"].as_vec().cloned().unwrap_or_default())
        .filter_map(|p| p.as_str().map(String::from))
        .collect();
    for p in profiles(&block) {
        assert!(
            all_profiles.contains(&p),
            "README uses profile {p}, compose has none"
        );
    }
    for (app, proxy, url_key) in [
        ("rocketchat", "rocketchat-proxy", "ROOT_URL"),
        ("chatwoot", "chatwoot-proxy", "FRONTEND_URL"),
    ] {
        let up = app.to_uppercase();
        let ports: Vec<String> = service(&compose, proxy)["ports"]
            .as_vec()
            .expect("ports")
            .iter()
            .filter_map(|p| p.as_str().map(String::from))
            .collect();
        for key in ["URL", "HTTP_URL"] {
            let var = format!("SESSIONDRILL_{up}_{key}");
            let url = url::Url::parse(
                vars.get(&var)
                    .unwrap_or_else(|| panic!("README sets {var}")),
            )
            .expect("a URL");
            let port = url.port().expect("an explicit port");
            assert!(
                ports.contains(&format!("127.0.0.1:{port}:{port}")),
                "{var} uses port {port}; {proxy} publishes {ports:?}"
            );
        }
        let app_url = env_of(service(&compose, app), url_key);
        assert_eq!(
            app_url.trim_end_matches('/'),
            vars[&format!("SESSIONDRILL_{up}_URL")].trim_end_matches('/'),
            "{app}'s {url_key} is the URL the README points the suite at"
        );
    }
    assert_eq!(
        default_of(env_of(service(&compose, "rocketchat"), "ADMIN_USERNAME")),
        vars["SESSIONDRILL_ROCKETCHAT_USER"],
        "the Rocket.Chat account the compose file creates"
    );
    assert_eq!(
        default_of(env_of(
            service(&compose, "chatwoot-account"),
            "SESSIONDRILL_CHATWOOT_EMAIL"
        )),
        vars["SESSIONDRILL_CHATWOOT_EMAIL"],
        "the Chatwoot account the compose file creates"
    );
    // What the compose file needs from the environment, the README exports.
    let text = read("docker-compose.yml");
    let needed = Regex::new(r"\$\{([A-Z_]+):-\}").expect("pattern");
    for c in needed.captures_iter(&text) {
        assert!(
            vars.contains_key(&c[1]),
            "compose needs {} and the README does not set it",
            &c[1]
        );
    }
    // Passwords survive the suite's change-and-restore on Rocket.Chat 8.1 and later.
    let compose_comments = assignments(
        &text
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for (k, v) in vars
        .iter()
        .chain(compose_comments.iter())
        .filter(|(k, _)| k.ends_with("_PASSWORD"))
    {
        assert!(
            meets_rocketchat_policy(v),
            "{k}='{v}' does not meet Rocket.Chat 8.1's password policy"
        );
    }
    assert!(
        !meets_rocketchat_policy("a strong password"),
        "the policy check can fail"
    );
    // The grid profile offers a WebDriver on the port the recipes use.
    let selenium = service(&compose, "selenium");
    assert_eq!(selenium["network_mode"].as_str(), Some("host"));
    assert!(
        selenium["profiles"]
            .as_vec()
            .is_some_and(|p| p.contains(&Yaml::String("grid".into())))
    );
}

#[test]
fn the_ci_recipes_run_what_the_readme_documents() {
    let readme = read("README.md");
    let block = readme_compose_block();
    let documented = assignments(&block);
    let in_ci = assignments(&read("ci/suite-in-ci"));
    for (k, v) in &documented {
        if k.ends_with("_PASSWORD") || k == "CHATWOOT_SECRET_KEY_BASE" {
            continue;
        }
        assert_eq!(
            in_ci.get(k),
            Some(v),
            "ci/suite-in-ci sets {k} as the README does"
        );
    }
    let mut written = Vec::new();
    let dir = std::env::temp_dir().join(format!("sessiondrill-recipes-{}", std::process::id()));
    for f in sessiondrill::report::RunReport::default()
        .write_files(&dir)
        .expect("reports written")
    {
        written.push(
            f.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned(),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    for (path, commands) in [
        (
            "ci/github-actions.yml",
            github_commands(&yaml("ci/github-actions.yml")),
        ),
        (
            "ci/gitlab-ci.yml",
            gitlab_commands(&yaml("ci/gitlab-ci.yml")),
        ),
    ] {
        let all = commands.join("\n");
        let up = commands
            .iter()
            .flat_map(|c| c.lines())
            .find(|l| l.contains("docker compose") && l.contains(" up "))
            .unwrap_or_else(|| panic!("{path} starts the applications with docker compose"));
        assert!(
            up.contains("--wait"),
            "{path}: `up --wait`, so the suite starts on ready apps"
        );
        assert!(
            readme.contains(up.trim()),
            "{path}: the README shows `{}`",
            up.trim()
        );
        assert!(all.contains("ci/suite-in-ci"), "{path} runs ci/suite-in-ci");
        assert!(
            all.contains("cargo build --release --locked"),
            "{path} builds the binary ci/suite-in-ci runs"
        );
        let text = read(path);
        for var in documented.keys().filter(|k| k.ends_with("_PASSWORD")) {
            assert!(
                text.contains(var.as_str()),
                "{path} passes {var} from the CI's secrets"
            );
        }
        for f in &written {
            assert!(
                text.contains(&format!("target/sessiondrill/{f}")),
                "{path} keeps {f}"
            );
        }
    }
    assert!(
        readme.contains("ci/staging"),
        "the README shows the staging route"
    );
}

fn strings(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn github_commands(doc: &Yaml) -> Vec<String> {
    doc["jobs"]
        .as_hash()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_vec().cloned().unwrap_or_default())
        .flat_map(|step| strings(&step["run"]))
        .collect()
}

fn gitlab_commands(doc: &Yaml) -> Vec<String> {
    doc.as_hash()
        .expect("jobs")
        .values()
        .flat_map(|job| strings(&job["script"]))
        .collect()
}
