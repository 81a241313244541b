//! Rails cookies made by Rails' own code (Debian's ruby-activesupport: MessageEncryptor
//! and MessageVerifier, called as actionpack's cookie jar calls them), one per format,
//! opened by ours: AES-256-GCM and AES-256-CBC with HMAC, signed, each with keys from
//! PBKDF2-SHA1 and PBKDF2-SHA256, JSON and Marshal payloads, bare and in the `_rails`
//! purpose envelope. A format we cannot open must never read as "no known secret".

use std::process::Command;

use serde_json::Value;
use sessiondrill::checks::rails_cookie::{self, KnownSecret, Shape};

use super::available;

/// As actionpack 6.1's cookies.rb: the jar serializes (JSON or Marshal), the encryptor
/// or verifier gets the NullSerializer and the purpose `cookie.<name>` as metadata.
const MAKE: &str = r#"
require "active_support"
require "active_support/message_encryptor"
require "active_support/message_verifier"
require "json"
require "openssl"
secret = ARGV[0]
session = { "session_id" => "0123456789abcdef0123456789abcdef", "_csrf_token" => "c3JmLXRva2Vu",
            "warden.user.user.key" => [[7], "$2a$12$abcdefghijklmnopqrstuv"] }
kdf = ->(salt, len, d) { OpenSSL::PKCS5.pbkdf2_hmac(secret, salt, 1000, len, OpenSSL::Digest.new(d)) }
null = ActiveSupport::MessageEncryptor::NullSerializer
dumps = { "json" => ->(v) { JSON.dump(v) }, "marshal" => ->(v) { Marshal.dump(v) } }
%w[SHA1 SHA256].each do |d|
  dumps.each do |ser, dump|
    [nil, "cookie.__Host-_app_session"].each do |pur|
      meta = pur ? { purpose: pur } : {}
      env = pur ? "purpose" : "bare"
      gcm = ActiveSupport::MessageEncryptor.new(kdf.("authenticated encrypted cookie", 32, d), cipher: "aes-256-gcm", serializer: null)
      puts ["gcm", d, ser, env, gcm.encrypt_and_sign(dump.(session), **meta)].join("\t")
      cbc = ActiveSupport::MessageEncryptor.new(kdf.("encrypted cookie", 32, d), kdf.("signed encrypted cookie", 64, d), cipher: "aes-256-cbc", serializer: null)
      puts ["cbc", d, ser, env, cbc.encrypt_and_sign(dump.(session), **meta)].join("\t")
      ver = ActiveSupport::MessageVerifier.new(kdf.("signed cookie", 64, d), digest: "SHA1", serializer: null)
      puts ["signed", d, ser, env, ver.generate(dump.(7), **meta)].join("\t")
    end
  end
end
"#;

struct Vector {
    format: String,
    digest: String,
    serializer: String,
    envelope: String,
    value: String,
}

fn vectors(secret: &str) -> Vec<Vector> {
    let out = Command::new("ruby")
        .args(["-e", MAKE, secret])
        .output()
        .expect("run ruby");
    assert!(
        out.status.success(),
        "ruby with ActiveSupport failed (sudo apt-get install -y ruby-activesupport): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<Vector> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Vector {
                format: c[0].into(),
                digest: c[1].into(),
                serializer: c[2].into(),
                envelope: c[3].into(),
                value: c[4].into(),
            }
        })
        .collect();
    assert_eq!(
        v.len(),
        24,
        "3 formats × 2 derivations × 2 serializers × 2 envelopes"
    );
    v
}

#[test]
fn every_rails_format_opens_with_its_secret_and_only_with_it() {
    if !available("ruby") {
        return;
    }
    let secret = "a-private-secret-key-base-of-sixty-four-characters-0123456789abc";
    for v in vectors(secret) {
        let what = format!("{} {} {} {}", v.format, v.digest, v.serializer, v.envelope);
        let expected_shape = match v.format.as_str() {
            "gcm" => Shape::Gcm,
            "cbc" => Shape::CbcHmac,
            _ => Shape::Signed,
        };
        assert_eq!(rails_cookie::shape(&v.value), expected_shape, "{what}");
        let o = rails_cookie::open_any(secret, &v.value)
            .unwrap_or_else(|| panic!("{what}: does not open"));
        assert_eq!(
            format!("{:?}", o.digest).to_uppercase(),
            v.digest,
            "{what}: the derivation that opened it"
        );
        let payload = o.payload.clone().unwrap_or_else(|e| panic!("{what}: {e}"));
        if v.format == "signed" {
            assert_eq!(payload, Value::from(7), "{what}");
        } else {
            assert_eq!(
                payload["session_id"], "0123456789abcdef0123456789abcdef",
                "{what}"
            );
            assert_eq!(payload["warden.user.user.key"][0][0], 7, "{what}");
            // What the rails-cookie plug-in reads: the session, by the cookie's bare name.
            let (json, _) = rails_cookie::open(secret, "_app_session", &v.value)
                .unwrap_or_else(|| panic!("{what}: open by name"));
            assert!(json.contains("session_id"), "{what}");
        }
        assert_eq!(o.purpose.is_some(), v.envelope == "purpose", "{what}");
        assert!(o.purpose_fits("__Host-_app_session"), "{what}");
        assert!(!o.purpose_fits("other") || o.purpose.is_none(), "{what}");
        assert!(
            rails_cookie::open_any("another-secret", &v.value).is_none(),
            "{what}: opens with a wrong secret"
        );
    }
}

#[test]
fn a_publicly_known_secret_is_a_finding_in_every_format() {
    if !available("ruby") {
        return;
    }
    let known = rails_cookie::parse_list(rails_cookie::BUILT_IN);
    let listed: &KnownSecret = known
        .iter()
        .find(|s| s.source.contains(".env.example"))
        .expect("Chatwoot's .env.example secret is listed");
    for v in vectors(&listed.value) {
        let what = format!("{} {} {} {}", v.format, v.digest, v.serializer, v.envelope);
        let cookie = vec![("__Host-_app_session".to_string(), v.value.clone())];
        let verdict = if v.format == "signed" {
            rails_cookie::judge(&[], &cookie, &known, "x")
        } else {
            rails_cookie::judge(&cookie, &[], &known, "x")
        };
        assert!(!verdict.nothing_judged, "{what}: {verdict:?}");
        let m = verdict.failure_message();
        assert!(
            m.contains(".env.example") && m.contains("[ASVS 3.5.3]"),
            "{what}: {m}"
        );
    }
}

#[test]
fn unknown_secrets_pass_and_unknown_shapes_are_not_judged() {
    if !available("ruby") {
        return;
    }
    let known = rails_cookie::parse_list(rails_cookie::BUILT_IN);
    let private = vectors("only-this-deployment-knows-this-secret-key-base-0123456789abcdef");
    let cbc = private
        .iter()
        .find(|v| v.format == "cbc")
        .expect("a CBC vector");
    let v = rails_cookie::judge(
        &[("_app_session".into(), cbc.value.clone())],
        &[],
        &known,
        "x",
    );
    assert!(v.holds() && !v.nothing_judged, "{v:?}");
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("AES-256-CBC with HMAC") && e.contains("none of")),
        "{v:?}"
    );
    // Not a Rails cookie at all: said so, never "no known secret opens it".
    let v = rails_cookie::judge(
        &[(
            "_app_session".into(),
            "a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
        )],
        &[],
        &known,
        "x",
    );
    assert!(v.nothing_judged, "{v:?}");
    assert!(
        v.evidence.iter().any(|e| e.contains("not a Rails cookie")),
        "{v:?}"
    );
}
