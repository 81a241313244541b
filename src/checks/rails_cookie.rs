//! Rails 7 cookies: the encrypted session cookie and signed cookies, and the check
//! that they are not sealed with a publicly known `SECRET_KEY_BASE` (ASVS 3.5.3,
//! 5.0 7.2.1; a known secret lets anyone read and forge sessions).
//!
//! Format (Rails 7.1, `load_defaults 7.0`, Chatwoot 4.x): key = PBKDF2(secret,
//! "authenticated encrypted cookie", 1000 rounds, 32 bytes) with HMAC-SHA256 (older
//! apps: SHA1, so both are tried); AES-256-GCM with a 12-byte IV; value
//! `base64(ciphertext)--base64(iv)--base64(tag)`; plaintext
//! `{"_rails":{"message":"<base64 of the session JSON>","exp":null,"pur":"cookie.<name>"}}`.
//! Signed cookies: `base64(envelope)--hex(HMAC-SHA1)` with a 64-byte key from salt
//! "signed cookie". Unlike badsecrets, both digests are tried and the GCM tag is checked.

use aes_gcm::aead::AeadInOut as _;
use aes_gcm::{Aes256Gcm, KeyInit as _};
use base64::Engine as _;
use hmac::Mac as _;
use serde_json::Value;

use super::Verdict;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const ENCRYPTED_SALT: &[u8] = b"authenticated encrypted cookie";
const SIGNED_SALT: &[u8] = b"signed cookie";
const ITERATIONS: u32 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha1,
}

/// The AES-256-GCM key Rails derives from `secret` for encrypted cookies.
pub fn encryption_key(secret: &str, digest: Digest) -> [u8; 32] {
    match digest {
        Digest::Sha256 => pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(
            secret.as_bytes(),
            ENCRYPTED_SALT,
            ITERATIONS,
        ),
        Digest::Sha1 => pbkdf2::pbkdf2_hmac_array::<sha1::Sha1, 32>(
            secret.as_bytes(),
            ENCRYPTED_SALT,
            ITERATIONS,
        ),
    }
}

/// The key Rails derives for signed cookies: 64 bytes from the same key generator
/// (PBKDF2-SHA256 under `load_defaults 7.0`); the signature itself is HMAC-SHA1.
pub fn signing_key(secret: &str) -> [u8; 64] {
    pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 64>(secret.as_bytes(), SIGNED_SALT, ITERATIONS)
}

/// Rails' metadata envelope, keys in Rails' order (message, exp, pur): the bytes are signed.
fn envelope(message_json: &str, cookie_name: &str) -> String {
    format!(
        r#"{{"_rails":{{"message":{},"exp":null,"pur":{}}}}}"#,
        serde_json::Value::String(B64.encode(message_json)),
        serde_json::Value::String(format!("cookie.{cookie_name}"))
    )
}

/// Seals `session_json` as Rails writes cookie `name` (not URL-encoded).
pub fn seal(secret: &str, name: &str, session_json: &str, iv: [u8; 12]) -> String {
    let key = encryption_key(secret, Digest::Sha256);
    let cipher = Aes256Gcm::new(&key.into());
    let mut buf = envelope(session_json, name).into_bytes();
    let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::from(iv);
    match cipher.encrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into()) {
        Ok(tag) => format!(
            "{}--{}--{}",
            B64.encode(&buf),
            B64.encode(iv),
            B64.encode(tag)
        ),
        Err(_) => String::new(),
    }
}

