//! Token strength on the generators real frameworks use, run for real: PHP's
//! `session_create_id()` at 4, 5 and 6 bits per character, Django's
//! `get_random_string` (its session key), Ruby's and Rails' `SecureRandom`, Python's
//! `secrets`, `base64.b32encode` and `uuid.uuid4()`. Each sample has the size the suite
//! collects from a real target by default, and must get the right verdict with the
//! alphabet named: a false FINDING sends a team hunting a weakness that is not there.

use std::process::Command;
use std::time::Instant;

use sessiondrill::checks::entropy::{self, Alphabet, Level};

use super::{available, root};

/// `SESSIONDRILL_<APP>_TOKEN_SAMPLES`'s default: what the suite collects from a real target.
const SAMPLES: usize = sessiondrill::config::TOKEN_SAMPLES_DEFAULT;

/// `SAMPLES` tokens, one a line, from a program.
fn generate(program: &str, args: &[&str]) -> Vec<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(tokens.len(), SAMPLES, "{program} {args:?}");
    tokens
}

#[derive(Debug, PartialEq)]
enum Expect {
    Pass,
    /// A finding against this requirement.
    Finding(&'static str),
}

/// Judges one generator's sample and checks the alphabet, the bits and the verdict.
fn check(name: &str, tokens: &[String], alphabet: Alphabet, bits: usize, expect: Expect) -> String {
    let started = Instant::now();
    let a = entropy::analyse(tokens);
    let v = entropy::judge(&a);
    let took = started.elapsed();
    assert_eq!(a.alphabet, Some(alphabet), "{name}: {}", a.summary());
    assert_eq!(a.bits, bits, "{name}: {}", a.summary());
    assert!(
        v.evidence.iter().any(|e| e.contains(alphabet.name())),
        "{name}: the evidence names the alphabet: {v:?}"
    );
    assert!(!v.nothing_judged, "{name}: {v:?}");
    match expect {
        Expect::Pass => assert!(v.holds(), "{name}: {}", v.failure_message()),
        Expect::Finding(req) => assert!(
            v.failure_message().contains(&format!("[{req}]")),
            "{name}: expected a finding against {req}: {v:?}"
        ),
    }
    let row = format!(
        "{name:<44} {:<10} {:>4} bits {:>4} effective  {:<7} {:>5} ms ({})",
        alphabet.name(),
        a.bits,
        a.effective_bits,
        if v.holds() { "PASS" } else { "FINDING" },
        took.as_millis(),
        if a.level == Level::Bits {
            "per bit"
        } else {
            "per character"
        },
    );
    println!("{row}");
    row
}

#[test]
fn php_session_ids_at_4_5_and_6_bits_per_character() {
    if !available("php") {
        return;
    }
    // The ini settings PHP sessions use; 26 characters of 5 bits is Debian's php.ini.
    let php = |bits: u32, len: u32| {
        generate(
            "php",
            &[
                "-d",
                &format!("session.sid_bits_per_character={bits}"),
                "-d",
                &format!("session.sid_length={len}"),
                "-r",
                &format!("for ($i = 0; $i < {SAMPLES}; $i++) echo session_create_id(), \"\\n\";"),
            ],
        )
    };
    check(
        "PHP session_create_id(), 4 bits × 32",
        &php(4, 32),
        Alphabet::Hex,
        128,
        Expect::Pass,
    );
    check(
        "PHP session_create_id(), 5 bits × 32",
        &php(5, 32),
        Alphabet::Base32Hex,
        160,
        Expect::Pass,
    );
    check(
        "PHP session_create_id(), 5 bits × 26 (Debian)",
        &php(5, 26),
        Alphabet::Base32Hex,
        130,
        Expect::Pass,
    );
    check(
        "PHP session_create_id(), 6 bits × 32",
        &php(6, 32),
        Alphabet::Php6,
        192,
        Expect::Pass,
    );
}

#[test]
fn ruby_and_rails_securerandom() {
    if !available("ruby") {
        return;
    }
    let ruby = |expr: &str| {
        generate(
            "ruby",
            &[
                "-rsecurerandom",
                "-e",
                &format!("{SAMPLES}.times {{ puts({expr}) }}"),
            ],
        )
    };
    check(
        "Ruby SecureRandom.hex(16)",
        &ruby("SecureRandom.hex(16)"),
        Alphabet::Hex,
        128,
        Expect::Pass,
    );
    check(
        "Ruby SecureRandom.urlsafe_base64(32)",
        &ruby("SecureRandom.urlsafe_base64(32)"),
        Alphabet::Base64Url,
        256,
        Expect::Pass,
    );
    check(
        "Ruby SecureRandom.alphanumeric(32)",
        &ruby("SecureRandom.alphanumeric(32)"),
        Alphabet::Base62,
        190,
        Expect::Pass,
    );
    // Rails' has_secure_token: ActiveSupport's SecureRandom.base58(24).
    let rails = generate(
        "ruby",
        &[
            "-ractive_support",
            "-ractive_support/core_ext/securerandom",
            "-e",
            &format!("{SAMPLES}.times {{ puts SecureRandom.base58(24) }}"),
        ],
    );
    check(
        "Rails SecureRandom.base58(24)",
        &rails,
        Alphabet::Base58,
        140,
        Expect::Pass,
    );
}

#[test]
fn python_secrets_base32_and_uuids() {
    if !available("python3") {
        return;
    }
    let py = |expr: &str| {
        generate(
            "python3",
            &[
                "-c",
                &format!("import base64, secrets, uuid\nfor _ in range({SAMPLES}): print({expr})"),
            ],
        )
    };
    check(
        "Python secrets.token_urlsafe(32)",
        &py("secrets.token_urlsafe(32)"),
        Alphabet::Base64Url,
        256,
        Expect::Pass,
    );
    check(
        "Python secrets.token_hex(16)",
        &py("secrets.token_hex(16)"),
        Alphabet::Hex,
        128,
        Expect::Pass,
    );
    check(
        "Python base64.b32encode(20 random bytes)",
        &py("base64.b32encode(secrets.token_bytes(20)).decode()"),
        Alphabet::Base32,
        160,
        Expect::Pass,
    );
    // 122 random bits in 128: below ASVS 5.0's 128, a true finding.
    check(
        "Python uuid.uuid4()",
        &py("uuid.uuid4()"),
        Alphabet::Hex,
        122,
        Expect::Finding("ASVS 5.0 7.2.3"),
    );
}

#[test]
fn django_session_keys() {
    if !available("python3") {
        return;
    }
    let install = Command::new(root().join("ci/apps/django"))
        .arg("install")
        .status()
        .expect("run ci/apps/django install");
    assert!(install.success(), "ci/apps/django install failed");
    let python = root().join("target/realapps/django/venv/bin/python");
    // What SessionBase._get_new_session_key does: 32 characters of a-z0-9.
    let keys = generate(
        python.to_str().expect("utf-8 path"),
        &[
            "-c",
            &format!(
                "from django.contrib.sessions.backends.base import VALID_KEY_CHARS\n\
                 from django.utils.crypto import get_random_string\n\
                 for _ in range({SAMPLES}): print(get_random_string(32, VALID_KEY_CHARS))"
            ),
        ],
    );
    check(
        "Django session key (get_random_string)",
        &keys,
        Alphabet::Base36,
        165,
        Expect::Pass,
    );
}
