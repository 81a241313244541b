//! The command line: run the suite (default), `serve` a reference target,
//! `steps` (the phrase book) and `check` (validate features without running).

mod init;
mod run;
mod serve;

use init::init_profile;
pub use run::{print_report, run_suite};
pub use serve::{DEMO_PASSWORD, serve};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use cucumber::gherkin::tagexpr::TagOperation;

use crate::config::{self, Config};
use crate::model::AppId;
use crate::refapp::{Posture, Weakness};
use crate::report::ExitCode;
use crate::runner::{self, plan::Filters};

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
    /// Rocket.Chat: login tokens kept per user, the oldest dropped beyond
    /// (MAX_RESUME_LOGIN_TOKENS) [default: 50].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_sessions: Option<u16>,
}

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

/// Weakness names, for help texts.
pub fn weakness_names() -> BTreeSet<&'static str> {
    Weakness::ALL.iter().map(|w| w.name()).collect()
}
