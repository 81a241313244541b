//! Session tokens as the stand-ins mint them: random as the real apps do, or with one
//! of the weaknesses the token-strength check must catch.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;

use super::Weakness;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Characters of a presented token the `token-prefix-match` weakness compares (as a
/// column too short for the token would).
const COMPARED_PREFIX: usize = 16;

/// The part of a token the server stores and compares: all of it, or under
/// `token-prefix-match` only its first characters, so a forged tail is accepted.
pub fn compared(weaknesses: &std::collections::BTreeSet<Weakness>, token: &str) -> String {
    if weaknesses.contains(&Weakness::TokenPrefixMatch) {
        token.chars().take(COMPARED_PREFIX).collect()
    } else {
        token.to_string()
    }
}

/// `len` bytes as base64url without padding (Meteor's `Random.secret()` with 32,
/// Ruby's `SecureRandom.urlsafe_base64` with 16).
pub fn mint(weaknesses: &std::collections::BTreeSet<Weakness>, len: usize) -> String {
    if let Some(t) = mint_in_other_alphabet(weaknesses) {
        return t;
    }
    let mut b = vec![0u8; len];
    if weaknesses.contains(&Weakness::CounterTokens) {
        // A counter, started somewhere unguessable-looking.
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let start = 0x5eed_0000_0000u64;
        let at = len.saturating_sub(8);
        b[at..].copy_from_slice(&(start + n).to_be_bytes()[8 - (len - at)..]);
    } else if weaknesses.contains(&Weakness::TimestampTokens) {
        // Milliseconds since the epoch, then 16 random bits, then nothing.
        let ms = chrono::Utc::now().timestamp_millis() as u64;
        b[..8].copy_from_slice(&ms.to_be_bytes());
        rand::fill(&mut b[8..10]);
    } else if weaknesses.contains(&Weakness::ShortRandomTokens) {
        // 64 random bits; the rest a fixed pattern.
        rand::fill(&mut b[..8]);
        for (i, x) in b[8..].iter_mut().enumerate() {
            *x = 0xa5 ^ i as u8;
        }
    } else {
        rand::fill(&mut b[..]);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Tokens of the weaknesses written in another alphabet: `random` random characters,
/// then a fixed tail, as a generator with too few random characters writes them.
fn mint_in_other_alphabet(weaknesses: &std::collections::BTreeSet<Weakness>) -> Option<String> {
    use crate::checks::entropy::Alphabet;
    let (alphabet, random, len) = weaknesses.iter().find_map(|w| match w {
        Weakness::ShortRandomBase32Tokens => Some((Alphabet::Base32, 13, 32)),
        Weakness::ShortRandomPhp5Tokens => Some((Alphabet::Base32Hex, 13, 32)),
        Weakness::ShortRandomBase36Tokens => Some((Alphabet::Base36, 13, 32)),
        Weakness::ShortRandomBase58Tokens => Some((Alphabet::Base58, 11, 24)),
        Weakness::ShortRandomBase62Tokens => Some((Alphabet::Base62, 11, 32)),
        Weakness::ShortRandomPhp6Tokens => Some((Alphabet::Php6, 11, 26)),
        Weakness::UuidTokens => Some((Alphabet::Hex, 0, 0)),
        _ => None,
    })?;
    if len == 0 {
        return Some(crate::checks::entropy::alphabet::uuid_v4());
    }
    Some(crate::checks::entropy::alphabet::sample_token(
        alphabet, len, random,
    ))
}
