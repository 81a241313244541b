//! The server certificate: trusted, valid for the host, not expired and not expiring
//! within a warning window (ASVS 9.1.2, 5.0 12.2.2; WSTG-CRYP-01).
//!
//! Judged by rustls' own path validation (the platform's roots, plus a private CA when
//! one is configured), evaluated at two moments: now, and now plus the window. The
//! expiry date is read from the validator's own error when asked about a far future,
//! so no certificate parser is needed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use rustls::CertificateError;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::Verdict;

/// Builds the verifier: the platform's roots plus `extra` (a private CA for staging).
pub fn verifier(
    extra: Vec<CertificateDer<'static>>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let provider = crate::probe::tls::provider();
    let v = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
        .map_err(|e| format!("cannot load the trusted roots: {e}"))?;
    Ok(Arc::new(v))
}

/// Reads every certificate of a PEM text (a CA file).
pub fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block in the file".into());
    }
    Ok(certs)
}

fn at(
    v: &dyn ServerCertVerifier,
    chain: &[CertificateDer<'_>],
    host: &str,
    t: SystemTime,
) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| rustls::Error::General(format!("`{host}` is not a server name: {e}")))?;
    let (leaf, rest) = chain
        .split_first()
        .ok_or_else(|| rustls::Error::General("the server sent no certificate".into()))?;
    v.verify_server_cert(
        leaf,
        rest,
        &name,
        &[],
        UnixTime::since_unix_epoch(t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()),
    )
    .map(|_| ())
}

fn date(t: &UnixTime) -> String {
    DateTime::<Utc>::from_timestamp(t.as_secs() as i64, 0)
        .map(|d| d.format("%Y-%m-%d %H:%MZ").to_string())
        .unwrap_or_else(|| format!("{}s", t.as_secs()))
}

/// When the chain stops being valid: the validator's answer about a distant future.
fn not_after(
    v: &dyn ServerCertVerifier,
    chain: &[CertificateDer<'_>],
    host: &str,
) -> Option<UnixTime> {
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_000);
    match at(v, chain, host, far) {
        Err(rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            not_after,
            ..
        })) => Some(not_after),
        _ => None,
    }
}

/// Judges the chain one endpoint presented; an error when it could not be read at all.
pub fn judge(
    v: &dyn ServerCertVerifier,
    endpoint: &str,
    host: &str,
    chain: &[CertificateDer<'_>],
    window: Duration,
    now: SystemTime,
) -> Result<Verdict, String> {
    let mut out = Verdict::default();
    let expires = not_after(v, chain, host);
    let expiry = expires
        .as_ref()
        .map(date)
        .unwrap_or_else(|| "unknown".into());
    out.note(format!(
        "{endpoint}: {} certificate(s), valid until {expiry}",
        chain.len()
    ));
    match at(v, chain, host, now) {
        Ok(()) => {
            out.note(format!("{endpoint}: trusted and valid for {host} now"));
            if let Err(rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            )) = at(v, chain, host, now + window)
            {
                out.violate(
                    "ASVS 5.0 12.2.2",
                    endpoint,
                    format!(
                        "the certificate expires {expiry}, within the {}-day warning window",
                        window.as_secs() / 86_400
                    ),
                );
            }
        }
        Err(rustls::Error::InvalidCertificate(e)) => {
            let (req, detail) = match e {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    ("ASVS 9.1.2", format!("the certificate expired {expiry}"))
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    ("ASVS 9.1.2", "the certificate is not valid yet".to_string())
                }
                CertificateError::NotValidForName => (
                    "ASVS 9.1.2",
                    format!("the certificate is not valid for {host}"),
                ),
                CertificateError::NotValidForNameContext { presented, .. } => (
                    "ASVS 9.1.2",
                    format!(
                        "the certificate is not valid for {host} (it names {})",
                        presented.join(", ")
                    ),
                ),
                CertificateError::UnknownIssuer => (
                    "ASVS 5.0 12.2.2",
                    "the certificate chain does not lead to a trusted root (self-signed or a \
                     private CA; configure `ca_file` for a staging CA)"
                        .to_string(),
                ),
                other => (
                    "ASVS 5.0 12.2.2",
                    format!("the certificate is not trusted: {other:?}"),
                ),
            };
            out.violate(req, endpoint, detail);
        }
        Err(other) => {
            return Err(format!(
                "{endpoint}: the certificate could not be read: {other}"
            ));
        }
    }
    Ok(out)
}
