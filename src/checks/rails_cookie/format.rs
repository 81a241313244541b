//! Every Rails cookie format in use, read and written as Rails does.
//!
//! - **AES-256-GCM** (`load_defaults 5.2` and later): key = PBKDF2(secret, "authenticated
//!   encrypted cookie", 1000 rounds, 32 bytes), value `base64(ct)--base64(iv)--base64(tag)`.
//! - **AES-256-CBC + HMAC** (apps that never called `load_defaults 5.2`): key =
//!   PBKDF2(secret, "encrypted cookie", 32 bytes), MAC key = PBKDF2(secret, "signed
//!   encrypted cookie", 64 bytes); value `base64(base64(ct)--base64(iv))--hex(HMAC-SHA1)`.
//! - **Signed** cookies: MAC key = PBKDF2(secret, "signed cookie", 64 bytes); value
//!   `base64(data)--hex(HMAC-SHA1)`.
//!
//! PBKDF2 runs with HMAC-SHA1 (Rails before `load_defaults 7.0`) or HMAC-SHA256 (7.0 on):
//! both are tried. The plaintext is the serialized session (JSON or Marshal; MessagePack
//! from Rails 7.1), bare or inside the `_rails` envelope whose purpose is
//! `cookie.<full name>` (`message` in base64 before Rails 7.1, `data` inline from 7.1).
//! Source: actionpack/lib/action_dispatch/middleware/cookies.rb and
//! activesupport/lib/active_support/{message_encryptor,message_verifier,messages/metadata}.rb.

use aes::cipher::{
    BlockModeDecrypt as _, BlockModeEncrypt as _, KeyIvInit as _, block_padding::Pkcs7,
};
use aes_gcm::aead::AeadInOut as _;
use aes_gcm::{Aes256Gcm, KeyInit as _};
use base64::Engine as _;
use hmac::Mac as _;
use serde_json::Value;

use super::marshal;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const GCM_SALT: &[u8] = b"authenticated encrypted cookie";
const CBC_SALT: &[u8] = b"encrypted cookie";
const CBC_SIGN_SALT: &[u8] = b"signed encrypted cookie";
const SIGNED_SALT: &[u8] = b"signed cookie";
const ITERATIONS: u32 = 1000;

/// The hash PBKDF2 runs with when Rails derives a key from `secret_key_base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha1,
}

const BOTH: [Digest; 2] = [Digest::Sha256, Digest::Sha1];

/// Derived keys by (secret, salt, digest, length): Rails derives once per process too
/// (`ActiveSupport::CachingKeyGenerator`), and both the reference target (every request's
/// cookie) and the secret check (every known secret) would otherwise run PBKDF2 again
/// and again.
type KeyCache = std::collections::HashMap<(String, &'static [u8], bool, usize), Vec<u8>>;
static KEYS: std::sync::Mutex<Option<KeyCache>> = std::sync::Mutex::new(None);

fn derive<const N: usize>(secret: &str, salt: &'static [u8], digest: Digest) -> [u8; N] {
    let key = (secret.to_string(), salt, digest == Digest::Sha256, N);
    if let Some(k) = KEYS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|c| c.get(&key))
        .and_then(|v| <[u8; N]>::try_from(v.as_slice()).ok())
    {
        return k;
    }
    let derived = match digest {
        Digest::Sha256 => {
            pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, N>(secret.as_bytes(), salt, ITERATIONS)
        }
        Digest::Sha1 => {
            pbkdf2::pbkdf2_hmac_array::<sha1::Sha1, N>(secret.as_bytes(), salt, ITERATIONS)
        }
    };
    let mut cache = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(Default::default);
    // Bounded: each reference target start brings a secret of its own.
    if cache.len() >= 1024 {
        cache.clear();
    }
    cache.insert(key, derived.to_vec());
    derived
}

/// The AES-256-GCM key Rails derives from `secret` for encrypted cookies.
pub fn encryption_key(secret: &str, digest: Digest) -> [u8; 32] {
    derive(secret, GCM_SALT, digest)
}

/// The key Rails derives for signed cookies (PBKDF2-SHA256, `load_defaults 7.0`).
pub fn signing_key(secret: &str) -> [u8; 64] {
    derive(secret, SIGNED_SALT, Digest::Sha256)
}

/// The shape of a cookie value, read without any secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    Gcm,
    CbcHmac,
    Signed,
    /// None of Rails' shapes; the text says what was seen (never the value).
    Other(String),
}

