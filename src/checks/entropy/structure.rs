//! Tokens with a structure are split before their strength is judged: only the random
//! part of a token is a session id. A sealed or signed message is not random at all
//! (its strength is its key), and a part the analysis cannot place is not judged.

use base64::Engine as _;

/// What a sample of tokens turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Plain tokens: judge them whole.
    Plain,
    /// Judge this part of each token; `what` names the structure for the evidence.
    Part { tokens: Vec<String>, what: String },
    /// RFC 9562 UUIDs: judge the 128 bits but for the version and variant bits.
    Uuid,
    /// Nothing here is a random id to judge; the text says what the tokens are.
    NotRandom(String),
}

fn b64_any(s: &str) -> Option<Vec<u8>> {
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    [base64::alphabet::STANDARD, base64::alphabet::URL_SAFE]
        .iter()
        .find_map(|a| {
            base64::engine::GeneralPurpose::new(a, cfg)
                .decode(s.trim())
                .ok()
        })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A payload that is data, not randomness: JSON, or Ruby's Marshal (`04 08`).
fn is_data(bytes: &[u8]) -> bool {
    bytes.starts_with(&[4, 8])
        || matches!(bytes.first(), Some(b'{' | b'[' | b'"'))
            && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
}

fn jwt_alg(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (h, _, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&b64_any(h)?).ok()?;
    header.get("alg")?.as_str().map(str::to_string)
}

fn is_uuid(t: &str) -> bool {
    let groups: Vec<&str> = t.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| is_hex(g))
}

/// How one token of a `value--mac` pair reads.
enum Rails {
    Gcm,
    Cbc,
    SignedData,
    Value(String),
}

fn rails(token: &str) -> Option<Rails> {
    let parts: Vec<&str> = token.split("--").collect();
    match parts.as_slice() {
        [data, iv, tag] if [data, iv, tag].iter().all(|p| b64_any(p).is_some()) => Some(Rails::Gcm),
        [value, mac] if b64_any(mac).is_some() || is_hex(mac) => {
            let decoded = b64_any(value);
            match decoded {
                Some(d) if String::from_utf8_lossy(&d).contains("--") => Some(Rails::Cbc),
                Some(d) if is_data(&d) => Some(Rails::SignedData),
                _ => Some(Rails::Value(value.to_string())),
            }
        }
        _ => None,
    }
}

/// Splits a sample by the structure every one of its tokens shares.
pub fn shape(tokens: &[String]) -> Shape {
    let all = |f: &dyn Fn(&str) -> bool| !tokens.is_empty() && tokens.iter().all(|t| f(t));
    if all(&|t| jwt_alg(t).is_some()) {
        let alg = jwt_alg(&tokens[0]).unwrap_or_default();
        return Shape::NotRandom(format!(
            "the tokens are JWTs (alg {alg}): a JWT's strength is its signing key and its \
             claims, not the bits of its text"
        ));
    }
    if all(&is_uuid) {
        return Shape::Uuid;
    }
    // A cookie as the browser holds it: Rails escapes its base64 (%2F, %3D).
    let unescaped: Vec<String> = tokens
        .iter()
        .map(|t| crate::model::percent_decode(t))
        .collect();
    if !unescaped.is_empty()
        && unescaped
            .iter()
            .all(|t| t.contains("--") && rails(t).is_some())
    {
        let read: Vec<Rails> = unescaped.iter().filter_map(|t| rails(t)).collect();
        let sealed = |what: &str| {
            Shape::NotRandom(format!(
                "the tokens are Rails {what}: a sealed message, not a random id; its strength \
                 is the secret_key_base (the secret-key-base check opens it)"
            ))
        };
        if read.iter().all(|r| matches!(r, Rails::Gcm)) {
            return sealed("encrypted cookies (AES-256-GCM, data--iv--tag)");
        }
        if read.iter().all(|r| matches!(r, Rails::Cbc)) {
            return sealed("encrypted cookies (AES-256-CBC with an HMAC, data--iv then --mac)");
        }
        if read.iter().all(|r| matches!(r, Rails::SignedData)) {
            return sealed("signed cookies carrying data (value--mac)");
        }
        let values: Option<Vec<String>> = read
            .into_iter()
            .map(|r| match r {
                Rails::Value(v) => Some(v),
                _ => None,
            })
            .collect();
        if let Some(tokens) = values {
            return Shape::Part {
                tokens,
                what: "signed values (value--mac): the value is judged, the MAC is not".into(),
            };
        }
    }
    // Express and connect: `s:<id>.<signature>`.
    if all(&|t| t.starts_with("s:") && t.rfind('.').is_some_and(|d| d > 2)) {
        return Shape::Part {
            tokens: tokens
                .iter()
                .map(|t| t[2..t.rfind('.').unwrap_or(t.len())].to_string())
                .collect(),
            what: "signed ids (s:id.signature, as Express signs them): the id is judged, \
                   the signature is not"
                .into(),
        };
    }
    // `id|token`, as Laravel Sanctum hands them out.
    let id_pipe = |t: &str| {
        t.split_once('|').is_some_and(|(id, rest)| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
        })
    };
    if all(&id_pipe) {
        return Shape::Part {
            tokens: tokens
                .iter()
                .map(|t| t.split_once('|').map_or("", |(_, r)| r).to_string())
                .collect(),
            what: "id|token pairs: the token is judged, the record id before it is not".into(),
        };
    }
    Shape::Plain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &[&str]) -> Vec<String> {
        t.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sealed_and_signed_messages_are_not_random_ids() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert!(matches!(shape(&s(&[jwt])), Shape::NotRandom(m) if m.contains("alg HS256")));
        let gcm = "YWJj--ZGVm--Z2hp";
        assert!(matches!(shape(&s(&[gcm])), Shape::NotRandom(m) if m.contains("GCM")));
        // As the browser holds it: base64 escaped in the cookie.
        let escaped = "YW%2Bj--ZG%3D%3D--Z2hp";
        assert!(matches!(shape(&s(&[escaped])), Shape::NotRandom(m) if m.contains("GCM")));
        let cbc = format!(
            "{}--{}",
            base64::engine::general_purpose::STANDARD.encode("ZW5j--aXY="),
            "ab12"
        );
        assert!(matches!(shape(&s(&[&cbc])), Shape::NotRandom(m) if m.contains("CBC")));
        let signed = format!(
            "{}--{}",
            base64::engine::general_purpose::STANDARD.encode(r#"{"a":1}"#),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert!(
            matches!(shape(&s(&[&signed])), Shape::NotRandom(m) if m.contains("signed cookies"))
        );
    }

    #[test]
    fn the_random_part_of_a_structured_token_is_judged() {
        match shape(&s(&["s:abcDEF123.sig+/x", "s:zzz.q"])) {
            Shape::Part { tokens, .. } => assert_eq!(tokens, ["abcDEF123", "zzz"]),
            other => panic!("{other:?}"),
        }
        match shape(&s(&["12|secretA", "3|secretB"])) {
            Shape::Part { tokens, .. } => assert_eq!(tokens, ["secretA", "secretB"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            shape(&s(&["6f1c2a34-9b0e-4d6f-8a1b-2c3d4e5f6a7b"])),
            Shape::Uuid
        );
        assert_eq!(shape(&s(&["abc", "def"])), Shape::Plain);
        // One plain token in the sample: no structure is shared.
        assert_eq!(shape(&s(&["12|x", "abc"])), Shape::Plain);
    }
}
