//! Forged and random session tokens (ASVS 3.2.2, 5.0 7.2.3; WSTG-SESS-01): a server
//! must accept only the exact token it issued. Variants of a real token catch a
//! server that compares a prefix or ignores case; random tokens of the same shape
//! catch one that accepts anything well-formed.

/// The characters a token of this shape is drawn from.
fn alphabet(token: &str) -> Vec<char> {
    if token
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return "0123456789abcdef".chars().collect();
    }
    if token
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    {
        return "0123456789ABCDEF".chars().collect();
    }
    let mut a: Vec<char> = ('A'..='Z').chain('a'..='z').chain('0'..='9').collect();
    for extra in ['-', '_', '+', '/'] {
        if token.contains(extra) {
            a.push(extra);
        }
    }
    a
}

/// `token` with the character at `i` replaced by another of its alphabet.
fn changed_at(token: &str, i: usize, alphabet: &[char]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    if let Some(c) = chars.get_mut(i) {
        let at = alphabet.iter().position(|a| a == c).unwrap_or(0);
        *c = alphabet[(at + 1) % alphabet.len()];
    }
    chars.into_iter().collect()
}

/// Forgeries of `token`, each with what it is: its last, middle and first character
/// changed, its case swapped (where it has letters), and `random` tokens of the same
/// length and alphabet.
pub fn variants(token: &str, random: usize) -> Vec<(String, String)> {
    let len = token.chars().count();
    if len == 0 {
        return Vec::new();
    }
    let a = alphabet(token);
    let mut out = vec![
        (
            "last character changed".to_string(),
            changed_at(token, len - 1, &a),
        ),
        (
            "middle character changed".to_string(),
            changed_at(token, len / 2, &a),
        ),
        (
            "first character changed".to_string(),
            changed_at(token, 0, &a),
        ),
    ];
    let swapped: String = token
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if swapped != token {
        out.push(("letter case swapped".to_string(), swapped));
    }
    for n in 1..=random {
        let mut bytes = vec![0u8; len];
        rand::fill(&mut bytes[..]);
        let t: String = bytes.iter().map(|b| a[*b as usize % a.len()]).collect();
        out.push((format!("random token {n} of the same shape"), t));
    }
    out.retain(|(_, t)| t != token);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_differ_from_the_token_and_keep_its_shape() {
        let token = "AbC-dEf_0123456789xyzXYZ";
        let v = variants(token, 3);
        assert_eq!(v.len(), 7);
        for (what, t) in &v {
            assert_ne!(t, token, "{what}");
            assert_eq!(t.len(), token.len(), "{what}");
        }
        assert!(v[0].1.starts_with(&token[..token.len() - 1]));
        let hex = variants("00ff", 1);
        assert!(
            hex.iter()
                .all(|(_, t)| t.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }
}
