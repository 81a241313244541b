//! Rails cookies (the encrypted session cookie and signed cookies, in every format Rails
//! has written: `format`) and the check that they are not sealed with a publicly known
//! `SECRET_KEY_BASE` (ASVS 3.5.3, 5.0 7.2.1; a known secret lets anyone read and forge
//! sessions).
//!
//! A cookie in none of Rails' shapes is not judged (and says what it is); a cookie whose
//! MAC or GCM tag verifies with a known secret is a finding even when its payload cannot
//! be read. "Cannot open this format" and "no known secret opens it" are never one verdict.

mod format;
pub mod marshal;

pub use format::{
    Digest, Opened, Shape, encryption_key, open, open_any, seal, seal_cbc, shape, sign,
    signing_key, verify_signed,
};

use serde_json::Value;

use super::Verdict;

/// One publicly known secret and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSecret {
    pub value: String,
    pub source: String,
}

/// The list shipped with sessiondrill (`data/rails-secret-key-bases.txt`).
pub const BUILT_IN: &str = include_str!("../../../data/rails-secret-key-bases.txt");

/// Parses the list format: one value per line, its source after two or more spaces, `#` comments.
pub fn parse_list(text: &str) -> Vec<KnownSecret> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once("  ") {
            Some((v, s)) => KnownSecret {
                value: v.trim().to_string(),
                source: s.trim().to_string(),
            },
            None => KnownSecret {
                value: l.to_string(),
                source: "listed".to_string(),
            },
        })
        .collect()
}

/// The built-in list plus the file named by `SESSIONDRILL_SECRET_KEY_BASES`, if any.
pub fn known_secrets() -> Vec<KnownSecret> {
    let mut list = parse_list(BUILT_IN);
    if let Some(path) = std::env::var_os("SESSIONDRILL_SECRET_KEY_BASES")
        && let Ok(text) = std::fs::read_to_string(&path)
    {
        list.extend(parse_list(&text));
    }
    list
}