impl Shape {
    pub fn name(&self) -> &str {
        match self {
            Shape::Gcm => "AES-256-GCM",
            Shape::CbcHmac => "AES-256-CBC with HMAC",
            Shape::Signed => "signed",
            Shape::Other(s) => s,
        }
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What Rails format `value` (URL-decoded) is in.
pub fn shape(value: &str) -> Shape {
    let parts: Vec<&str> = value.split("--").collect();
    let decoded: Vec<Option<Vec<u8>>> = parts.iter().map(|p| B64.decode(p).ok()).collect();
    match (parts.as_slice(), decoded.as_slice()) {
        (_, [Some(_), Some(iv), Some(tag)]) if iv.len() == 12 && tag.len() == 16 => Shape::Gcm,
        ([_, mac], [Some(blob), _]) if is_hex(mac) && matches!(mac.len(), 40 | 64) => {
            let inner = String::from_utf8_lossy(blob);
            let inner: Vec<&str> = inner.split("--").collect();
            match inner.as_slice() {
                [ct, iv]
                    if B64.decode(ct).is_ok() && B64.decode(iv).is_ok_and(|iv| iv.len() == 16) =>
                {
                    Shape::CbcHmac
                }
                _ => Shape::Signed,
            }
        }
        _ => Shape::Other(format!(
            "not a Rails cookie: {} part{} joined by `--`, {} characters",
            parts.len(),
            if parts.len() == 1 { "" } else { "s" },
            value.len()
        )),
    }
}

/// What a sealed or signed cookie held, once a secret opened or verified it.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub shape: Shape,
    pub digest: Digest,
    /// `pur` of the `_rails` envelope, if there is one.
    pub purpose: Option<String>,
    /// The session (or value) as JSON, or why the payload could not be read.
    pub payload: Result<Value, String>,
}

impl Opened {
    /// Whether the envelope names this cookie (Rails uses the full name, `__Host-` included).
    /// Either side may carry the prefix: callers that know only the bare name pass it.
    pub fn purpose_fits(&self, name: &str) -> bool {
        let bare = |n: &str| {
            n.strip_prefix("__Host-")
                .or_else(|| n.strip_prefix("__Secure-"))
                .unwrap_or(n)
                .to_string()
        };
        self.purpose.as_deref().is_none_or(|p| {
            p.strip_prefix("cookie.")
                .is_some_and(|named| bare(named) == bare(name))
        })
    }
}

/// The serialized value inside an (optional) `_rails` envelope: (purpose, payload).
fn unwrap(plain: &[u8]) -> (Option<String>, Result<Value, String>) {
    if let Ok(env) = serde_json::from_slice::<Value>(plain)
        && let Some(rails) = env.get("_rails")
    {
        let purpose = rails.get("pur").and_then(Value::as_str).map(str::to_string);
        // Rails 7.1 (`use_message_serializer_for_metadata`): the value inline.
        if let Some(data) = rails.get("data") {
            return (purpose, Ok(data.clone()));
        }
        let message = rails
            .get("message")
            .and_then(Value::as_str)
            .and_then(|m| B64.decode(m).ok());
        return match message {
            Some(m) => (purpose, deserialize(&m)),
            None => (
                purpose,
                Err("a _rails envelope without a readable message".into()),
            ),
        };
    }
    // Marshal's own envelope (Rails 7.1 with the Marshal serializer) is a Ruby hash.
    match deserialize(plain) {
        Ok(Value::Object(o)) if o.contains_key("_rails") => {
            let rails = &o["_rails"];
            let purpose = rails.get("pur").and_then(Value::as_str).map(str::to_string);
            (
                purpose,
                Ok(rails.get("data").cloned().unwrap_or(Value::Null)),
            )
        }
        other => (None, other),
    }
}

/// A serialized value: JSON or Marshal; anything else is named, not guessed.
fn deserialize(bytes: &[u8]) -> Result<Value, String> {
    if bytes.starts_with(&[4, 8]) {
        return marshal::read(bytes)
            .map_err(|e| format!("a Marshal payload that is not read: {}", e.0));
    }
    serde_json::from_slice(bytes).map_err(|_| {
        format!(
            "a payload of {} bytes in no serialization read here (MessagePack, perhaps: first byte 0x{:02x})",
            bytes.len(),
            bytes.first().copied().unwrap_or(0)
        )
    })
}

fn hmac_hex(key: &[u8], data: &[u8], sha256: bool) -> String {
    let bytes: Vec<u8> = if sha256 {
        let mut m =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    } else {
        let mut m =
            hmac::Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `data--mac` verified with a key derived from `salt`; the digest that verified it.
fn verify_mac(secret: &str, salt: &'static [u8], value: &str) -> Option<(Digest, String)> {
    let (data, mac) = value.rsplit_once("--")?;
    BOTH.into_iter().find_map(|d| {
        let key: [u8; 64] = derive(secret, salt, d);
        (hmac_hex(&key, data.as_bytes(), mac.len() == 64).eq_ignore_ascii_case(mac))
            .then(|| (d, data.to_string()))
    })
}

/// Opens or verifies `value` (URL-decoded) with `secret`, in whatever Rails format it is.
pub fn open_any(secret: &str, value: &str) -> Option<Opened> {
    match shape(value) {
        Shape::Gcm => {
            let parts: Vec<Vec<u8>> = value
                .split("--")
                .map(|p| B64.decode(p).ok())
                .collect::<Option<_>>()?;
            let [ct, iv, tag] = parts.as_slice() else {
                return None;
            };
            let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::try_from(iv.as_slice()).ok()?;
            let tag = aes_gcm::aead::Tag::<Aes256Gcm>::try_from(tag.as_slice()).ok()?;
            BOTH.into_iter().find_map(|digest| {
                let cipher = Aes256Gcm::new(&encryption_key(secret, digest).into());
                let mut buf = ct.clone();
                cipher
                    .decrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into(), &tag)
                    .ok()?;
                let (purpose, payload) = unwrap(&buf);
                Some(Opened {
                    shape: Shape::Gcm,
                    digest,
                    purpose,
                    payload,
                })
            })
        }
        Shape::CbcHmac => {
            let (digest, blob) = verify_mac(secret, CBC_SIGN_SALT, value)?;
            let blob = String::from_utf8(B64.decode(blob).ok()?).ok()?;
            let (ct, iv) = blob.split_once("--")?;
            let (ct, iv) = (B64.decode(ct).ok()?, B64.decode(iv).ok()?);
            let key: [u8; 32] = derive(secret, CBC_SALT, digest);
            let payload = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
                .ok()
                .and_then(|d| d.decrypt_padded_vec::<Pkcs7>(&ct).ok());
            let (purpose, payload) = match payload {
                Some(plain) => unwrap(&plain),
                // The MAC verified: the secret is proven even if the cipher text is not readable.
                None => (
                    None,
                    Err("the MAC verifies but the cipher text does not decrypt".into()),
                ),
            };
            Some(Opened {
                shape: Shape::CbcHmac,
                digest,
                purpose,
                payload,
            })
        }
        Shape::Signed => {
            let (digest, data) = verify_mac(secret, SIGNED_SALT, value)?;
            let (purpose, payload) = match B64.decode(&data) {
                Ok(d) => unwrap(&d),
                Err(_) => (None, Err("the signed data is not base64".into())),
            };
            Some(Opened {
                shape: Shape::Signed,
                digest,
                purpose,
                payload,
            })
        }
        Shape::Other(_) => None,
    }
}

/// The session JSON in an encrypted cookie named `name`, if `secret` opens it, the
/// envelope names the cookie and the payload can be read.
pub fn open(secret: &str, name: &str, value: &str) -> Option<(String, Digest)> {
    let o = open_any(secret, value).filter(|o| o.shape != Shape::Signed)?;
    if !o.purpose_fits(name) {
        return None;
    }
    Some((o.payload.ok()?.to_string(), o.digest))
}

/// Rails' metadata envelope, keys in Rails' order (message, exp, pur): the bytes are signed.
fn envelope(message_json: &str, cookie_name: &str) -> String {
    format!(
        r#"{{"_rails":{{"message":{},"exp":null,"pur":{}}}}}"#,
        Value::String(B64.encode(message_json)),
        Value::String(format!("cookie.{cookie_name}"))
    )
}

/// Seals `session_json` as Rails 5.2+ writes cookie `name` (AES-256-GCM, not URL-encoded).
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

/// Seals `session_json` as an app without `load_defaults 5.2` does: AES-256-CBC, then an
/// HMAC-SHA1 over the base64 blob, keys by PBKDF2-SHA1, the JSON bare (no envelope).
pub fn seal_cbc(secret: &str, session_json: &str, iv: [u8; 16]) -> String {
    let key: [u8; 32] = derive(secret, CBC_SALT, Digest::Sha1);
    let ct = match cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv) {
        Ok(e) => e.encrypt_padded_vec::<Pkcs7>(session_json.as_bytes()),
        Err(_) => return String::new(),
    };
    let blob = B64.encode(format!("{}--{}", B64.encode(ct), B64.encode(iv)));
    let mac_key: [u8; 64] = derive(secret, CBC_SIGN_SALT, Digest::Sha1);
    format!("{blob}--{}", hmac_hex(&mac_key, blob.as_bytes(), false))
}

/// Signs `value_json` as Rails writes signed cookie `name` (HMAC-SHA1, PBKDF2-SHA256 key).
pub fn sign(secret: &str, name: &str, value_json: &str) -> String {
    let data = B64.encode(envelope(value_json, name));
    let digest = hmac_hex(&signing_key(secret), data.as_bytes(), false);
    format!("{data}--{digest}")
}

/// Whether a signed cookie value verifies with `secret`, by either key derivation.
pub fn verify_signed(secret: &str, value: &str) -> bool {
    verify_mac(secret, SIGNED_SALT, value).is_some()
}
