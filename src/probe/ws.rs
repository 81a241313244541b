//! A JSON-over-websocket client for the realtime channels (Rocket.Chat DDP,
//! Chatwoot ActionCable), with the same name mapping and TLS policy as HTTP.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use url::Url;

use super::http::ProbeError;
use super::tls::AcceptAny;
use crate::probe::is_test_host;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What waiting for a message produced.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    /// The server closed the socket (or the connection dropped).
    Closed(String),
    TimedOut,
}

pub struct JsonSocket {
    ws: WebSocketStream<Box<dyn Io>>,
    pub url: Url,
}

impl JsonSocket {
    /// Opens `url` (ws:// or wss://); `headers` are added to the upgrade request (Cookie, Origin).
    pub async fn connect(
        url: &Url,
        insecure_tls: bool,
        headers: &[(&str, String)],
    ) -> Result<Self, ProbeError> {
        let unreachable = |detail: String| ProbeError::Unreachable {
            url: url.to_string(),
            detail,
        };
        let host = url
            .host_str()
            .ok_or_else(|| unreachable("no host in URL".into()))?
            .to_string();
        let tls = url.scheme() == "wss";
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let tcp = if is_test_host(url) && host.ends_with(".test") {
            TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
        } else {
            TcpStream::connect((host.as_str(), port)).await
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if tls {
            let config = tls_config(insecure_tls).map_err(|e| ProbeError::Other {
                url: url.to_string(),
                detail: e,
            })?;
            let name = ServerName::try_from(host.clone()).map_err(|e| ProbeError::Other {
                url: url.to_string(),
                detail: e.to_string(),
            })?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let tls = connector.connect(name, tcp).await.map_err(|e| {
                let detail = e.to_string();
                if detail.contains("certificate") || detail.contains("UnknownIssuer") {
                    ProbeError::Certificate {
                        url: url.to_string(),
                        detail,
                    }
                } else {
                    unreachable(detail)
                }
            })?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ProbeError::Other {
                url: url.to_string(),
                detail: e.to_string(),
            })?;
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                request.headers_mut().insert(n, v);
            }
        }
        let handshake = tokio_tungstenite::client_async(request, stream);
        let (ws, _resp) = tokio::time::timeout(Duration::from_secs(10), handshake)
            .await
            .map_err(|_| ProbeError::Timeout {
                url: url.to_string(),
                secs: 10,
            })?
            .map_err(|e| ProbeError::Other {
                url: url.to_string(),
                detail: format!("websocket handshake: {e}"),
            })?;
        Ok(Self {
            ws,
            url: url.clone(),
        })
    }

    pub async fn send(&mut self, value: &Value) -> Result<(), ProbeError> {
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .map_err(|e| ProbeError::Other {
                url: self.url.to_string(),
                detail: format!("websocket send: {e}"),
            })
    }

    /// Waits up to `timeout` for the next JSON message.
    pub async fn recv(&mut self, timeout: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            match next {
                Err(_) => return Received::TimedOut,
                Ok(None) => return Received::Closed("connection ended".into()),
                Ok(Some(Err(e))) => return Received::Closed(e.to_string()),
                Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str(t.as_str()) {
                    Ok(v) => return Received::Message(v),
                    Err(_) => continue,
                },
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let why = frame
                        .map(|f| format!("close frame {} {}", u16::from(f.code), f.reason))
                        .unwrap_or_default();
                    return Received::Closed(if why.is_empty() {
                        "closed by server".into()
                    } else {
                        why
                    });
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Waits until a message satisfies `wanted`, answering nothing else; other
    /// messages go to `other` (so a protocol can reply to pings).
    pub async fn recv_until(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&Value) -> bool,
        mut other: impl FnMut(&Value) -> Option<Value>,
    ) -> Received {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Received::Message(v) if wanted(&v) => return Received::Message(v),
                Received::Message(v) => {
                    if let Some(reply) = other(&v)
                        && self.send(&reply).await.is_err()
                    {
                        return Received::Closed("send failed".into());
                    }
                }
                end => return end,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

fn tls_config(insecure: bool) -> Result<rustls::ClientConfig, String> {
    if insecure {
        let provider = crate::probe::tls::provider();
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth();
        Ok(config)
    } else {
        use rustls_platform_verifier::ConfigVerifierExt;
        rustls::ClientConfig::with_platform_verifier().map_err(|e| e.to_string())
    }
}

/// ws:// for http:// and wss:// for https://, with `path` joined to the base.
pub fn ws_url(base: &Url, path: &str) -> Url {
    let mut u = base
        .join(path.trim_start_matches('/'))
        .unwrap_or_else(|_| base.clone());
    let scheme = if base.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    let _ = u.set_scheme(scheme);
    u
}
