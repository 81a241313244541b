//! Token strength as Burp Sequencer measures it: tokens decoded to bits, each bit
//! position tested across the sample with the four FIPS 140-2 tests (bit i of
//! 20,000 tokens is exactly one FIPS block), plus a character-level look at each
//! position. Effective entropy is the number of bit positions that pass.
//!
//! The tokens are first split by their structure (`structure`: only a random part is
//! judged; a sealed message is not) and read in the alphabet the sample shows
//! (`alphabet`). An alphabet whose size is not a power of two (base36, base58, base62)
//! is judged per character: each position must be uniform over the alphabet and
//! independent of the previous token, and carries log2 of its size.
//!
//! Statistics only prove weakness: a hashed counter passes every test. Verdicts say
//! "no statistical weakness found", never "random" or "secure".

pub mod alphabet;
pub mod structure;

use std::collections::HashSet;

pub use alphabet::Alphabet;
use structure::Shape;

use super::Verdict;

/// FIPS 140-2's block: the bounds below are exact for this many samples and scaled otherwise.
pub const FIPS_BLOCK: usize = 20_000;
/// The fewest tokens worth analysing (Burp Sequencer's minimum is 100; the poker test
/// needs 80 four-bit segments).
pub const MIN_SAMPLES: usize = 320;
/// ASVS 4.0.3 3.2.2.
pub const ASVS4_BITS: usize = 64;
/// ASVS 5.0 7.2.3.
pub const ASVS5_BITS: usize = 128;

/// The four FIPS 140-2 tests on one sequence of bits; true when all pass.
pub fn fips_passes(bits: &[bool]) -> bool {
    let n = bits.len();
    if n < MIN_SAMPLES {
        return false;
    }
    let scale = n as f64 / FIPS_BLOCK as f64;
    let spread = scale.sqrt();
    // Monobit: 9725 < ones < 10275 at 20,000.
    let ones = bits.iter().filter(|b| **b).count() as f64;
    if (ones - n as f64 / 2.0).abs() >= 275.0 * spread {
        return false;
    }
    // Poker (4-bit segments): 2.16 < X < 46.17, a chi-square with 15 degrees of freedom.
    let k = n / 4;
    let mut f = [0u64; 16];
    for seg in bits.chunks_exact(4) {
        let v = seg
            .iter()
            .fold(0usize, |acc, b| (acc << 1) | usize::from(*b));
        f[v] += 1;
    }
    let x = 16.0 / k as f64 * f.iter().map(|c| (*c * *c) as f64).sum::<f64>() - k as f64;
    if !(2.16 < x && x < 46.17) {
        return false;
    }
    // Runs of each length for zeros and ones, and the long run (26 or more).
    const RUNS: [(f64, f64); 6] = [
        (2315.0, 2685.0),
        (1114.0, 1386.0),
        (527.0, 723.0),
        (240.0, 384.0),
        (103.0, 209.0),
        (103.0, 209.0),
    ];
    let mut counts = [[0u32; 6]; 2];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && bits[j] == bits[i] {
            j += 1;
        }
        let len = j - i;
        if len >= 26 {
            return false;
        }
        counts[usize::from(bits[i])][len.min(6) - 1] += 1;
        i = j;
    }
    for side in counts {
        for (c, (lo, hi)) in side.iter().zip(RUNS) {
            let (centre, half) = ((lo + hi) / 2.0 * scale, (hi - lo) / 2.0 * spread);
            if (f64::from(*c) - centre).abs() > half {
                return false;
            }
        }
    }
    true
}

/// Whether a chi-square statistic is far beyond chance (p below about 1e-4), by the
/// Wilson–Hilferty approximation.
fn chi_square_extreme(x: f64, df: f64) -> bool {
    if df < 1.0 {
        return false;
    }
    let z = ((x / df).cbrt() - (1.0 - 2.0 / (9.0 * df))) / (2.0 / (9.0 * df)).sqrt();
    z > 3.72
}

/// How the sample was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Bit positions, FIPS 140-2 (alphabets of 2^k symbols).
    Bits,
    /// Character positions, uniform over the alphabet and independent of the previous
    /// token (alphabets whose size is not a power of two: base36, base58, base62).
    Characters,
}

