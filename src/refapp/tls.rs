//! HTTPS for the reference targets: a generated certificate and a TLS listener
//! that axum can serve from. Handshakes run concurrently, so one stuck client
//! cannot stall the others.

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Which certificate a reference target presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// Issued by the reference CA for the target's names, valid for 90 days.
    Valid,
    Expired,
    /// Valid, but for only 10 more days (inside the default 30-day warning window).
    ExpiringSoon,
    /// Issued for another host name.
    WrongHost,
    /// Self-signed: no chain to any trusted root.
    Untrusted,
}

/// A reference target's TLS identity: the acceptor, and the PEM a front server or a
/// client that must trust it needs.
pub struct Certified {
    pub acceptor: TlsAcceptor,
    pub cert_pem: String,
    pub key_pem: String,
    /// The reference CA, which a reference target's configuration trusts.
    pub ca_pem: String,
}

/// The reference CA, one per process: reference targets' configurations trust it as a
/// user's configuration trusts a private staging CA.
static CA: LazyLock<Result<rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, String>> =
    LazyLock::new(|| {
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sessiondrill reference CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        rcgen::CertifiedIssuer::self_signed(params, key).map_err(|e| e.to_string())
    });

/// A certificate of `kind` for `hosts` (plus localhost), and its acceptor.
pub fn certify(hosts: &[String], kind: CertKind) -> anyhow::Result<Certified> {
    let ca = CA
        .as_ref()
        .map_err(|e| anyhow::anyhow!("cannot create the reference CA: {e}"))?;
    let mut names = hosts.to_vec();
    names.push("localhost".into());
    if kind == CertKind::WrongHost {
        names = vec!["elsewhere.test".into()];
    }
    let now = chrono::Utc::now();
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        hosts.first().cloned().unwrap_or_default(),
    );
    let days = chrono::Duration::days;
    let ymd = |t: chrono::DateTime<chrono::Utc>| {
        use chrono::Datelike;
        rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8)
    };
    (params.not_before, params.not_after) = match kind {
        CertKind::Expired => (ymd(now - days(90)), ymd(now - days(2))),
        CertKind::ExpiringSoon => (ymd(now - days(80)), ymd(now + days(10))),
        _ => (ymd(now - days(1)), ymd(now + days(90))),
    };
    let key = rcgen::KeyPair::generate()?;
    let cert = if kind == CertKind::Untrusted {
        params.self_signed(&key)?
    } else {
        params.signed_by(&key, ca)?
    };
    let der = CertificateDer::from(cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = crate::probe::tls::provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![der], key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certified {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca_pem: ca.pem(),
    })
}

/// Accepts TCP connections and completes TLS handshakes in the background.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(
        tcp: TcpListener,
        acceptor: TlsAcceptor,
    ) -> std::io::Result<(Self, tokio::task::AbortHandle)> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                    {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok((Self { rx, local }, task.abort_handle()))
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task is gone (server shutting down): never yield again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The client address of a connection, for handlers that need it (the sign-in throttle),
/// over both the TLS and the plain listener.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}
