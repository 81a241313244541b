//! The alphabet a sample of tokens is written in, decided from the sample itself.
//!
//! Real session ids come in many alphabets: PHP writes 4, 5 or 6 bits per character
//! (`session.sid_bits_per_character`), Django 32 characters of base36, Rails
//! `SecureRandom.base58`, Java and .NET UUIDs and base32, Node and Python base64url and
//! hex. Decoding one as another invents or hides bits, so the analysis names the
//! alphabet it used and decodes by it.

/// Every alphabet the analysis can decode, in order of size (the narrowest that holds a
/// whole sample is the one it is written in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    Decimal,
    /// `0-9a-f`, either case (PHP's 4 bits per character).
    Hex,
    /// RFC 4648 base32, `A-Z2-7`, either case.
    Base32,
    /// RFC 4648 base32hex, `0-9a-v`, either case (PHP's 5 bits per character).
    Base32Hex,
    /// `0-9a-z` in one case (Django's session keys).
    Base36,
    /// Bitcoin's base58 (Rails `SecureRandom.base58`, `has_secure_token`).
    Base58,
    /// `0-9A-Za-z`.
    Base62,
    /// RFC 4648 base64url, `A-Za-z0-9-_`.
    Base64Url,
    /// RFC 4648 base64, `A-Za-z0-9+/`.
    Base64,
    /// PHP's 6 bits per character, `0-9a-zA-Z,-`.
    Php6,
}

const DIGITS: &str = "0123456789";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl Alphabet {
    pub const ALL: [Alphabet; 10] = [
        Alphabet::Decimal,
        Alphabet::Hex,
        Alphabet::Base32,
        Alphabet::Base32Hex,
        Alphabet::Base36,
        Alphabet::Base58,
        Alphabet::Base62,
        Alphabet::Base64Url,
        Alphabet::Base64,
        Alphabet::Php6,
    ];

    /// The name a profile uses (`credential.alphabet`) and the evidence shows.
    pub fn name(self) -> &'static str {
        match self {
            Alphabet::Decimal => "decimal",
            Alphabet::Hex => "hex",
            Alphabet::Base32 => "base32",
            Alphabet::Base32Hex => "base32hex",
            Alphabet::Base36 => "base36",
            Alphabet::Base58 => "base58",
            Alphabet::Base62 => "base62",
            Alphabet::Base64Url => "base64url",
            Alphabet::Base64 => "base64",
            Alphabet::Php6 => "php6",
        }
    }

    pub fn parse(name: &str) -> Option<Alphabet> {
        Alphabet::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The names a profile may give, for error messages.
    pub fn names() -> String {
        Alphabet::ALL.map(Alphabet::name).join(", ")
    }

    /// The symbols in the order of their values (lower case where case does not matter).
    pub fn symbols(self) -> String {
        match self {
            Alphabet::Decimal => DIGITS.into(),
            Alphabet::Hex => format!("{DIGITS}abcdef"),
            Alphabet::Base32 => format!("{LOWER}234567"),
            Alphabet::Base32Hex => format!("{DIGITS}{}", &LOWER[..22]),
            Alphabet::Base36 => format!("{DIGITS}{LOWER}"),
            Alphabet::Base58 => "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".into(),
            Alphabet::Base62 => format!("{DIGITS}{UPPER}{LOWER}"),
            Alphabet::Base64Url => format!("{UPPER}{LOWER}{DIGITS}-_"),
            Alphabet::Base64 => format!("{UPPER}{LOWER}{DIGITS}+/"),
            Alphabet::Php6 => format!("{DIGITS}{LOWER}{UPPER},-"),
        }
    }

    /// Whether upper and lower case are one symbol (the sample must then keep to one case).
    fn folds_case(self) -> bool {
        matches!(
            self,
            Alphabet::Hex | Alphabet::Base32 | Alphabet::Base32Hex | Alphabet::Base36
        )
    }

    /// RFC 4648 encodings pad with `=`, and an encoding of bytes may leave zero bits in
    /// its last character.
    fn pads(self) -> bool {
        matches!(
            self,
            Alphabet::Base32 | Alphabet::Base32Hex | Alphabet::Base64Url | Alphabet::Base64
        )
    }

    pub fn radix(self) -> usize {
        self.symbols().len()
    }

    /// Bits per character where the radix is a power of two; `None` otherwise.
    pub fn bits_per_char(self) -> Option<usize> {
        let r = self.radix();
        r.is_power_of_two().then(|| r.trailing_zeros() as usize)
    }

    /// log2 of the radix: what one uniformly random character carries.
    pub fn bits_per_symbol(self) -> f64 {
        (self.radix() as f64).log2()
    }

    /// The token without its `=` padding, where the alphabet pads.
    pub fn unpadded(self, token: &str) -> &str {
        if self.pads() {
            token.trim_end_matches('=')
        } else {
            token
        }
    }

    /// Each character's value; `None` when a character is not in the alphabet.
    pub fn values(self, token: &str) -> Option<Vec<u8>> {
        let symbols = self.symbols();
        let table = lookup(&symbols, self.folds_case());
        self.unpadded(token)
            .bytes()
            .map(|b| table[b as usize])
            .collect()
    }

    /// Whether every token is written in this alphabet, in one case where case folds.
    fn holds(self, tokens: &[String]) -> bool {
        let table = lookup(&self.symbols(), self.folds_case());
        let mut cases = (false, false);
        let fits = tokens.iter().all(|t| {
            let t = self.unpadded(t);
            !t.is_empty()
                && t.bytes().all(|b| {
                    cases.0 |= b.is_ascii_lowercase();
                    cases.1 |= b.is_ascii_uppercase();
                    table[b as usize].is_some()
                })
        });
        fits && !(self.folds_case() && cases.0 && cases.1)
    }
}

