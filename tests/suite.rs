//! `cargo test`: the feature suite. Against the configured targets, or, with no
//! configuration, against in-process reference targets in the hardened posture,
//! where every scenario must pass. Filters pass through:
//! `cargo test --test suite -- --tags @rocketchat`.

use clap::Parser as _;
use sessiondrill::cli::{self, Cli, Command};
use sessiondrill::refapp::Posture;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Run(args)) => args,
        _ => cli.run,
    };
    // `cargo test NAME` hands NAME to every test binary: matching no scenario here is
    // "0 passed, 0 failed", as in any Rust test binary, not "nothing ran".
    let positional = args.filter.is_some();
    let code = runtime.block_on(cli::run_suite(args, Posture::Hardened));
    let nothing_ran = sessiondrill::report::ExitCode::NothingRan.code();
    std::process::exit(if positional && code == nothing_ran {
        0
    } else {
        code
    });
}
