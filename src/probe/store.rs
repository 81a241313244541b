//! Session-store probes: does Redis, PostgreSQL or MongoDB answer a client that
//! brings no credentials? Each speaks just enough of the wire protocol to get the
//! server's own answer, which is read, never inferred from an exit status.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use super::ProbeError;

const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Postgres,
    Mongo,
}

/// One configured store: its protocol and address (credentials in the URL are ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub kind: Kind,
    pub host: String,
    pub port: u16,
    /// PostgreSQL: the role to present (default `postgres`).
    pub user: String,
}

impl Store {
    pub fn parse(s: &str) -> Result<Self, String> {
        let url = Url::parse(s.trim()).map_err(|e| {
            format!("`{}` is not a store URL ({e}); use redis://host:6379, postgres://host:5432 or mongodb://host:27017", redact(s))
        })?;
        let (kind, default_port) = match url.scheme() {
            "redis" | "rediss" => (Kind::Redis, 6379),
            "postgres" | "postgresql" => (Kind::Postgres, 5432),
            "mongodb" => (Kind::Mongo, 27017),
            other => {
                return Err(format!(
                    "unknown store scheme `{other}:`; use redis://, postgres:// or mongodb://"
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| format!("no host in store URL `{}`", redact(s)))?
            .trim_matches(['[', ']'])
            .to_string();
        let user = match url.username() {
            "" => "postgres".to_string(),
            u => u.to_string(),
        };
        Ok(Self {
            kind,
            host,
            port: url.port().unwrap_or(default_port),
            user,
        })
    }

    pub fn label(&self) -> String {
        let scheme = match self.kind {
            Kind::Redis => "redis",
            Kind::Postgres => "postgres",
            Kind::Mongo => "mongodb",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    async fn connect(&self) -> Result<TcpStream, ProbeError> {
        super::tcp::connect(&self.host, self.port, TIMEOUT).await
    }
}

/// The URL as given, with any password replaced.
fn redact(s: &str) -> String {
    match Url::parse(s.trim()) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => s.chars().take(40).collect(),
    }
}

/// What the store told a client without credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It served the request: anyone who reaches it can read the sessions.
    Open(String),
    /// It refused with its protocol's own demand for credentials.
    Refused(String),
}

/// Asks the store for something only an authenticated client should get.
pub async fn probe(store: &Store) -> Result<Answer, ProbeError> {
    let mut tcp = store.connect().await?;
    let other = |detail: String| ProbeError::Other {
        url: store.label(),
        detail,
    };
    let exchange = async {
        match store.kind {
            Kind::Redis => {
                tcp.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
                let mut buf = vec![0u8; 512];
                let n = tcp.read(&mut buf).await?;
                Ok::<_, std::io::Error>(redis_answer(&String::from_utf8_lossy(&buf[..n])))
            }
            Kind::Postgres => {
                tcp.write_all(&pg_startup(&store.user)).await?;
                let mut buf = vec![0u8; 4096];
                let n = tcp.read(&mut buf).await?;
                Ok(pg_answer(&buf[..n]))
            }
            Kind::Mongo => {
                tcp.write_all(&op_msg(
                    1,
                    &bson_doc(&[("listDatabases", Bson::Int(1)), ("$db", Bson::Str("admin"))]),
                ))
                .await?;
                let reply = read_op_msg(&mut tcp).await?;
                Ok(mongo_answer(&reply))
            }
        }
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(Ok(Ok(a))) => Ok(a),
        Ok(Ok(Err(unknown))) => Err(other(unknown)),
        Ok(Err(e)) => Err(other(e.to_string())),
        Err(_) => Err(ProbeError::Timeout {
            url: store.label(),
            secs: TIMEOUT.as_secs(),
        }),
    }
}

/// Redis answers PING with `+PONG` when open; `-NOAUTH` when a password is required.
/// `-DENIED` is protected mode, which Redis enters because *no* password is set: it turns
/// away clients from other hosts only, and every process on its own host reads the
/// sessions. (redis-cli exits 0 either way: only the reply says which.)
pub fn redis_answer(reply: &str) -> Result<Answer, String> {
    let line = reply.lines().next().unwrap_or_default();
    if line.starts_with("+PONG") {
        Ok(Answer::Open("PING → +PONG".into()))
    } else if line.starts_with("-DENIED") {
        Ok(Answer::Open(format!(
            "PING → {:.60}…: protected mode, which Redis enters because no password is set; it \
             turns away other hosts only, so anything on the store's own host reads the sessions",
            line
        )))
    } else if line.starts_with("-NOAUTH") || line.starts_with("-WRONGPASS") {
        Ok(Answer::Refused(format!("PING → {line}")))
    } else if line.is_empty() {
        Err("the server closed the connection without answering PING; is this Redis?".into())
    } else {
        Err(format!("unexpected answer to PING: {line:.80}"))
    }
}

fn pg_startup(user: &str) -> Vec<u8> {
    let mut body = 196_608u32.to_be_bytes().to_vec(); // protocol 3.0
    for (k, v) in [("user", user), ("database", "postgres")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    msg
}

/// PostgreSQL answers a startup with AuthenticationOk (no password: open), a password or
/// SASL request (refused until one is given), or an error naming why.
pub fn pg_answer(reply: &[u8]) -> Result<Answer, String> {
    match reply {
        [b'R', _, _, _, _, a, b, c, d, ..] => match u32::from_be_bytes([*a, *b, *c, *d]) {
            0 => Ok(Answer::Open(
                "startup without a password → AuthenticationOk".into(),
            )),
            3 => Ok(Answer::Refused(
                "startup → AuthenticationCleartextPassword".into(),
            )),
            5 => Ok(Answer::Refused(
                "startup → AuthenticationMD5Password".into(),
            )),
            10 => Ok(Answer::Refused(
                "startup → AuthenticationSASL (SCRAM)".into(),
            )),
            n => Err(format!("unexpected authentication request {n}")),
        },
        [b'E', _, _, _, _, fields @ ..] => {
            let field = |tag: u8| {
                fields
                    .split(|b| *b == 0)
                    .find(|f| f.first() == Some(&tag))
                    .map(|f| String::from_utf8_lossy(&f[1..]).to_string())
                    .unwrap_or_default()
            };
            let (code, message) = (field(b'C'), field(b'M'));
            // 28000 from pg_hba (no entry, reject) and 28P01 are refusals; a missing role
            // under `trust` is not: no password was asked for.
            if code == "28P01" || (code == "28000" && message.contains("pg_hba.conf")) {
                Ok(Answer::Refused(format!("startup → {code} {message}")))
            } else {
                Err(format!("startup → error {code} {message}"))
            }
        }
        [] => Err("the server closed the connection; is this PostgreSQL?".into()),
        _ => Err("unexpected answer to a startup message; is this PostgreSQL?".into()),
    }
}

/// A BSON value of the few kinds these probes use.
#[derive(Clone, Debug, PartialEq)]
pub enum Bson<'a> {
    Int(i32),
    Double(f64),
    Str(&'a str),
    Bool(bool),
}

/// Encodes a flat BSON document.
pub fn bson_doc(fields: &[(&str, Bson<'_>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        let (tag, bytes): (u8, Vec<u8>) = match v {
            Bson::Double(d) => (0x01, d.to_le_bytes().to_vec()),
            Bson::Str(s) => {
                let mut b = ((s.len() + 1) as i32).to_le_bytes().to_vec();
                b.extend_from_slice(s.as_bytes());
                b.push(0);
                (0x02, b)
            }
            Bson::Bool(x) => (0x08, vec![u8::from(*x)]),
            Bson::Int(i) => (0x10, i.to_le_bytes().to_vec()),
        };
        body.push(tag);
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(&bytes);
    }
    body.push(0);
    let mut doc = ((body.len() + 4) as i32).to_le_bytes().to_vec();
    doc.extend_from_slice(&body);
    doc
}

/// The top-level fields of a BSON document; nested documents are skipped.
pub fn bson_fields(doc: &[u8]) -> Vec<(String, Bson<'_>)> {
    let mut out = Vec::new();
    let mut i = 4;
    while i < doc.len() {
        let tag = doc[i];
        if tag == 0 {
            break;
        }
        let Some(end) = doc[i + 1..].iter().position(|b| *b == 0) else {
            break;
        };
        let name = String::from_utf8_lossy(&doc[i + 1..i + 1 + end]).to_string();
        let at = i + 2 + end;
        let le32 = |p: usize| {
            doc.get(p..p + 4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let (value, size) = match tag {
            0x01 => (
                doc.get(at..at + 8)
                    .map(|b| Bson::Double(f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))),
                8,
            ),
            0x02 => {
                let Some(len) = le32(at) else { break };
                (
                    doc.get(at + 4..at + 3 + len)
                        .map(|b| Bson::Str(std::str::from_utf8(b).unwrap_or(""))),
                    4 + len,
                )
            }
            0x03 | 0x04 => (None, le32(at).unwrap_or(doc.len())),
            0x05 => (None, 5 + le32(at).unwrap_or(doc.len())),
            0x07 => (None, 12),
            0x08 => (doc.get(at).map(|b| Bson::Bool(*b != 0)), 1),
            0x09 | 0x11 | 0x12 => (None, 8),
            0x0A => (None, 0),
            0x10 => (le32(at).map(|v| Bson::Int(v as i32)), 4),
            _ => break,
        };
        if let Some(v) = value {
            out.push((name, v));
        }
        i = at + size;
    }
    out
}

/// An OP_MSG (opcode 2013) with one body section.
pub fn op_msg(request_id: i32, doc: &[u8]) -> Vec<u8> {
    op_msg_reply(request_id, 0, doc)
}

pub fn op_msg_reply(request_id: i32, response_to: i32, doc: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + 1 + doc.len();
    let mut m = Vec::with_capacity(len);
    for v in [len as i32, request_id, response_to, 2013] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    m.extend_from_slice(&0u32.to_le_bytes());
    m.push(0);
    m.extend_from_slice(doc);
    m
}

/// Reads one OP_MSG and returns its body document.
pub async fn read_op_msg<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 16];
    r.read_exact(&mut header).await?;
    let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let opcode = i32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    if !(21..=48_000_000).contains(&len) || opcode != 2013 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an OP_MSG (opcode {opcode}, {len} bytes); is this MongoDB?"),
        ));
    }
    let mut rest = vec![0u8; len - 16];
    r.read_exact(&mut rest).await?;
    // flagBits (4), section kind 0 (1), then the document.
    Ok(rest.get(5..).unwrap_or_default().to_vec())
}