/// Opens an encrypted cookie value (URL-decoded) with `secret`; the session JSON if it opens.
pub fn open(secret: &str, name: &str, value: &str) -> Option<(String, Digest)> {
    let parts: Vec<&str> = value.split("--").collect();
    let [ct, iv, tag] = parts.as_slice() else {
        return None;
    };
    let (ct, iv, tag) = (
        B64.decode(ct).ok()?,
        B64.decode(iv).ok()?,
        B64.decode(tag).ok()?,
    );
    let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::try_from(iv.as_slice()).ok()?;
    let tag = aes_gcm::aead::Tag::<Aes256Gcm>::try_from(tag.as_slice()).ok()?;
    for digest in [Digest::Sha256, Digest::Sha1] {
        let key = encryption_key(secret, digest);
        let cipher = Aes256Gcm::new(&key.into());
        let mut buf = ct.clone();
        if cipher
            .decrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into(), &tag)
            .is_ok()
        {
            let env: Value = serde_json::from_slice(&buf).ok()?;
            let purpose = env
                .pointer("/_rails/pur")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !purpose.is_empty() && purpose != format!("cookie.{name}") {
                return None;
            }
            let message = env.pointer("/_rails/message").and_then(Value::as_str)?;
            let json = String::from_utf8(B64.decode(message).ok()?).ok()?;
            return Some((json, digest));
        }
    }
    None
}

/// Signs `value_json` as Rails writes signed cookie `name`.
pub fn sign(secret: &str, name: &str, value_json: &str) -> String {
    let data = B64.encode(envelope(value_json, name));
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&signing_key(secret))
        .expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{data}--{digest}")
}

/// Whether a signed cookie value verifies with `secret`.
pub fn verify_signed(secret: &str, value: &str) -> bool {
    let Some((data, hex)) = value.rsplit_once("--") else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&signing_key(secret))
        .expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected.eq_ignore_ascii_case(hex)
}

/// One publicly known secret and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSecret {
    pub value: String,
    pub source: String,
}

/// The list shipped with sessiondrill (`data/rails-secret-key-bases.txt`).
pub const BUILT_IN: &str = include_str!("../../data/rails-secret-key-bases.txt");

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

/// Tries every known secret on the encrypted and signed cookies given as (name, URL-decoded value).
pub fn judge(
    encrypted: &[(String, String)],
    signed: &[(String, String)],
    secrets: &[KnownSecret],
) -> Verdict {
    let mut v = Verdict::default();
    if encrypted.is_empty() && signed.is_empty() {
        v.nothing_to_judge(
            "no Rails session cookie and no signed cookie in the browser after sign-in (looked for _chatwoot_session, user.id, user.expires_at)",
        );
        return v;
    }
    for (name, value) in encrypted {
        let opened = secrets
            .iter()
            .find_map(|s| open(&s.value, name, value).map(|(json, d)| (s, json, d)));
        match opened {
            Some((s, json, digest)) => {
                let keys: Vec<String> = serde_json::from_str::<Value>(&json)
                    .ok()
                    .and_then(|j| j.as_object().map(|o| o.keys().cloned().collect()))
                    .unwrap_or_default();
                v.violate(
                    "ASVS 3.5.3",
                    name.clone(),
                    format!(
                        "opens with the publicly known SECRET_KEY_BASE from {} ({digest:?} key derivation; session keys: {}): \
                         anyone can read and forge this application's cookies",
                        s.source,
                        keys.join(", ")
                    ),
                );
            }
            None => v.note(format!(
                "{name}: none of {} publicly known secrets opens it",
                secrets.len()
            )),
        }
    }
    for (name, value) in signed {
        if let Some(s) = secrets.iter().find(|s| verify_signed(&s.value, value)) {
            v.violate(
                "ASVS 3.5.3",
                name.clone(),
                format!(
                    "its signature verifies with the publicly known SECRET_KEY_BASE from {}",
                    s.source
                ),
            );
        } else {
            v.note(format!(
                "{name}: signature verifies with none of the known secrets"
            ));
        }
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
        assert_eq!(json, C_SESSION);
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
        assert!(
            json.starts_with(r#"{"session_id":"39d9d70957ddad8f68ea5d41790e3533""#),
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
        let bad = judge(&cookie, &[], &list);
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
        assert!(judge(&safe, &[], &list).holds());
    }
}
