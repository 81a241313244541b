//! TLS probes: which protocol versions a server accepts, and the certificate chain it
//! presents. rustls cannot speak TLS 1.0 or 1.1, so those are probed with a ClientHello
//! written here and judged on the server's first record; TLS 1.2 and 1.3 are real
//! rustls handshakes (the positive control).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use super::ProbeError;

const TIMEOUT: Duration = Duration::from_secs(8);

/// A TLS endpoint: the name to send as SNI and where to connect.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn of(url: &Url) -> Option<Self> {
        Some(Self {
            host: url.host_str()?.trim_matches(['[', ']']).to_string(),
            port: url.port_or_known_default()?,
        })
    }

    pub fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    async fn connect(&self) -> Result<TcpStream, ProbeError> {
        super::tcp::connect(&self.host, self.port, TIMEOUT).await
    }
}

/// A legacy protocol version this module can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legacy {
    Tls10,
    Tls11,
}

impl Legacy {
    pub const ALL: [Legacy; 2] = [Legacy::Tls10, Legacy::Tls11];

    pub fn wire(self) -> u16 {
        match self {
            Legacy::Tls10 => 0x0301,
            Legacy::Tls11 => 0x0302,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Legacy::Tls10 => "TLS 1.0",
            Legacy::Tls11 => "TLS 1.1",
        }
    }
}

/// TLS 1.0-era suites: ECDHE with RSA or ECDSA, RSA key exchange, DHE, CBC with SHA-1.
const SUITES: &[u16] = &[
    0xc00a, 0xc009, 0xc014, 0xc013, 0x0039, 0x0033, 0x0035, 0x002f, 0x000a,
];
/// The wider offer after a "no shared cipher": RC4, 3DES and Camellia variants, and
/// TLS 1.2's AEAD suites, so a server that only knows those answers about the version
/// (alert 70) instead of the suites.
const WIDER: &[u16] = &[
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0x009c, 0x009d, 0xc008, 0xc012,
    0xc007, 0xc011, 0x0016, 0x0088, 0x0045, 0x0084, 0x0041, 0x0005, 0x0004, 0x0038, 0x0032, 0x0013,
    0x009a, 0x0099, 0x0096,
];
/// Renegotiation SCSV (RFC 5746), as real clients of the era send.
const SCSV: u16 = 0x00ff;

/// A ClientHello offering exactly `version` (no supported_versions extension).
pub fn client_hello(version: u16, host: &str, wide: bool) -> Vec<u8> {
    let mut suites: Vec<u16> = SUITES.to_vec();
    if wide {
        suites.extend_from_slice(WIDER);
    }
    suites.push(SCSV);
    let mut ext = Vec::new();
    // server_name, unless the host is an address (RFC 6066 forbids literal IPs).
    if host.parse::<std::net::IpAddr>().is_err() {
        let name = host.as_bytes();
        let mut list = vec![0u8];
        put16(&mut list, name.len());
        list.extend_from_slice(name);
        let mut sni = Vec::new();
        put16(&mut sni, list.len());
        sni.extend_from_slice(&list);
        extension(&mut ext, 0x0000, &sni);
    }
    // supported_groups: x25519, secp256r1, secp384r1, secp521r1.
    let groups: [u16; 4] = [0x001d, 0x0017, 0x0018, 0x0019];
    let mut g = Vec::new();
    put16(&mut g, groups.len() * 2);
    for x in groups {
        put16(&mut g, x as usize);
    }
    extension(&mut ext, 0x000a, &g);
    // ec_point_formats: uncompressed.
    extension(&mut ext, 0x000b, &[1, 0]);
    if wide {
        // signature_algorithms: TLS 1.0 servers ignore it, but a TLS 1.2-only server
        // without it answers "handshake failure" instead of naming the version.
        let schemes: [u16; 6] = [0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0201];
        let mut sa = Vec::new();
        put16(&mut sa, schemes.len() * 2);
        for x in schemes {
            put16(&mut sa, x as usize);
        }
        extension(&mut ext, 0x000d, &sa);
    }
    let mut body = Vec::new();
    put16(&mut body, version as usize);
    let mut random = [0u8; 32];
    rand::fill(&mut random[..]);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    put16(&mut body, suites.len() * 2);
    for s in &suites {
        put16(&mut body, *s as usize);
    }
    body.extend_from_slice(&[1, 0]); // null compression only
    put16(&mut body, ext.len());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    put16(&mut record, hs.len());
    record.extend_from_slice(&hs);
    record
}