/// Everything the analysis found.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub samples: usize,
    /// Why the sample holds nothing to judge (a sealed message, an unknown alphabet).
    pub not_judged: Option<String>,
    /// What the tokens' structure made of them (the part judged), for the evidence.
    pub structure: Option<String>,
    pub alphabet: Option<Alphabet>,
    /// Whether the alphabet was stated by the profile rather than read from the sample.
    pub alphabet_stated: bool,
    pub level: Level,
    /// Bits per judged token (the shortest, when lengths differ).
    pub bits: usize,
    /// Bits of the judged part that pass (bit positions, or character positions × log2
    /// of the alphabet's size).
    pub effective_bits: usize,
    /// Failures a truly random token may show by chance (about 0.3 of 256 positions per run).
    pub slack: usize,
    /// Bits the format fixes and the analysis leaves out: an encoding's padding bits,
    /// a UUID's version and variant.
    pub format_bits: usize,
    pub format_note: Option<String>,
    /// Positions judged and passed, at the level above.
    pub positions: usize,
    pub positions_passing: usize,
    pub lengths_differ: bool,
    pub duplicates: usize,
    /// Characters every token starts with.
    pub common_prefix: usize,
    /// Character positions whose distribution over the alphabet, or whose change from one
    /// token to the next, is far from uniform.
    pub char_positions_skewed: usize,
    pub char_positions: usize,
}

impl Analysis {
    fn empty(samples: usize) -> Analysis {
        Analysis {
            samples,
            not_judged: None,
            structure: None,
            alphabet: None,
            alphabet_stated: false,
            level: Level::Bits,
            bits: 0,
            effective_bits: 0,
            slack: 0,
            format_bits: 0,
            format_note: None,
            positions: 0,
            positions_passing: 0,
            lengths_differ: false,
            duplicates: 0,
            common_prefix: 0,
            char_positions_skewed: 0,
            char_positions: 0,
        }
    }

    /// The effective entropy counted against `bits`, allowing chance failures but never
    /// crediting more bits than the tokens carry.
    pub fn meets(&self, bits: usize) -> bool {
        self.bits >= bits && self.effective_bits + self.slack >= bits
    }

    /// The alphabet as the evidence names it.
    pub fn alphabet_text(&self) -> String {
        match self.alphabet {
            Some(a) => format!(
                "{} ({} symbols, {}{})",
                a.name(),
                a.radix(),
                match a.bits_per_char() {
                    Some(b) => format!("{b} bits per character"),
                    None => format!("{:.2} bits per character", a.bits_per_symbol()),
                },
                if self.alphabet_stated {
                    ", as the profile states"
                } else {
                    ", the narrowest alphabet that holds every token"
                }
            ),
            None => "no known alphabet".into(),
        }
    }

    /// How the positions were judged, in the words of the verdict.
    pub fn positions_text(&self) -> String {
        match self.level {
            Level::Bits => format!(
                "{} of {} bit positions pass the FIPS 140-2 tests over {} tokens",
                self.positions_passing, self.positions, self.samples
            ),
            Level::Characters => format!(
                "{} of {} character positions uniform over the {} alphabet and independent of \
                 the previous token over {} tokens, {:.2} bits each; judged per character, as \
                 the alphabet's size is not a power of two",
                self.positions_passing,
                self.positions,
                self.alphabet.map_or("?", Alphabet::name),
                self.samples,
                self.alphabet.map_or(0.0, Alphabet::bits_per_symbol),
            ),
        }
    }

    pub fn summary(&self) -> String {
        if let Some(why) = &self.not_judged {
            return format!("{} tokens: {why}", self.samples);
        }
        let mut s = format!("{} tokens in {}", self.samples, self.alphabet_text());
        if let Some(what) = &self.structure {
            s.push_str(&format!("; {what}"));
        }
        if let Some(f) = &self.format_note {
            s.push_str(&format!("; {f}"));
        }
        s.push_str(&format!(
            "; {} bits judged: {} (chance allows {} bits of failures); {} duplicates; common \
             prefix {} characters; {} of {} character positions skewed",
            self.bits,
            self.positions_text(),
            self.slack,
            self.duplicates,
            self.common_prefix,
            self.char_positions_skewed,
            self.char_positions,
        ));
        s
    }
}

/// Analyses a sample of tokens, reading their alphabet from the sample.
pub fn analyse(tokens: &[String]) -> Analysis {
    analyse_as(tokens, None)
}

