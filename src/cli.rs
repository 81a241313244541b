//! The command line: run the suite (default), `serve` a reference target,
//! `steps` (the phrase book) and `check` (validate features without running).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use cucumber::gherkin::tagexpr::TagOperation;
use url::Url;

use crate::config::{self, Config};
use crate::duration;
use crate::model::AppId;
use crate::refapp::{self, Posture, RefOptions, Weakness};
use crate::report::{ExitCode, Outcome, RunReport};
use crate::runner::{self, RunOptions, plan::Filters, reference};
use crate::secret::Secret;

#[derive(Parser, Debug)]
#[command(
    name = "sessiondrill",
    version,
    about = "Proves with a real browser that a Rocket.Chat or Chatwoot \
deployment manages sessions safely.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the suite (the default): against configured targets, or the built-in reference targets.
    Run(RunArgs),
    /// Run a reference target standalone, to point the suite at it as an external target.
    Serve(ServeArgs),
    /// Print every step phrase with an example, for writing scenarios.
    Steps,
    /// Print every selector and page text the adapters use, with the values in force
    /// (overridable under `[<app>.ui]` in sessiondrill.toml).
    Ui {
        /// Configuration file [default: ./sessiondrill.toml if present].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Open an application's login page in the browser and write a starting profile for it.
    /// With SESSIONDRILL_INIT_USER and SESSIONDRILL_INIT_PASSWORD it also signs in once with
    /// a wrong and once with the right password to learn the refusal and the signed-in page.
    InitProfile {
        /// The login page, e.g. http://127.0.0.1:8000/admin/login/
        url: String,
        /// The application's name (the tag @app-<name>) [default: from the host].
        #[arg(long)]
        name: Option<String>,
        /// Where to write the profile [default: ./<name>.toml; never overwritten].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check the feature files (syntax, known steps, application tags) without running them.
    Check {
        #[arg(long, value_name = "DIR")]
        features: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct RunArgs {
    /// Only scenarios matching this tag expression, e.g. "@rocketchat and not @slow".
    #[arg(short = 't', long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(short = 'n', long, value_name = "REGEX")]
    pub name: Option<String>,
    /// Same as --name (so `cargo test --test suite NAME` works).
    #[arg(value_name = "NAME")]
    pub filter: Option<String>,
    /// Directory of .feature files [default: ./features].
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
    /// Configuration file [default: ./sessiondrill.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A profile file of a further application (repeatable); its target comes from
    /// SESSIONDRILL_APP_<NAME>_URL, _USER and _PASSWORD.
    #[arg(long = "profile", value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// Where reports go [default: target/sessiondrill].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// At most this many scenarios at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Run @slow scenarios even when they would wait longer than a minute.
    #[arg(long)]
    pub allow_slow: bool,
    /// Run @destructive scenarios (password change, always changed back) against configured targets.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Posture of the built-in reference targets used when no target is configured.
    #[arg(long, value_name = "as-shipped|hardened")]
    pub posture: Option<String>,
    /// Weaknesses to switch on in the built-in reference targets (comma-separated).
    #[arg(long, value_name = "LIST")]
    pub weaken: Option<String>,
    /// Print only the verdict table and the summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    // Flags `cargo test` passes to every test binary; accepted and ignored.
    #[arg(long, hide = true)]
    pub nocapture: bool,
    #[arg(long, hide = true)]
    pub show_output: bool,
    #[arg(long, hide = true, value_name = "N")]
    pub test_threads: Option<String>,
    #[arg(long, hide = true, value_name = "WHEN")]
    pub color: Option<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// rocketchat or chatwoot.
    pub app: String,
    #[arg(long, default_value = "hardened", value_name = "as-shipped|hardened")]
    pub posture: String,
    /// Weaknesses to switch on (comma-separated); see the README for the list.
    #[arg(long, value_name = "LIST")]
    pub weaken: Option<String>,
    /// Idle timeout of the hardened posture [default: 30m].
    #[arg(long, value_name = "DURATION")]
    pub idle_timeout: Option<String>,
    /// Token lifetime [default: 12h hardened, the app's own as-shipped].
    #[arg(long, value_name = "DURATION")]
    pub max_lifetime: Option<String>,
    /// [default: 8443 Rocket.Chat, 9443 Chatwoot, as in docker-compose.yml]
    #[arg(long)]
    pub https_port: Option<u16>,
    /// [default: 8080 Rocket.Chat, 9080 Chatwoot]
    #[arg(long)]
    pub http_port: Option<u16>,
    /// Host name to answer as (the suite maps *.test to 127.0.0.1) [default: <app>.test].
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The account's user name (Rocket.Chat) or e-mail (Chatwoot) [default: sessiondrill].
    #[arg(long)]
    pub user: Option<String>,
    /// The account's password [default: $SESSIONDRILL_<APP>_PASSWORD, else the README's demo password].
    #[arg(long)]
    pub password: Option<String>,
    /// Chatwoot: the Rails SECRET_KEY_BASE sealing its cookies [default: random].
    #[arg(long, value_name = "SECRET")]
    pub secret_key_base: Option<String>,
    /// Chatwoot: apply the sign-in throttle to loopback clients too, as behind Docker's bridge.
    #[arg(long)]
    pub throttle_loopback: bool,
    /// Chatwoot: the sign-in throttle's window [default: 5m, as Rack::Attack's login/ip].
    #[arg(long, value_name = "DURATION")]
    pub throttle_period: Option<String>,
}

/// The demo password of `sessiondrill serve` when none is given (documented in the README).
pub const DEMO_PASSWORD: &str = "Drill-Demo-Passw0rd!";

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("sessiondrill: {msg}");
    ExitCode::BadInput.code()
}

fn default_features() -> PathBuf {
    let local = PathBuf::from("features");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("features")
    }
}

fn default_out() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("sessiondrill")
}

