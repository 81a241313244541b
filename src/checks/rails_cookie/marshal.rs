//! Just enough of Ruby's Marshal format (4.8) to read a Rails session out of a legacy
//! cookie: nil, booleans, integers, floats, strings, symbols, arrays and hashes, with
//! their links, and user classes around them (HashWithIndifferentAccess). Anything else
//! is an error, never constructed: a Marshal payload is data here, and nothing in it
//! runs.

use serde_json::{Map, Number, Value};

/// Why a payload could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// The payload as JSON (symbols and strings become strings), or why it cannot be read.
pub fn read(bytes: &[u8]) -> Result<Value, Unreadable> {
    if bytes.get(..2) != Some(&[4, 8]) {
        return Err(Unreadable("not Marshal 4.8 (it starts with 04 08)".into()));
    }
    let mut r = Reader {
        b: bytes,
        at: 2,
        symbols: Vec::new(),
        objects: Vec::new(),
        depth: 0,
    };
    r.value()
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    symbols: Vec<String>,
    objects: Vec<Value>,
    depth: usize,
}

/// Nesting beyond this is not a session; it stops a hostile payload from overflowing.
const MAX_DEPTH: usize = 64;

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Unreadable> {
        let b = *self
            .b
            .get(self.at)
            .ok_or_else(|| Unreadable("it ends early".into()))?;
        self.at += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8], Unreadable> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| Unreadable("it ends early".into()))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// Marshal's packed integer.
    fn int(&mut self) -> Result<i64, Unreadable> {
        let c = self.byte()? as i8;
        Ok(match c {
            0 => 0,
            5..=127 => i64::from(c) - 5,
            -128..=-5 => i64::from(c) + 5,
            1..=4 => {
                let mut n: i64 = 0;
                for i in 0..c {
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
            -4..=-1 => {
                let mut n: i64 = -1;
                for i in 0..(-c) {
                    n &= !(0xff << (8 * i));
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
        })
    }

    fn len(&mut self) -> Result<usize, Unreadable> {
        usize::try_from(self.int()?).map_err(|_| Unreadable("a negative length".into()))
    }

    fn symbol(&mut self) -> Result<String, Unreadable> {
        match self.byte()? {
            b':' => {
                let n = self.len()?;
                let s = String::from_utf8_lossy(self.bytes(n)?).into_owned();
                self.symbols.push(s.clone());
                Ok(s)
            }
            b';' => {
                let i = self.len()?;
                self.symbols
                    .get(i)
                    .cloned()
                    .ok_or_else(|| Unreadable("a symbol link to nothing".into()))
            }
            t => Err(Unreadable(format!(
                "a symbol expected, found type {:?}",
                t as char
            ))),
        }
    }

    fn value(&mut self) -> Result<Value, Unreadable> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unreadable("nested too deep".into()));
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    /// Reserves a place in the object table (links count objects as they start).
    fn reserve(&mut self) -> usize {
        self.objects.push(Value::Null);
        self.objects.len() - 1
    }

    fn value_inner(&mut self) -> Result<Value, Unreadable> {
        let t = self.byte()?;
        Ok(match t {
            b'0' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' => Value::Number(self.int()?.into()),
            b':' | b';' => {
                self.at -= 1;
                Value::String(self.symbol()?)
            }
            b'"' => {
                let slot = self.reserve();
                let n = self.len()?;
                let s = Value::String(String::from_utf8_lossy(self.bytes(n)?).into_owned());
                self.objects[slot] = s.clone();
                s
            }
            b'f' => {
                let slot = self.reserve();
                let n = self.len()?;
                let text = String::from_utf8_lossy(self.bytes(n)?).into_owned();
                let v = text
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map_or(Value::String(text), Value::Number);
                self.objects[slot] = v.clone();
                v
            }
            b'l' => {
                let slot = self.reserve();
                let sign = self.byte()?;
                let words = self.len()?;
                let digits = self.bytes(words.saturating_mul(2))?;
                let hex: String = digits.iter().rev().map(|b| format!("{b:02x}")).collect();
                let v = Value::String(format!("{}0x{hex}", if sign == b'-' { "-" } else { "" }));
                self.objects[slot] = v.clone();
                v
            }
            // An object with instance variables (a string's encoding): the object, then pairs.
            b'I' => {
                let v = self.value()?;
                let n = self.len()?;
                for _ in 0..n {
                    self.symbol()?;
                    self.value()?;
                }
                v
            }
            b'[' => {
                let slot = self.reserve();
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                self.objects[slot] = Value::Array(items.clone());
                Value::Array(items)
            }
            b'{' | b'}' => {
                let slot = self.reserve();
                let n = self.len()?;
                let mut map = Map::new();
                for _ in 0..n {
                    let k = match self.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let v = self.value()?;
                    map.insert(k, v);
                }
                if t == b'}' {
                    self.value()?;
                }
                self.objects[slot] = Value::Object(map.clone());
                Value::Object(map)
            }
            // A subclass of String, Array or Hash (HashWithIndifferentAccess): its contents.
            b'C' => {
                self.symbol()?;
                self.value()?
            }
            b'@' => {
                let i = self.len()?;
                self.objects
                    .get(i)
                    .cloned()
                    .ok_or_else(|| Unreadable("an object link to nothing".into()))?
            }
            b'o' | b'u' | b'U' | b'S' | b'c' | b'm' | b'M' | b'e' | b'd' | b'/' => {
                return Err(Unreadable(format!(
                    "it holds a Ruby object of type {:?}, which is not read (only data is)",
                    t as char
                )));
            }
            other => return Err(Unreadable(format!("unknown type byte 0x{other:02x}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ruby: Marshal.dump({"session_id"=>"ab", "warden.user.user.key"=>[[7], "$2a"], "n"=>300, "neg"=>-2, "f"=>1.5, "nil"=>nil})
    const DUMP: &[u8] = b"\x04\x08{\x0bI\x22\x0fsession_id\x06:\x06ETI\x22\x07ab\x06;\x00TI\x22\x19warden.user.user.key\x06;\x00T[\x07[\x06i\x0cI\x22\x08$2a\x06;\x00TI\x22\x06n\x06;\x00Ti\x02,\x01I\x22\x08neg\x06;\x00Ti\xf9I\x22\x06f\x06;\x00Tf\x081.5I\x22\x08nil\x06;\x00T0";

    #[test]
    fn reads_a_session_hash() {
        let v = read(DUMP).expect("readable");
        assert_eq!(v["session_id"], "ab");
        assert_eq!(v["warden.user.user.key"][0][0], 7);
        assert_eq!(v["n"], 300);
        assert_eq!(v["neg"], -2);
        assert_eq!(v["f"], 1.5);
        assert!(v["nil"].is_null());
    }

    #[test]
    fn objects_are_refused_and_truncation_is_an_error() {
        assert!(read(b"\x04\x08o:\x0bObject\x00").is_err());
        assert!(read(&DUMP[..20]).is_err());
        assert!(read(b"{}").is_err());
        let deep: Vec<u8> = [4u8, 8]
            .into_iter()
            .chain(std::iter::repeat_n(b'[', 200))
            .collect();
        assert!(read(&deep).is_err());
    }
}