/// Analyses a sample of tokens in the alphabet a profile states, or the one the sample shows.
pub fn analyse_as(tokens: &[String], stated: Option<Alphabet>) -> Analysis {
    let mut a = Analysis::empty(tokens.len());
    // Cookie values arrive percent-encoded (`%3D`, `s%3A`); the token is what they encode.
    let decoded: Vec<String>;
    let mut tokens = tokens;
    if tokens.iter().any(|t| has_percent_escape(t)) {
        decoded = tokens
            .iter()
            .map(|t| crate::model::percent_decode(t))
            .collect();
        tokens = &decoded;
    }
    let distinct: HashSet<&String> = tokens.iter().collect();
    a.duplicates = tokens.len() - distinct.len();
    let split: Vec<String>;
    let mut uuid = false;
    match structure::shape(tokens) {
        Shape::NotRandom(why) => {
            a.not_judged = Some(why);
            return a;
        }
        Shape::Part { tokens: part, what } => {
            a.structure = Some(what);
            split = part;
        }
        Shape::Uuid => {
            uuid = true;
            a.structure = Some("UUIDs: the 32 hex digits are judged".into());
            split = tokens.iter().map(|t| t.replace('-', "")).collect();
        }
        Shape::Plain => split = tokens.to_vec(),
    }
    let tokens = &split;
    let alphabet = match stated {
        Some(s) => {
            a.alphabet_stated = true;
            if let Some(bad) = tokens.iter().find(|t| s.values(t).is_none()) {
                a.not_judged = Some(format!(
                    "a token is not written in the {} alphabet the profile states \
                     (credential.alphabet): {} characters, {} of them outside it",
                    s.name(),
                    bad.len(),
                    bad.bytes()
                        .filter(|b| s.values(&(*b as char).to_string()).is_none())
                        .count()
                ));
                return a;
            }
            s
        }
        None => match alphabet::detect(tokens) {
            Some(d) => d,
            None => {
                a.not_judged = Some(format!(
                    "the tokens are written in no alphabet the analysis knows (characters seen \
                     outside them: {}); a profile can state it as credential.alphabet = one of {}",
                    alphabet::foreign_characters(tokens),
                    Alphabet::names()
                ));
                return a;
            }
        },
    };
    a.alphabet = Some(alphabet);
    let values: Vec<Vec<u8>> = tokens
        .iter()
        .map(|t| alphabet.values(t).unwrap_or_default())
        .collect();
    let width = values.iter().map(Vec::len).min().unwrap_or(0);
    a.lengths_differ = values.iter().any(|v| v.len() != width);
    a.common_prefix = match tokens.first() {
        Some(first) => tokens.iter().fold(first.len(), |n, t| {
            n.min(
                first
                    .bytes()
                    .zip(t.bytes())
                    .take_while(|(a, b)| a == b)
                    .count(),
            )
        }),
        None => 0,
    };
    let radix = alphabet.radix();
    let (char_positions, skewed) = character_level(&values, radix, width);
    a.char_positions = char_positions;
    a.char_positions_skewed = skewed.len();
    match alphabet.bits_per_char() {
        Some(per) => judge_bits(&mut a, &values, per, width, uuid),
        None => {
            a.level = Level::Characters;
            let per = alphabet.bits_per_symbol();
            a.positions = width;
            a.positions_passing = width - skewed.len();
            a.bits = (width as f64 * per).floor() as usize;
            a.effective_bits = (a.positions_passing as f64 * per).floor() as usize;
            // One position's worth: a chance failure at p < 1e-4 per test.
            a.slack = per.ceil() as usize;
        }
    }
    a
}

