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
use super::tls::{Peer, TlsListener};

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// How one reference target answers.
pub struct Serving {
    /// The application, served over HTTPS.
    pub app: Router,
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

/// Serves `serving` on the two listeners; returns the tasks to abort on shutdown.
pub fn spawn(
    opts: &RefOptions,
    https: TcpListener,
    http: TcpListener,
    serving: Serving,
) -> anyhow::Result<Vec<AbortHandle>> {
    let https_port = https.local_addr()?.port();
    let acceptor = super::tls::acceptor(std::slice::from_ref(&opts.host))?;
    let (tls_listener, accept_task) = TlsListener::new(https, acceptor)?;
    let hsts = serving.hsts;
    let secure = serving.app.clone().layer(axum::middleware::map_response(
        move |mut resp: Response| async move {
            if hsts {
                resp.headers_mut().insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
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
    Ok(vec![
        accept_task,
        https_task.abort_handle(),
        http_task.abort_handle(),
    ])
}

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
