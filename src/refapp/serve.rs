//! What both reference targets serve the same way: an HTTPS and a plain-HTTP
//! listener, HSTS on HTTPS responses, the HTTP→HTTPS redirect, and request bodies.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use super::RefOptions;
use super::tls::{CertKind, Peer, TlsListener};

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// How one reference target answers.
pub struct Serving {
    /// The application, served over HTTPS.
    pub app: Router,
    /// Cache-Control for HTTPS answers whose handler set none (the framework's default).
    pub cache_control: &'static str,
    pub hsts: bool,
    /// Plain HTTP redirects to HTTPS instead of serving the application.
    pub https_redirect: bool,
}

/// Binds both listeners (0 picks a free port) before anything else needs the ports.
pub async fn bind(opts: &RefOptions) -> anyhow::Result<(TcpListener, TcpListener)> {
    let listen = |port: u16, what: &'static str| async move {
        TcpListener::bind(SocketAddr::new(opts.bind, port))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}:{port} for {what}: {e}", opts.bind))
    };
    Ok((
        listen(opts.https_port, "HTTPS").await?,
        listen(opts.http_port, "HTTP").await?,
    ))
}

/// What a served target runs: tasks to abort, where HTTPS is reached, the CA that
/// issued its certificate, and nginx when it sits in front.
pub struct Spawned {
    pub tasks: Vec<AbortHandle>,
    /// The HTTPS address clients use (nginx's when it is in front).
    pub https: SocketAddr,
    pub ca_pem: String,
    pub front: Option<super::servers::Server>,
}

fn cert_kind(opts: &RefOptions) -> CertKind {
    use super::Weakness::*;
    [
        (ExpiredCertificate, CertKind::Expired),
        (CertificateExpiringSoon, CertKind::ExpiringSoon),
        (CertificateWrongHost, CertKind::WrongHost),
        (UntrustedCertificate, CertKind::Untrusted),
    ]
    .into_iter()
    .find(|(w, _)| opts.has(*w))
    .map_or(CertKind::Valid, |(_, k)| k)
}

/// Serves `serving` on the two listeners (behind nginx with legacy TLS for `legacy-tls`).
pub async fn spawn(
    opts: &RefOptions,
    https: TcpListener,
    http: TcpListener,
    serving: Serving,
) -> anyhow::Result<Spawned> {
    let mut https_addr = https.local_addr()?;
    let certified = super::tls::certify(std::slice::from_ref(&opts.host), cert_kind(opts))?;
    let front = if opts.has(super::Weakness::LegacyTls) {
        let nginx = super::servers::nginx_legacy_tls(
            https_addr.port(),
            &opts.host,
            &certified.cert_pem,
            &certified.key_pem,
        )
        .await?;
        https_addr.set_port(nginx.port);
        Some(nginx)
    } else {
        None
    };
    let https_port = https_addr.port();
    let (tls_listener, accept_task) = TlsListener::new(https, certified.acceptor)?;
    let hsts = serving.hsts;
    let cache_control = serving.cache_control;
    let secure = serving.app.clone().layer(axum::middleware::map_response(
        move |mut resp: Response| async move {
            if hsts {
                resp.headers_mut().insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
                );
            }
            if !resp.headers().contains_key(header::CACHE_CONTROL) {
                resp.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(cache_control),
                );
            }
            resp
        },
    ));
    let plain = if serving.https_redirect {
        let host = opts.host.clone();
        Router::new().fallback(move |uri: Uri| async move {
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Redirect::permanent(&format!("https://{host}:{https_port}{path}")).into_response()
        })
    } else {
        serving.app
    };
    let https_task = tokio::spawn(async move {
        let _ = axum::serve(
            tls_listener,
            secure.into_make_service_with_connect_info::<Peer>(),
        )
        .await;
    });
    let http_task = tokio::spawn(async move {
        let _ = axum::serve(http, plain.into_make_service_with_connect_info::<Peer>()).await;
    });
    Ok(Spawned {
        tasks: vec![
            accept_task,
            https_task.abort_handle(),
            http_task.abort_handle(),
        ],
        https: https_addr,
        ca_pem: certified.ca_pem,
        front,
    })
}

/// Rails' default for a dynamic answer (Rack::ETag), which browsers may keep.
pub const RAILS_DEFAULT_CACHE: &str = "max-age=0, private, must-revalidate";
pub const NO_STORE: &str = "no-store";

/// A JSON or form-encoded request body as an object (empty when it is neither).
pub fn body_object(headers: &HeaderMap, body: &Bytes) -> Map<String, Value> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form {
        url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    }
}