fn put16(buf: &mut Vec<u8>, v: usize) {
    buf.extend_from_slice(&(v as u16).to_be_bytes());
}

fn extension(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put16(buf, kind as usize);
    put16(buf, data.len());
    buf.extend_from_slice(data);
}

/// How a server answered a legacy ClientHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello for this version (or an older one) with this cipher suite.
    Accepted { version: u16, suite: u16 },
    /// protocol_version alert or the connection closed: the version is not spoken.
    Refused(String),
    /// No shared cipher or an internal error: says nothing about the version.
    Inconclusive(String),
}

/// Reads the server's first record after a ClientHello offering `offered`.
pub fn read_answer(offered: u16, record: &[u8]) -> Answer {
    match record {
        [] => Answer::Refused("the server closed the connection".into()),
        [0x15, _, _, _, _, _level, desc, ..] => match desc {
            70 => Answer::Refused("alert 70 (protocol_version)".into()),
            40 => Answer::Inconclusive("alert 40 (handshake_failure: no shared cipher)".into()),
            80 => Answer::Inconclusive("alert 80 (internal_error)".into()),
            d => Answer::Inconclusive(format!("alert {d}")),
        },
        [0x16, _, _, _, _, 0x02, _, _, _, v1, v2, rest @ ..] => {
            let version = u16::from_be_bytes([*v1, *v2]);
            // random (32), session id (length-prefixed), then the suite.
            let suite = rest.get(32).and_then(|sid| {
                let at = 33 + *sid as usize;
                Some(u16::from_be_bytes([*rest.get(at)?, *rest.get(at + 1)?]))
            });
            match suite {
                Some(suite) if version <= offered => Answer::Accepted { version, suite },
                _ => Answer::Inconclusive(format!(
                    "a ServerHello for 0x{version:04x} to an offer of 0x{offered:04x}"
                )),
            }
        }
        other => Answer::Inconclusive(format!(
            "an unexpected first record (type {}, {} bytes)",
            other[0],
            other.len()
        )),
    }
}

/// Offers `version` alone; widens the offer once when the first one found no shared cipher.
pub async fn probe_legacy(ep: &Endpoint, version: Legacy) -> Result<Answer, ProbeError> {
    let first = probe_once(ep, version.wire(), false).await?;
    if matches!(first, Answer::Inconclusive(_)) {
        return probe_once(ep, version.wire(), true).await;
    }
    Ok(first)
}

async fn probe_once(ep: &Endpoint, version: u16, wide: bool) -> Result<Answer, ProbeError> {
    let mut tcp = ep.connect().await?;
    let hello = client_hello(version, &ep.host, wide);
    let io = async {
        tcp.write_all(&hello).await?;
        let mut buf = vec![0u8; 5];
        let n = read_fully(&mut tcp, &mut buf).await?;
        if n < 5 {
            return Ok(Vec::new());
        }
        let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
        let mut body = vec![0u8; len.min(16_384)];
        let m = read_fully(&mut tcp, &mut body).await?;
        buf.extend_from_slice(&body[..m]);
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(TIMEOUT, io).await {
        Ok(Ok(record)) => Ok(read_answer(version, &record)),
        // A reset is how some servers refuse a version they do not speak.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Ok(Answer::Refused("the server reset the connection".into()))
        }
        Ok(Err(e)) => Err(ProbeError::Other {
            url: ep.label(),
            detail: format!("reading the answer to a ClientHello: {e}"),
        }),
        Err(_) => Err(ProbeError::Timeout {
            url: ep.label(),
            secs: TIMEOUT.as_secs(),
        }),
    }
}