pub fn filters(args: &RunArgs) -> Result<Filters, String> {
    let tags = match &args.tags {
        Some(t) => Some(t.parse::<TagOperation>().map_err(|e| {
            format!(
                "--tags `{t}` is not a tag expression ({e}); e.g. \"@rocketchat and not @slow\""
            )
        })?),
        None => None,
    };
    let name_src = args.name.clone().or_else(|| args.filter.clone());
    let name = match &name_src {
        Some(n) => Some(
            regex::Regex::new(n)
                .map_err(|e| format!("--name `{n}` is not a regular expression: {e}"))?,
        ),
        None => None,
    };
    Ok(Filters {
        tags,
        tags_text: args.tags.clone(),
        name,
    })
}

/// Runs the suite; with no target configured, against reference targets in `default_posture`.
/// Returns the process exit code: 0 all passed, 1 findings, 2 bad input or preflight,
/// 3 errors (outrank findings), 4 nothing ran.
pub async fn run_suite(args: RunArgs, default_posture: Posture) -> i32 {
    crate::browser::cleanup::become_subreaper();
    let mut config = match Config::load(args.config.as_deref(), &config::process_env) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    for p in &args.profiles {
        if let Err(e) = config.add_profile(p, &config::process_env) {
            return fail(e);
        }
    }
    config.allow_slow |= args.allow_slow;
    config.allow_destructive |= args.allow_destructive;
    let filters = match filters(&args) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let features = args.features.clone().unwrap_or_else(default_features);
    let mut _reference = None;
    let (title, is_reference) = if config.targets.is_empty() {
        let posture = match args.posture.as_deref().map(Posture::parse).transpose() {
            Ok(p) => p.unwrap_or(default_posture),
            Err(e) => return fail(e),
        };
        let weaknesses = match args.weaken.as_deref().map(Weakness::parse_list).transpose() {
            Ok(w) => w.unwrap_or_default(),
            Err(e) => return fail(e),
        };
        // A weakness one application has (Chatwoot's secret_key_base, Rocket.Chat's
        // password history) starts that application's stand-in alone.
        let apps: Vec<AppId> = AppId::ALL
            .into_iter()
            .filter(|&a| weaknesses.iter().all(|w| w.applies_to(a)))
            .collect();
        if apps.is_empty() {
            return fail(format!(
                "no reference target has all of the weaknesses {}: name weaknesses of one application at a time",
                weaknesses
                    .iter()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let refs =
            match reference::start(&apps, posture, &weaknesses, reference::SCALED, true).await {
                Ok(r) => r,
                Err(e) => return fail(format!("cannot start the reference targets: {e:#}")),
            };
        let title = format!(
            "No target configured: running against the built-in {} (time-scaled: idle timeout {}, maximum lifetime {}, grace {}).",
            refs.describe(),
            duration::human(reference::SCALED.idle_timeout),
            duration::human(reference::SCALED.max_lifetime),
            duration::human(reference::SCALED.grace)
        );
        config.targets = refs.configs.clone();
        _reference = Some(refs);
        (title, true)
    } else {
        let list: Vec<String> = config
            .targets
            .iter()
            .map(|t| format!("{} at {}", t.app.name(), t.url))
            .collect();
        (format!("Configured targets: {}.", list.join("; ")), false)
    };
    if !args.quiet {
        println!("{title}");
    }
    let out_dir = args.out.clone().unwrap_or_else(default_out);
    let opts = RunOptions {
        config,
        features,
        filters,
        out_dir: out_dir.clone(),
        progress: !args.quiet,
        concurrency: args.concurrency,
        title,
        reference: is_reference,
        handle_interrupts: true,
        browsers: None,
    };
    let report = match runner::run(opts).await {
        Ok(r) => r,
        Err(runner::RunError::Plan(e @ runner::plan::PlanError::NothingSelected(_))) => {
            eprintln!("sessiondrill: {e}; nothing ran");
            println!("0 passed, 0 failed");
            return ExitCode::NothingRan.code();
        }
        Err(e) => return fail(e),
    };
    print_report(&report, &out_dir);
    report.exit_code().code()
}

pub fn print_report(report: &RunReport, out_dir: &Path) {
    println!("\n{}", report.verdict_table());
    match report.write_files(out_dir) {
        Ok(files) => {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            println!("Reports: {}", names.join(", "));
        }
        Err(e) => eprintln!(
            "sessiondrill: could not write reports to {}: {e}",
            out_dir.display()
        ),
    }
    for f in &report.restore_failures {
        println!("PASSWORD NOT RESTORED: {f}");
    }
    if report.count(Outcome::NotRun) > 0 {
        println!("Not run scenarios are listed above with the setting that enables them.");
    }
    println!("{}", report.totals_line());
    println!("{}", report.summary_line());
}

/// `sessiondrill serve`: a reference target until Ctrl-C.
pub async fn serve(args: ServeArgs) -> i32 {
    let Some(app) = AppId::from_tag(&args.app) else {
        return fail(format!(
            "unknown application `{}`: use rocketchat or chatwoot",
            args.app
        ));
    };
    let posture = match Posture::parse(&args.posture) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let parse_d = |v: &Option<String>, flag: &str| -> Result<Option<Duration>, String> {
        v.as_deref()
            .map(|s| duration::parse(s).map_err(|e| format!("--{flag}: {e}")))
            .transpose()
    };
    let (idle, lifetime, throttle_period) = match (
        parse_d(&args.idle_timeout, "idle-timeout"),
        parse_d(&args.max_lifetime, "max-lifetime"),
        parse_d(&args.throttle_period, "throttle-period"),
    ) {
        (Ok(i), Ok(l), Ok(t)) => (i, l, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(e),
    };
    let var = format!("{}_PASSWORD", app.env_prefix());
    let password = args
        .password
        .clone()
        .or_else(|| config::process_env(&var))
        .unwrap_or_else(|| DEMO_PASSWORD.into());
    let login = args.user.clone().unwrap_or_else(|| match app {
        AppId::Chatwoot => "sessiondrill@chatwoot.test".into(),
        _ => "sessiondrill".into(),
    });
    let mut opts = RefOptions::new(app, posture, &login, Secret::new(password));
    opts.idle_timeout = idle;
    opts.max_lifetime = lifetime;
    opts.secret_key_base = args.secret_key_base.clone();
    opts.throttle_loopback = args.throttle_loopback;
    opts.throttle_period = throttle_period;
    let (https_default, http_default) = match app {
        AppId::Chatwoot => (9443, 9080),
        _ => (8443, 8080),
    };
    opts.https_port = args.https_port.unwrap_or(https_default);
    opts.http_port = args.http_port.unwrap_or(http_default);
    opts.bind = args.bind;
    if let Some(h) = &args.host {
        opts.host = h.clone();
    }
    opts.weaknesses = match args.weaken.as_deref().map(Weakness::parse_list).transpose() {
        Ok(w) => w.unwrap_or_default(),
        Err(e) => return fail(e),
    };
    let label = opts.label();
    let running = match refapp::start(opts.clone()).await {
        Ok(r) => r,
        Err(e) => return fail(format!("{e:#}")),
    };
    let upper = app.tag().to_uppercase();
    let login_var = if app == AppId::RocketChat {
        "USER"
    } else {
        "EMAIL"
    };
    println!("{} reference target ({label}) is running:", app.name());
    println!("  {}   (self-signed certificate)", running.https_url);
    println!("  {}", running.http_url);
    println!(
        "Account {login}, password as given (--password, ${var}, or the README's demo password)."
    );
    println!("Run the suite against it from another terminal:");
    let human_arg = |d: Duration| duration::human(d).replace(' ', "");
    let mut vars = vec![
        format!(
            "SESSIONDRILL_{upper}_URL={}",
            running.https_url.as_str().trim_end_matches('/')
        ),
        format!(
            "SESSIONDRILL_{upper}_HTTP_URL={}",
            running.http_url.as_str().trim_end_matches('/')
        ),
        format!("SESSIONDRILL_{upper}_{login_var}={login}"),
        format!("SESSIONDRILL_{upper}_PASSWORD=..."),
        format!(
            "SESSIONDRILL_IDLE_TIMEOUT={}",
            human_arg(idle.unwrap_or(Duration::from_secs(1800)))
        ),
        format!(
            "SESSIONDRILL_MAX_LIFETIME={}",
            human_arg(lifetime.unwrap_or(Duration::from_secs(12 * 3600)))
        ),
        // A local stand-in needs little slack for clocks.
        "SESSIONDRILL_GRACE=2s".to_string(),
        "SESSIONDRILL_ALLOW_DESTRUCTIVE=1".to_string(),
    ];
    if posture == Posture::Hardened {
        // This stand-in enforces expiry on its API at once; real Rocket.Chat waits for its sweep.
        vars.push(format!("SESSIONDRILL_{upper}_EXPIRY_SLACK=0s"));
    }
    println!("  {} cargo run --release", vars.join(" \\\n  "));
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    drop(running);
    0
}

/// `sessiondrill ui`: the page facts of each application, as configured.
pub fn ui(path: Option<&Path>) -> i32 {
    let config = match Config::load(path, &config::process_env) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    println!(
        "# Selectors and page texts the adapters look for. Override any of them in\n\
         # sessiondrill.toml under [<app>.ui] when a deployment's page differs.\n"
    );
    for app in AppId::ALL {
        let ui = config
            .target(app)
            .map(|t| t.ui.clone())
            .unwrap_or_else(|| crate::facts::ui::Ui::new(app.tag(), Default::default()));
        println!(
            "{}",
            crate::facts::ui::listing(app.tag(), crate::facts::ui_facts(app), &ui)
        );
    }
    0
}

/// `sessiondrill check`: parse and validate features.
pub fn check(features: Option<PathBuf>) -> i32 {
    let dir = features.unwrap_or_else(default_features);
    match runner::plan::load(&dir, &[]).and_then(|f| runner::plan::validate(&f).map(|()| f)) {
        Ok(f) => {
            let n: usize = f.iter().map(|f| runner::plan::scenarios(f).len()).sum();
            println!(
                "{}: {} features, {n} scenarios, every step known",
                dir.display(),
                f.len()
            );
            0
        }
        Err(e) => fail(e),
    }
}

/// Parses the process arguments and runs the chosen command.
pub async fn main_with(default_posture: Posture) -> i32 {
    let cli = Cli::parse();
    match cli.command {
        None => run_suite(cli.run, default_posture).await,
        Some(Command::Run(args)) => run_suite(args, default_posture).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Steps) => {
            print!("{}", crate::steps::phrase_book());
            0
        }
        Some(Command::Check { features }) => check(features),
        Some(Command::Ui { config }) => ui(config.as_deref()),
        Some(Command::InitProfile { url, name, out }) => {
            crate::browser::cleanup::become_subreaper();
            init_profile(&url, name, out).await
        }
    }
}

/// `init-profile`: bad input is refused before a browser starts.
async fn init_profile(url: &str, name: Option<String>, out: Option<PathBuf>) -> i32 {
    let url = match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            return fail(format!(
                "init-profile: {url:?} is not an http(s) URL of a login page"
            ));
        }
    };
    let name = name.unwrap_or_else(|| {
        let host = url.host_str().unwrap_or("app");
        let first = host.split('.').next().unwrap_or(host);
        let clean: String = first
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if clean.chars().all(|c| c.is_ascii_digit() || c == '-') {
            "app".into()
        } else {
            clean
        }
    });
    if !crate::profile::schema::valid_name(&name) {
        return fail(format!(
            "init-profile: --name {name:?}: use lower-case letters, digits and `-`"
        ));
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    if out.exists() {
        return fail(format!(
            "init-profile: {} exists; give another --out or move it away",
            out.display()
        ));
    }
    let account = match (
        std::env::var("SESSIONDRILL_INIT_USER").ok(),
        std::env::var("SESSIONDRILL_INIT_PASSWORD").ok(),
    ) {
        (Some(u), Some(p)) => Some((u, crate::secret::Secret::new(p))),
        (None, None) => None,
        _ => {
            return fail(
                "init-profile: set both SESSIONDRILL_INIT_USER and SESSIONDRILL_INIT_PASSWORD, or neither",
            );
        }
    };
    let webdriver = match std::env::var("WEBDRIVER_URL").ok().map(|s| Url::parse(&s)) {
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => return fail(format!("WEBDRIVER_URL: {e}")),
        None => None,
    };
    let insecure = std::env::var("SESSIONDRILL_INSECURE_TLS").is_ok_and(|v| v == "1");
    let browsers = crate::browser::Browsers::new(webdriver, 2);
    if let Some(h) = url.host_str() {
        browsers.allow_host(h);
    }
    let result = init_profile_with(&browsers, &url, &name, account, insecure).await;
    browsers.shutdown();
    match result {
        Ok((text, todos)) => match std::fs::write(&out, text) {
            Ok(()) => {
                println!(
                    "wrote {}: {todos} TODO line(s) to fill in before it loads",
                    out.display()
                );
                0
            }
            Err(e) => fail(format!("init-profile: cannot write {}: {e}", out.display())),
        },
        Err(e) => {
            eprintln!("sessiondrill: init-profile: {e:#}");
            ExitCode::Errors.code()
        }
    }
}

async fn init_profile_with(
    browsers: &crate::browser::Browsers,
    url: &Url,
    name: &str,
    account: Option<(String, crate::secret::Secret)>,
    insecure: bool,
) -> anyhow::Result<(String, usize)> {
    use crate::profile::init;
    println!("opening {url}");
    let b = browsers.session(insecure).await?;
    let found = init::discover(&b, url).await;
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            b.close().await;
            return Err(e);
        }
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "not found".into());
    println!(
        "found: user {}, password {}, submit {}",
        show(&found.user),
        show(&found.password),
        show(&found.submit)
    );
    let learned = match account {
        Some((user, password)) => {
            println!(
                "signing in as {user}, once with a wrong password and once with the right one"
            );
            let right = browsers.session(insecure).await;
            let learned = match &right {
                Ok(r) => init::learn(&b, r, url, &found, &user, &password).await,
                Err(e) => Err(anyhow::anyhow!("{e}")),
            };
            if let Ok(r) = right {
                r.close().await;
            }
            learned
        }
        None => {
            println!(
                "no account given (SESSIONDRILL_INIT_USER, SESSIONDRILL_INIT_PASSWORD): the refusal and the signed-in page stay TODO"
            );
            Ok(Default::default())
        }
    };
    b.close().await;
    let text = init::write(name, url, &found, &learned?);
    let todos = text.lines().filter(|l| l.starts_with("# TODO")).count();
    Ok((text, todos))
}

/// Weakness names, for help texts.
pub fn weakness_names() -> BTreeSet<&'static str> {
    Weakness::ALL.iter().map(|w| w.name()).collect()
}