/// MongoDB answers `listDatabases` with `ok: 1` when open, or `ok: 0` and code 13
/// (Unauthorized) when credentials are required.
pub fn mongo_answer(doc: &[u8]) -> Result<Answer, String> {
    let fields = bson_fields(doc);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let ok = match get("ok") {
        Some(Bson::Double(d)) => d == 1.0,
        Some(Bson::Int(i)) => i == 1,
        Some(Bson::Bool(b)) => b,
        _ => return Err("the reply has no `ok` field; is this MongoDB?".into()),
    };
    if ok {
        return Ok(Answer::Open(
            "listDatabases without credentials → ok: 1".into(),
        ));
    }
    let code = match get("code") {
        Some(Bson::Int(c)) => c,
        _ => 0,
    };
    let msg = match get("errmsg") {
        Some(Bson::Str(s)) => s.to_string(),
        _ => String::new(),
    };
    if code == 13 {
        Ok(Answer::Refused(format!(
            "listDatabases without credentials → code 13 (Unauthorized): {msg}"
        )))
    } else {
        Err(format!("listDatabases → ok: 0, code {code}: {msg}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        let s = Store::parse("redis://:pw@cache.example:6380/0").unwrap();
        assert_eq!((s.kind, s.port), (Kind::Redis, 6380));
        assert_eq!(s.label(), "redis://cache.example:6380");
        assert_eq!(Store::parse("postgres://db").unwrap().user, "postgres");
        assert_eq!(Store::parse("mongodb://m").unwrap().port, 27017);
        assert!(
            Store::parse("http://x")
                .unwrap_err()
                .contains("unknown store scheme")
        );
        assert!(Store::parse("nonsense").is_err());
    }

    #[test]
    fn replies_are_read_not_inferred() {
        assert!(matches!(redis_answer("+PONG\r\n"), Ok(Answer::Open(_))));
        assert!(matches!(
            redis_answer("-NOAUTH Authentication required.\r\n"),
            Ok(Answer::Refused(_))
        ));
        assert!(redis_answer("HTTP/1.1 400").is_err());
        // Protected mode means no password is set: not a refusal.
        assert!(matches!(
            redis_answer("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n"),
            Ok(Answer::Open(m)) if m.contains("no password is set")
        ));
        assert!(matches!(
            pg_answer(&[b'R', 0, 0, 0, 8, 0, 0, 0, 0]),
            Ok(Answer::Open(_))
        ));
        assert!(matches!(
            pg_answer(&[b'R', 0, 0, 0, 8, 0, 0, 0, 10]),
            Ok(Answer::Refused(_))
        ));
        let ok = bson_doc(&[("ok", Bson::Double(1.0))]);
        assert!(matches!(mongo_answer(&ok), Ok(Answer::Open(_))));
        let no = bson_doc(&[
            ("ok", Bson::Double(0.0)),
            (
                "errmsg",
                Bson::Str("command listDatabases requires authentication"),
            ),
            ("code", Bson::Int(13)),
            ("codeName", Bson::Str("Unauthorized")),
        ]);
        match mongo_answer(&no) {
            Ok(Answer::Refused(m)) => assert!(m.contains("requires authentication"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
