//! Secrets (tokens, passwords) that must never appear whole in output.
//!
//! A [`Secret`] prints as a short prefix plus a short hash, so two reports can
//! be compared ("the same token?") without either revealing it. A [`Masker`]
//! remembers every secret a run has seen and scrubs them from free text
//! (response bodies, error messages) before anything is printed or saved.

use std::fmt;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// A secret value. `Display` and `Debug` show only a masked form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for sending to the target. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `abcd…#1a2b3c4d`: four characters and eight hex digits of SHA-256.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

/// Masks one value: a prefix short enough to reveal nothing useful and a hash
/// long enough to tell values apart.
pub fn mask(value: &str) -> String {
    if value.is_empty() {
        return "(empty)".to_string();
    }
    let digest = Sha256::digest(value.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let prefix: String = value.chars().take(prefix_len(value)).collect();
    format!("{prefix}…#{hash}")
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as hex: passwords and names for the servers a run starts.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    hex(&bytes)
}

fn prefix_len(value: &str) -> usize {
    // Short values (passwords) show less, so the prefix never is most of it.
    match value.chars().count() {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    }
}

/// Remembers secrets and removes them from text. Cheap to clone (shared).
///
/// Scrubbing looks up every window of each known length in a map, so its cost does
/// not grow with the number of secrets (a token-strength run registers thousands).
#[derive(Clone, Default)]
pub struct Masker {
    known: Arc<Mutex<Known>>,
}

#[derive(Default)]
struct Known {
    /// Each secret, and its percent-encoded form, to the masked original.
    forms: std::collections::HashMap<String, String>,
    /// The lengths of the forms, longest first, so a secret containing another is
    /// replaced whole.
    lengths: std::collections::BTreeSet<std::cmp::Reverse<usize>>,
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret; values shorter than 6 characters are ignored since
    /// scrubbing them would mangle ordinary text.
    pub fn register(&self, secret: &Secret) {
        self.register_str(secret.expose());
    }

    pub fn register_str(&self, value: &str) {
        if value.len() < 6 {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.forms.contains_key(value) {
            return;
        }
        let masked = mask(value);
        let encoded = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        for form in [value.to_string(), encoded] {
            known.lengths.insert(std::cmp::Reverse(form.len()));
            known.forms.entry(form).or_insert_with(|| masked.clone());
        }
    }

    /// Registers the values a JSON answer holds under secret-looking names (`token`,
    /// `secret`, `password`, `key`, `session`, any case, anywhere in the name): an answer
    /// may hand out a credential nobody registered yet, such as a token rotated by the
    /// request itself.
    pub fn register_json_secrets(&self, body: &str) {
        fn walk(m: &Masker, v: &serde_json::Value, secret: bool) {
            match v {
                serde_json::Value::String(s) if secret => m.register_str(s),
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(m, x, secret)),
                serde_json::Value::Object(o) => {
                    for (k, x) in o {
                        let k = k.to_ascii_lowercase();
                        let named = ["token", "secret", "password", "key", "session"]
                            .iter()
                            .any(|w| k.contains(w));
                        walk(m, x, secret || named);
                    }
                }
                _ => {}
            }
        }
        let body = body.trim_start();
        if (body.starts_with('{') || body.starts_with('['))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(body)
        {
            walk(self, &v, false);
        }
    }

    /// Replaces every known secret, and its percent-encoded form, in `text`.
    pub fn scrub(&self, text: &str) -> String {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.forms.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'scan: while i < text.len() {
            for std::cmp::Reverse(len) in known.lengths.iter().copied() {
                if let Some(window) = text.get(i..i + len)
                    && let Some(masked) = known.forms.get(window)
                {
                    out.push_str(masked);
                    i += len;
                    continue 'scan;
                }
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.known.lock().map(|k| k.forms.len()).unwrap_or(0);
        write!(f, "Masker({n} secrets)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_never_shows_the_value() {
        let s = Secret::new("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq");
        let shown = format!("{s} {s:?}");
        assert!(!shown.contains("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq"));
        assert!(shown.starts_with("9HqL…#"));
    }

    #[test]
    fn equal_values_mask_equal_and_different_values_differ() {
        assert_eq!(mask("token-aaaaaaaaaaaa"), mask("token-aaaaaaaaaaaa"));
        let m = Masker::new();
        m.register_json_secrets(r#"{"data": {"access_token": "abcdefghijkl", "name": "Alice Example"}, "tokens": [{"v": "mnopqrstuvwx"}]}"#);
        let out = m.scrub("abcdefghijkl mnopqrstuvwx Alice Example");
        assert!(
            !out.contains("abcdefghijkl") && !out.contains("mnopqrstuvwx"),
            "{out}"
        );
        assert!(out.contains("Alice Example"), "{out}");
        assert_ne!(mask("token-aaaaaaaaaaaa"), mask("token-aaaaaaaaaaab"));
    }

    #[test]
    fn short_passwords_show_no_prefix() {
        assert!(mask("hunter2").starts_with('…'));
    }

    #[test]
    fn masker_scrubs_plain_and_percent_encoded_forms() {
        let m = Masker::new();
        m.register_str("a+b/c=secretvalue");
        let text = "raw a+b/c=secretvalue and encoded a%2Bb%2Fc%3Dsecretvalue";
        let out = m.scrub(text);
        assert!(!out.contains("secretvalue"), "{out}");
    }
}