fn has_percent_escape(t: &str) -> bool {
    t.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// Every character's value as `per` bits, most significant first; then the positions the
/// format fixes are left out, and each remaining bit position gets the FIPS tests.
fn judge_bits(a: &mut Analysis, values: &[Vec<u8>], per: usize, width: usize, uuid: bool) {
    let total = width * per;
    let bit = |v: &[u8], pos: usize| v[pos / per] >> (per - 1 - pos % per) & 1 == 1;
    let constant = |pos: usize| {
        let first = values.first().map(|v| bit(v, pos));
        values.iter().all(|v| Some(bit(v, pos)) == first)
    };
    let mut excluded: Vec<usize> = Vec::new();
    // An encoding of bytes leaves zero bits in its last character (base64 of 16 bytes
    // ends in 4): the same in every token, they are padding, not a weakness.
    let spare = total % 8;
    if spare > 0
        && values.len() > 1
        && (total - spare..total).all(|p| constant(p) && !values.first().is_some_and(|v| bit(v, p)))
    {
        excluded.extend(total - spare..total);
        a.format_note = Some(format!(
            "{spare} padding bits of the encoding's last character left out"
        ));
    }
    if uuid && total == 128 {
        // RFC 9562: the version nibble (bits 48-51) and the variant (64-65).
        let format: Vec<usize> = (48..52).chain(64..66).collect();
        if format.iter().all(|p| constant(*p)) {
            let version = values.first().map_or(0, |v| v[12]);
            a.format_note = Some(format!(
                "UUID version {version}: its 4 version and 2 variant bits are fixed by the \
                 format and left out"
            ));
            excluded.extend(format);
        }
    }
    a.format_bits = excluded.len();
    let judged: Vec<usize> = (0..total).filter(|p| !excluded.contains(p)).collect();
    let mut column = vec![false; values.len()];
    let mut passing = 0;
    for &pos in &judged {
        for (slot, v) in column.iter_mut().zip(values) {
            *slot = bit(v, pos);
        }
        if fips_passes(&column) {
            passing += 1;
        }
    }
    a.level = Level::Bits;
    a.positions = judged.len();
    a.positions_passing = passing;
    a.bits = judged.len();
    a.effective_bits = passing;
    a.slack = 3 + a.bits / 256;
}

/// Per character position: the distribution over the whole alphabet, and the change
/// (mod the alphabet's size) from one token's character to the next one's, each as a
/// chi-square against uniform. Returns the positions and the skewed ones.
///
/// Uniform over the whole alphabet, not over the symbols seen: a sample read in too
/// wide an alphabet then shows skew instead of bits it does not have. The change test
/// catches counters and clocks, whose positions move slowly or in steps.
fn character_level(values: &[Vec<u8>], radix: usize, width: usize) -> (usize, Vec<usize>) {
    let n = values.len();
    let mut skewed = Vec::new();
    if n < 2 || radix < 2 {
        return (width, (0..width).collect());
    }
    let df = radix as f64 - 1.0;
    let chi = |counts: &[u64], total: f64| {
        let expected = total / radix as f64;
        counts
            .iter()
            .map(|c| (*c as f64 - expected).powi(2) / expected)
            .sum::<f64>()
    };
    let mut seen = vec![0u64; radix];
    let mut moves = vec![0u64; radix];
    for pos in 0..width {
        seen.iter_mut().for_each(|c| *c = 0);
        moves.iter_mut().for_each(|c| *c = 0);
        for v in values {
            seen[v[pos] as usize] += 1;
        }
        for w in values.windows(2) {
            let d = (w[1][pos] as usize + radix - w[0][pos] as usize) % radix;
            moves[d] += 1;
        }
        if chi_square_extreme(chi(&seen, n as f64), df)
            || chi_square_extreme(chi(&moves, (n - 1) as f64), df)
        {
            skewed.push(pos);
        }
    }
    (width, skewed)
}

/// Judges a sample against ASVS 5.0 7.2.3 (128 bits) and 4.0.3 3.2.2 (64 bits).
pub fn judge(a: &Analysis) -> Verdict {
    let mut v = Verdict::default();
    if let Some(why) = &a.not_judged {
        // The summary would only say the same again.
        v.nothing_to_judge(format!(
            "{} tokens, token strength not judged: {why}",
            a.samples
        ));
        return v;
    }
    v.note(a.summary());
    if a.samples < MIN_SAMPLES {
        v.nothing_to_judge(format!(
            "{} tokens are too few to judge; at least {MIN_SAMPLES} are needed",
            a.samples
        ));
        return v;
    }
    if a.duplicates > 0 {
        v.violate(
            "ASVS 5.0 7.2.3",
            "session tokens",
            format!(
                "{} of {} fresh tokens repeat an earlier one",
                a.duplicates, a.samples
            ),
        );
    }
    if !a.meets(ASVS5_BITS) {
        let (req, bar) = if a.meets(ASVS4_BITS) {
            ("ASVS 5.0 7.2.3", ASVS5_BITS)
        } else {
            ("ASVS 3.2.2", ASVS4_BITS)
        };
        v.violate(
            req,
            "session tokens",
            format!(
                "about {} effective bits of {} ({}); at least {bar} are required",
                a.effective_bits,
                a.bits,
                a.positions_text()
            ),
        );
    }
    if v.holds() {
        v.note(format!(
            "no statistical weakness found in {} tokens of {}: about {} effective bits \
             (statistics cannot prove a token unpredictable; a hashed counter passes them too)",
            a.samples,
            a.alphabet.map_or("?", Alphabet::name),
            a.effective_bits
        ));
    }
    v
}
#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn random_tokens(n: usize, len: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let mut b = vec![0u8; len];
                rand::fill(&mut b[..]);
                b64(&b)
            })
            .collect()
    }

    #[test]
    fn random_256_bit_tokens_pass_with_about_all_positions() {
        let a = analyse(&random_tokens(FIPS_BLOCK, 32));
        assert_eq!(a.alphabet, Some(Alphabet::Base64Url));
        assert_eq!(a.bits, 256);
        assert!(a.effective_bits >= 250, "{}", a.summary());
        assert!(judge(&a).holds(), "{}", a.summary());
    }

    #[test]
    fn sixty_four_random_bits_in_a_256_bit_token_fail_the_128_bit_rule() {
        let tokens: Vec<String> = (0..FIPS_BLOCK)
            .map(|_| {
                let mut b = [0x5au8; 32];
                rand::fill(&mut b[..8]);
                b64(&b)
            })
            .collect();
        let a = analyse(&tokens);
        assert!((60..=64).contains(&a.effective_bits), "{}", a.summary());
        let v = judge(&a);
        assert!(v.failure_message().contains("ASVS 5.0 7.2.3"), "{v:?}");
    }

    #[test]
    fn counters_and_timestamps_fail_both_rules() {
        let counter: Vec<String> = (0..FIPS_BLOCK as u64)
            .map(|i| format!("{:064x}", 0x1234_5678u64 + i))
            .collect();
        let a = analyse(&counter);
        assert_eq!(a.alphabet, Some(Alphabet::Hex));
        assert!(a.effective_bits < 8, "{}", a.summary());
        assert!(judge(&a).failure_message().contains("ASVS 3.2.2"));
        let stamped: Vec<String> = (0..FIPS_BLOCK as u64)
            .map(|i| {
                let mut b = [0u8; 32];
                b[..8].copy_from_slice(&(1_700_000_000_000u64 + i / 3).to_be_bytes());
                rand::fill(&mut b[8..10]);
                b64(&b)
            })
            .collect();
        let a = analyse(&stamped);
        assert!(a.effective_bits <= 24, "{}", a.summary());
        assert!(!judge(&a).holds());
    }

    #[test]
    fn base64_text_must_be_decoded_first() {
        // The ASCII of base64 text fails every bit test: the top bit of each byte is 0.
        let tokens = random_tokens(2_000, 16);
        let raw: Vec<u8> = tokens[0].bytes().collect();
        assert!(raw.iter().all(|b| b & 0x80 == 0));
        let a = analyse(&tokens);
        assert_eq!(a.bits, 128);
        assert!(a.effective_bits >= 122, "{}", a.summary());
    }

    #[test]
    fn duplicates_and_small_samples() {
        let mut t = random_tokens(1_000, 32);
        t[10] = t[3].clone();
        let v = judge(&analyse(&t));
        assert!(
            v.failure_message()
                .contains("1 of 1000 fresh tokens repeat"),
            "{v:?}"
        );
        let small = judge(&analyse(&random_tokens(10, 32)));
        assert!(small.nothing_judged);
    }

    #[test]
    fn fips_bounds_are_the_standards_at_20000() {
        let zeros = vec![false; FIPS_BLOCK];
        assert!(!fips_passes(&zeros));
        let alternating: Vec<bool> = (0..FIPS_BLOCK).map(|i| i % 2 == 0).collect();
        assert!(!fips_passes(&alternating));
    }

    fn in_alphabet(a: Alphabet, n: usize, random: usize, fixed: usize) -> Vec<String> {
        (0..n)
            .map(|_| alphabet::sample_token(a, random + fixed, random))
            .collect()
    }

    #[test]
    fn base36_session_keys_are_judged_per_character() {
        // Django's session key: 32 characters of a-z0-9, about 165 bits.
        let a = analyse(&in_alphabet(Alphabet::Base36, 1_000, 32, 0));
        assert_eq!(a.alphabet, Some(Alphabet::Base36));
        assert_eq!(a.level, Level::Characters);
        assert_eq!(a.bits, 165);
        assert!(a.effective_bits >= 155, "{}", a.summary());
        assert!(judge(&a).holds(), "{}", a.summary());
        // 13 random characters (67 bits), the rest fixed.
        let a = analyse(&in_alphabet(Alphabet::Base36, 1_000, 13, 19));
        assert!((62..=67).contains(&a.effective_bits), "{}", a.summary());
        let v = judge(&a);
        assert!(
            v.failure_message()
                .contains("character positions uniform over the base36 alphabet")
                && v.failure_message().contains("ASVS 5.0 7.2.3"),
            "{v:?}"
        );
    }

    #[test]
    fn a_counter_in_a_wide_alphabet_fails_the_change_test() {
        let symbols: Vec<char> = Alphabet::Base62.symbols().chars().collect();
        let tokens: Vec<String> = (0..2_000u64)
            .map(|mut i| {
                i += 987_654_321;
                (0..22)
                    .map(|_| {
                        let c = symbols[(i % 62) as usize];
                        i /= 62;
                        c
                    })
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect()
            })
            .collect();
        let a = analyse(&tokens);
        assert_eq!(a.level, Level::Characters, "{}", a.summary());
        assert!(a.effective_bits < 20, "{}", a.summary());
        assert!(judge(&a).failure_message().contains("ASVS 3.2.2"));
    }

    #[test]
    fn power_of_two_alphabets_are_read_a_character_at_a_time() {
        // PHP's 5 bits per character, 32 characters: 160 bits.
        let a = analyse(&in_alphabet(Alphabet::Base32Hex, 2_000, 32, 0));
        assert_eq!((a.alphabet, a.bits), (Some(Alphabet::Base32Hex), 160));
        assert!(
            a.effective_bits >= 154 && judge(&a).holds(),
            "{}",
            a.summary()
        );
        // PHP's 6 bits, 26 characters: 156 bits, none of them padding.
        let a = analyse(&in_alphabet(Alphabet::Php6, 2_000, 26, 0));
        assert_eq!(
            (a.alphabet, a.bits, a.format_bits),
            (Some(Alphabet::Php6), 156, 0)
        );
        assert!(judge(&a).holds(), "{}", a.summary());
        // base64 of 16 bytes: 22 characters, the last 4 bits padding.
        let a = analyse(&random_tokens(2_000, 16));
        assert_eq!((a.bits, a.format_bits), (128, 4), "{}", a.summary());
        assert!(a.effective_bits >= 122, "{}", a.summary());
    }

    #[test]
    fn uuids_carry_122_random_bits_below_the_128_required() {
        let tokens: Vec<String> = (0..2_000).map(|_| alphabet::uuid_v4()).collect();
        let a = analyse(&tokens);
        assert_eq!((a.bits, a.format_bits), (122, 6), "{}", a.summary());
        assert!(a.summary().contains("UUID version 4"), "{}", a.summary());
        let v = judge(&a);
        assert!(
            v.failure_message().contains("of 122") && v.failure_message().contains("at least 128"),
            "{v:?}"
        );
    }

    #[test]
    fn what_the_analysis_cannot_read_is_not_judged() {
        let jwt: Vec<String> = (0..400)
            .map(|i| format!("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ{i}In0.c2ln"))
            .collect();
        let v = judge(&analyse(&jwt));
        assert!(v.nothing_judged && v.holds(), "{v:?}");
        assert!(v.evidence.iter().any(|e| e.contains("alg RS256")), "{v:?}");
        let odd: Vec<String> = (0..400).map(|i| format!("id {i}!")).collect();
        let v = judge(&analyse(&odd));
        assert!(
            v.nothing_judged && v.evidence.iter().any(|e| e.contains("' '")),
            "{v:?}"
        );
        // A stated alphabet the tokens do not fit is named, not guessed around.
        let v = judge(&analyse_as(&random_tokens(400, 16), Some(Alphabet::Hex)));
        assert!(v.nothing_judged, "{v:?}");
    }

    #[test]
    fn never_more_bits_credited_than_the_tokens_carry() {
        // 125 random bits pass every test, but are not 128.
        let a = analyse(&in_alphabet(Alphabet::Base32Hex, 2_000, 25, 0));
        assert_eq!(a.bits, 125);
        assert!(!a.meets(ASVS5_BITS), "{}", a.summary());
    }
}