fn lookup(symbols: &str, folds_case: bool) -> [Option<u8>; 256] {
    let mut table = [None; 256];
    for (v, s) in symbols.bytes().enumerate() {
        table[s as usize] = Some(v as u8);
        if folds_case {
            table[s.to_ascii_uppercase() as usize] = Some(v as u8);
        }
    }
    table
}

/// The narrowest alphabet every token of the sample is written in; `None` when no
/// alphabet the analysis knows holds them all.
///
/// Narrowest first keeps a mistake on the safe side: a position is credited
/// `log2(radix)` bits only when it is uniform over the whole alphabet, so a sample read
/// in too wide an alphabet shows skew, never bits it does not have.
pub fn detect(tokens: &[String]) -> Option<Alphabet> {
    Alphabet::ALL.into_iter().find(|a| a.holds(tokens))
}

/// `random` random characters of `a` followed by a fixed tail up to `len`: a well-made
/// token when `random == len`, a short-random one otherwise (the reference targets'
/// weaknesses, benchmarks and tests).
pub fn sample_token(a: Alphabet, len: usize, random: usize) -> String {
    let symbols: Vec<char> = a.symbols().chars().collect();
    (0..len)
        .map(|i| {
            if i < random {
                symbols[rand::random_range(0..symbols.len())]
            } else {
                symbols[(i * 7) % symbols.len()]
            }
        })
        .collect()
}

/// An RFC 9562 version-4 UUID: random but for the version nibble and the variant bits.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The characters of the sample no known alphabet has, for the evidence.
pub fn foreign_characters(tokens: &[String]) -> String {
    let mut seen: Vec<char> = tokens
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !(c.is_ascii_alphanumeric() || "-_+/=,".contains(*c)))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.iter()
        .take(8)
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(s: &[&str]) -> Vec<String> {
        s.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn every_alphabet_has_its_radix_and_distinct_symbols() {
        for a in Alphabet::ALL {
            let s = a.symbols();
            let mut b: Vec<u8> = s.bytes().collect();
            b.sort_unstable();
            b.dedup();
            assert_eq!(b.len(), s.len(), "{}", a.name());
            assert_eq!(Alphabet::parse(a.name()), Some(a));
        }
        let radix: Vec<usize> = Alphabet::ALL.iter().map(|a| a.radix()).collect();
        assert_eq!(radix, [10, 16, 32, 32, 36, 58, 62, 64, 64, 64]);
    }

    #[test]
    fn the_narrowest_alphabet_that_holds_the_sample_is_chosen() {
        let d = |s: &[&str]| detect(&sample(s));
        assert_eq!(d(&["0123456789abcdef", "ffee"]), Some(Alphabet::Hex));
        assert_eq!(d(&["0123456789ABCDEF"]), Some(Alphabet::Hex));
        assert_eq!(
            d(&["83fiuthgphfpb2c2bm21cksd276rl78u"]),
            Some(Alphabet::Base32Hex)
        );
        assert_eq!(
            d(&["MFRGGZDFMZTWQ2LK", "ONXW2ZLUNBUW4ZY="]),
            Some(Alphabet::Base32)
        );
        assert_eq!(
            d(&["k3x9zq0w7y", "abcdefghijklmnopqrstuvwxyz"]),
            Some(Alphabet::Base36)
        );
        assert_eq!(d(&["3mJr7AoUXx2Wqd", "zZ9"]), Some(Alphabet::Base58));
        assert_eq!(d(&["0OIl", "zZ9"]), Some(Alphabet::Base62));
        assert_eq!(d(&["a-b_0", "zZ9"]), Some(Alphabet::Base64Url));
        assert_eq!(d(&["a+b/0==", "zZ9"]), Some(Alphabet::Base64));
        assert_eq!(d(&["a,b-0", "zZ9"]), Some(Alphabet::Php6));
        // Mixed case is not hex, base32 or base36.
        assert_eq!(d(&["aBcDeF"]), Some(Alphabet::Base58));
        assert_eq!(d(&["a.b"]), None);
        assert_eq!(d(&[""]), None);
    }

    #[test]
    fn values_follow_the_alphabets_order_and_drop_padding() {
        assert_eq!(Alphabet::Hex.values("0aF"), Some(vec![0, 10, 15]));
        assert_eq!(Alphabet::Base32Hex.values("v"), Some(vec![31]));
        assert_eq!(Alphabet::Base32.values("A7="), Some(vec![0, 31]));
        assert_eq!(Alphabet::Base64Url.values("A_"), Some(vec![0, 63]));
        assert_eq!(Alphabet::Php6.values("-"), Some(vec![63]));
        assert_eq!(Alphabet::Base58.values("0"), None);
        assert_eq!(Alphabet::Base58.bits_per_char(), None);
        assert_eq!(Alphabet::Php6.bits_per_char(), Some(6));
    }
}