async fn read_fully(tcp: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let m = tcp.read(&mut buf[n..]).await?;
        if m == 0 {
            break;
        }
        n += m;
    }
    Ok(n)
}

/// A modern protocol version, spoken through rustls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modern {
    Tls12,
    Tls13,
}

impl Modern {
    pub const ALL: [Modern; 2] = [Modern::Tls12, Modern::Tls13];

    pub fn name(self) -> &'static str {
        match self {
            Modern::Tls12 => "TLS 1.2",
            Modern::Tls13 => "TLS 1.3",
        }
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            Modern::Tls12 => &rustls::version::TLS12,
            Modern::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// The result of a real handshake: whether it completed, and the chain the server sent.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub completed: Result<(), String>,
    pub chain: Vec<CertificateDer<'static>>,
}

pub use crate::crypto::provider;

/// A full handshake at `version`, accepting any certificate (judged elsewhere) and
/// keeping the chain the server presented.
pub async fn handshake(ep: &Endpoint, version: Modern) -> Result<Handshake, ProbeError> {
    let provider = provider();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let verifier = Recording {
        inner: AcceptAny(provider.clone()),
        seen: seen.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version.rustls()])
        .map_err(|e| ProbeError::Other {
            url: ep.label(),
            detail: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let name = ServerName::try_from(ep.host.clone()).map_err(|e| ProbeError::Other {
        url: ep.label(),
        detail: e.to_string(),
    })?;
    let tcp = ep.connect().await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let completed = match tokio::time::timeout(TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            return Err(ProbeError::Timeout {
                url: ep.label(),
                secs: TIMEOUT.as_secs(),
            });
        }
    };
    let chain = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Handshake { completed, chain })
}

#[derive(Debug)]
struct Recording {
    inner: AcceptAny,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl rustls::client::danger::ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = chain;
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts any certificate; used only when the user declared the deployment a test one,
/// and by the TLS probes, which judge the certificate separately.
#[derive(Debug)]
pub(crate) struct AcceptAny(pub(crate) Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_has_the_offered_version_and_no_supported_versions() {
        let h = client_hello(0x0302, "chat.example.org", false);
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        assert_eq!(h[5], 0x01);
        assert_eq!(&h[9..11], &[0x03, 0x02]);
        // supported_versions (0x002b) would let a server pick 1.2 or 1.3.
        assert!(!h.windows(2).any(|w| w == [0x00, 0x2b]));
        assert!(h.windows(16).any(|w| w == b"chat.example.org"));
        assert!(client_hello(0x0301, "127.0.0.1", true).len() > h.len() - 16);
    }

    #[test]
    fn answers_are_read_from_the_first_record() {
        assert_eq!(
            read_answer(0x0301, &[0x15, 3, 1, 0, 2, 2, 70]),
            Answer::Refused("alert 70 (protocol_version)".into())
        );
        assert!(matches!(
            read_answer(0x0301, &[0x15, 3, 1, 0, 2, 2, 40]),
            Answer::Inconclusive(_)
        ));
        assert!(matches!(read_answer(0x0301, &[]), Answer::Refused(_)));
        let mut hello = vec![0x16, 3, 1, 0, 0, 0x02, 0, 0, 0, 0x03, 0x01];
        hello.extend_from_slice(&[7u8; 32]);
        hello.push(0);
        hello.extend_from_slice(&[0xc0, 0x13, 0]);
        assert_eq!(
            read_answer(0x0301, &hello),
            Answer::Accepted {
                version: 0x0301,
                suite: 0xc013
            }
        );
        hello[10] = 0x03;
        assert!(matches!(
            read_answer(0x0301, &hello),
            Answer::Inconclusive(_)
        ));
    }
}