/// Tries every known secret on the encrypted and signed cookies given as (full name,
/// URL-decoded value); `looked_for` names the cookies, for a sample with none of them.
pub fn judge(
    encrypted: &[(String, String)],
    signed: &[(String, String)],
    secrets: &[KnownSecret],
    looked_for: &str,
) -> Verdict {
    let mut v = Verdict::default();
    if encrypted.is_empty() && signed.is_empty() {
        v.nothing_to_judge(format!(
            "no Rails session cookie and no signed cookie in the browser after sign-in (looked for {looked_for})"
        ));
        return v;
    }
    let mut judged = 0;
    let mut unreadable = Vec::new();
    for (name, value) in encrypted.iter().chain(signed) {
        let shape = shape(value);
        if let Shape::Other(what) = &shape {
            unreadable.push(format!("{name}: {what}"));
            continue;
        }
        judged += 1;
        let opened = secrets
            .iter()
            .find_map(|s| open_any(&s.value, value).map(|o| (s, o)));
        match opened {
            Some((s, o)) => {
                let payload = match &o.payload {
                    Ok(Value::Object(m)) => format!(
                        "session keys: {}",
                        m.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    Ok(_) => "a value, not a session hash".into(),
                    Err(why) => why.clone(),
                };
                let purpose = match &o.purpose {
                    Some(p) if !o.purpose_fits(name) => format!("; purpose {p}, not this cookie's"),
                    _ => String::new(),
                };
                let act = if o.shape == Shape::Signed {
                    "its signature verifies"
                } else {
                    "opens"
                };
                v.violate(
                    "ASVS 3.5.3",
                    name.clone(),
                    format!(
                        "{act} with the publicly known SECRET_KEY_BASE from {} ({}, {:?} key derivation; {payload}{purpose}): \
                         anyone can read and forge this application's cookies",
                        s.source,
                        o.shape.name(),
                        o.digest,
                    ),
                );
            }
            None => v.note(format!(
                "{name}: {}; none of {} publicly known secrets opens it (both key derivations tried)",
                shape.name(),
                secrets.len()
            )),
        }
    }
    for u in &unreadable {
        v.note(format!("{u}; not judged"));
    }
    if judged == 0 {
        v.nothing_to_judge(format!(
            "no cookie is in a Rails format this check opens (GCM, CBC with HMAC, signed): {}",
            unreadable.join("; ")
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // Vector C of targets/chatwoot.md: a Chatwoot-shaped cookie sealed with the .env.example secret.
    const C_SECRET: &str = "replace_with_lengthy_secure_hex";
    const C_SESSION: &str = r#"{"session_id":"00112233445566778899aabbccddeeff","_csrf_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","warden.user.user.key":[[1],"$2a$11$abcdefghijklmnopqrstuv"]}"#;
    const C_COOKIE_ENCODED: &str = "DV7c4w1sYdPQbib3AWx%2FuC4wS4kBu9cFWvTfWu4Y3NWEBbcfXcMV6hoBB91aLVKS6m6W11ynPCZwMWQ7EjQ1lWTi7OvVVgUNxdU1YNSgROIH%2Btspf6TzYrKEIcBukDW3NkBvCJ95KfTGB2QC40Qgev1xiX5fOytKkBhGBgP07dRNU3eDILIiAFPLpCs4n789xFa%2FwDQW33H%2FBEaGM%2FkDdvLhVikMZ%2BH6Acz7yfYBuz%2BeqKS4T%2B71Wcw975msTTTyA44Z%2BiXGc3f7%2BHT%2FmMo38Z5P%2BxQpRTOGxXqSfSJjDXvL%2FrrM2aQBES29IfJzi0Crl5t2nkpQ9DipCI0sRZ3LDHtZ1wbdRaHUoImSkwL199KdqqJ05jGkNMHDPvzXWkvRWc6Pm%2FCcvlVF--AAECAwQFBgcICQoL--sFaRmbtgN6HdrsRCftTydg%3D%3D";

    fn decoded(s: &str) -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn derives_the_documented_keys() {
        assert_eq!(
            hex(&encryption_key(C_SECRET, Digest::Sha256)),
            "436fd38f98e54dd5ecea127c2f0772be6593ecddec1e46f85900922314720e19"
        );
        assert_eq!(
            hex(&encryption_key(C_SECRET, Digest::Sha1)),
            "8fd48f51e71a3d845b4cfa01292348197a21a2249c6f98107573334c48c828db"
        );
        assert_eq!(
            hex(&signing_key(C_SECRET)),
            "1676150f0f498361d18fb1044854859f72db626d481f27a4cd883a35ddd37b480224ac3f6c83f5d10c218b347fb6743378d8a15082b2995d26d4b774b2ac6b80"
        );
    }

    #[test]
    fn sealing_reproduces_vector_c_byte_for_byte() {
        let iv: [u8; 12] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            seal(C_SECRET, "_chatwoot_session", C_SESSION, iv),
            decoded(C_COOKIE_ENCODED)
        );
    }

    #[test]
    fn opens_vector_c_only_with_its_secret() {
        let (json, digest) =
            open(C_SECRET, "_chatwoot_session", &decoded(C_COOKIE_ENCODED)).unwrap();
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(v(&json), v(C_SESSION));
        assert_eq!(digest, Digest::Sha256);
        assert!(
            open(
                "another-secret",
                "_chatwoot_session",
                &decoded(C_COOKIE_ENCODED)
            )
            .is_none()
        );
        assert!(
            open(C_SECRET, "_other_session", &decoded(C_COOKIE_ENCODED)).is_none(),
            "purpose is checked"
        );
    }

    #[test]
    fn opens_a_real_rails_cookie_vector_b() {
        let secret = "67f887242121133c0f7e8c4dba0c18aa8053071ded09181873093e93224546aa6ce592bf3312a5ccb8e0bb38242c149216ecef75cb4c0e9af2726703c769bcaf";
        let value = "BxMj0jKfTfefrDppaGRrM4/IYGhNzt6bfRKxoZeWbmdYEGbrcp+5MGSdI3waNa+mLdo9GkIvkkKbew1XORZvs1wpMNrT1H1+akX6JnzLSdr3nJ4Ch+skQ9A8a9vC6JHE5RYGpaIKg+j3f+2sw6VqqgelkO0XyFfuy6W4JaOaDxIgLgrb7rg0BPcy8BRRPJKdhgL9FNt1mbl9RzE117dVc7tt3brR4gzVutO/h6PXcuYfiMetAKOPAEtZXaZIs3PVC/S8uyaqi+exjj0HqyJicFLgidwzuNRSX7asK/5UA++DntBj8Jd2v/Wx7ryyesp07Adv+yx/HdQTu3oTdx5yP98RueR1B1GiOPZmQwm3ePGPZfTQFS3sdiTvnAhRCzbRy7/yyyWmnyoL--5R6d/B6vwU11JVMW--c8v7EvGmB7ll4tdFKNgeHQ==";
        let (json, digest) = open(secret, "_oauth2id_session", value).unwrap();
        let session: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            session["session_id"], "39d9d70957ddad8f68ea5d41790e3533",
            "{json}"
        );
        assert_eq!(digest, Digest::Sha256);
    }

    #[test]
    fn signs_and_verifies_the_documented_user_id_cookie() {
        let expected = "eyJfcmFpbHMiOnsibWVzc2FnZSI6Ik1RPT0iLCJleHAiOm51bGwsInB1ciI6ImNvb2tpZS51c2VyLmlkIn19--f9096e2241752fd002ebd8cc5164eb66431e3b3f";
        assert_eq!(sign(C_SECRET, "user.id", "1"), expected);
        assert!(verify_signed(C_SECRET, expected));
        assert!(!verify_signed("nope", expected));
    }

    #[test]
    fn the_built_in_list_has_chatwoots_values_with_sources() {
        let list = parse_list(BUILT_IN);
        assert!(
            list.iter()
                .any(|s| s.value == C_SECRET && s.source.contains(".env.example"))
        );
        assert!(list.len() >= 5);
    }

    #[test]
    fn judge_names_the_secret_and_passes_on_unknown_ones() {
        let list = parse_list(BUILT_IN);
        let cookie = vec![("_chatwoot_session".to_string(), decoded(C_COOKIE_ENCODED))];
        let bad = judge(&cookie, &[], &list, "x");
        assert!(
            bad.failure_message().contains(".env.example"),
            "{}",
            bad.failure_message()
        );
        let iv = [7u8; 12];
        let safe = vec![(
            "_chatwoot_session".to_string(),
            seal("a-private-random-secret", "_chatwoot_session", "{}", iv),
        )];
        assert!(judge(&safe, &[], &list, "x").holds());
    }
}
