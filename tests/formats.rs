//! What real frameworks write, made by their own code and read by ours: session ids from
//! the generators PHP, Django, Ruby, Rails and Python use (`generators`), and Rails
//! cookies in every format made by ActiveSupport's own MessageEncryptor and
//! MessageVerifier (`rails_cookies`).
//!
//! Without php, ruby or python3 that part is left out with a notice, unless `CI` is set
//! (`.ci/run` installs them).

use std::path::PathBuf;
use std::process::Command;

#[path = "formats/generators.rs"]
mod generators;
#[path = "formats/rails_cookies.rs"]
mod rails_cookies;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn available(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is needed for these tests in CI (sudo apt-get install -y php-cli ruby ruby-activesupport python3-venv)"
        );
        println!("notice: {tool} not found; the tests that need it are left out (they run in CI)");
    }
    found
}
