//! Raw HTTP against a target: replaying credentials, reading Set-Cookie and HSTS,
//! probing plain HTTP. Redirects are never followed, so every hop is evidence.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use url::Url;

use crate::probe::is_test_host;
use crate::secret::Masker;

/// Why a request got no HTTP answer. Always infrastructure, never a finding.
/// What a plain-HTTP request produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlainHttpOutcome {
    /// Nothing listens (connection refused): nothing can be downgraded.
    NotServed(String),
    Response {
        status: u16,
        location: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot connect to {url}: {detail}. Is the application running, and is the URL right?")]
    Unreachable { url: String, detail: String },
    #[error(
        "the TLS certificate of {url} is not trusted ({detail}). For a test deployment with a \
         self-signed certificate set SESSIONDRILL_INSECURE_TLS=1"
    )]
    Certificate { url: String, detail: String },
    #[error("{url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP reply, body read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    pub method: Method,
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    pub elapsed: Duration,
}

impl Reply {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.header_all("set-cookie")
    }

    /// `POST /api/v1/login → 401 {"success":false,…}` with secrets scrubbed and the body cut short.
    pub fn summary(&self, masker: &Masker) -> String {
        // Scrubbed whole, then cut: a cut through a secret would leave its start unmasked.
        masker.register_json_secrets(&self.body);
        let body = masker.scrub(&self.body.replace('\n', " "));
        let mut short: String = body.chars().take(240).collect();
        if body.chars().count() > 240 {
            short.push('…');
        }
        masker.scrub(&format!(
            "{} {} → {} {}",
            self.method,
            self.url.path(),
            self.status,
            short.trim()
        ))
    }
}

/// A client bound to one target.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    pub base: Url,
    pub masker: Masker,
}

impl Http {
    /// `.test` and `localhost` names resolve to loopback, as the browser maps them.
    pub fn new(base: &Url, insecure_tls: bool, masker: Masker) -> Result<Self, ProbeError> {
        let mut builder = crate::crypto::http_client()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("sessiondrill/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(insecure_tls);
        if let Some(host) = base.host_str()
            && is_test_host(base)
            && host.ends_with(".test")
        {
            builder = builder.resolve(host, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        }
        let client = builder.build().map_err(|e| ProbeError::Other {
            url: base.to_string(),
            detail: format!("cannot build an HTTP client: {e}"),
        })?;
        Ok(Self {
            client,
            base: base.clone(),
            masker,
        })
    }

    pub fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base.clone())
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends a request; retries twice when the connection could not be made (the
    /// request never reached the application, so retrying cannot change a verdict).
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, ProbeError> {
        let built = request.build().map_err(|e| ProbeError::Other {
            url: self.base.to_string(),
            detail: e.to_string(),
        })?;
        let mut attempt = 0;
        loop {
            let Some(req) = built.try_clone() else {
                return self.execute(built).await;
            };
            match self.execute(req).await {
                Err(ProbeError::Unreachable { .. }) if attempt < 2 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn execute(&self, req: reqwest::Request) -> Result<Reply, ProbeError> {
        let method = req.method().clone();
        let url = req.url().clone();
        let started = Instant::now();
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| classify(&url, &e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.map_err(|e| classify(&url, &e))?;
        Ok(Reply {
            method,
            url,
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }

    /// Requests `url` over plain HTTP and reports what came back.
    /// A plain-HTTP request. "Not served" only when the HTTPS target's own host refuses
    /// the connection; DNS failures, timeouts and TLS errors are trouble, not a verdict.
    pub async fn plain_http(&self, url: Url) -> Result<PlainHttpOutcome, ProbeError> {
        let same_host = url.host_str() == self.base.host_str();
        match self.send(self.request_url(Method::GET, url)).await {
            Ok(r) => Ok(PlainHttpOutcome::Response {
                status: r.status,
                location: r.header("location").map(str::to_string),
            }),
            Err(ProbeError::Unreachable { detail, .. })
                if same_host && detail.to_ascii_lowercase().contains("connection refused") =>
            {
                Ok(PlainHttpOutcome::NotServed(detail))
            }
            Err(e) => Err(e),
        }
    }

    /// A plain-HTTP request to the HTTPS port: a TLS server that drops it (or resets,
    /// or answers in TLS) serves nothing over plain HTTP; only a timeout is trouble.
    pub async fn plain_http_on_tls_port(&self, url: Url) -> Result<PlainHttpOutcome, ProbeError> {
        match self.send(self.request_url(Method::GET, url)).await {
            Ok(r) => Ok(PlainHttpOutcome::Response {
                status: r.status,
                location: r.header("location").map(str::to_string),
            }),
            Err(e @ ProbeError::Timeout { .. }) => Err(e),
            Err(e) => Ok(PlainHttpOutcome::NotServed(format!(
                "the HTTPS port does not answer plain HTTP: {e}"
            ))),
        }
    }
}

fn classify(url: &Url, e: &reqwest::Error) -> ProbeError {
    let chain = error_chain(e);
    let url_s = url.as_str().to_string();
    if chain.contains("certificate")
        || chain.contains("UnknownIssuer")
        || chain.contains("InvalidCertificate")
    {
        return ProbeError::Certificate {
            url: url_s,
            detail: short(&chain),
        };
    }
    if e.is_timeout() {
        return ProbeError::Timeout {
            url: url_s,
            secs: REQUEST_TIMEOUT.as_secs(),
        };
    }
    if e.is_connect() {
        return ProbeError::Unreachable {
            url: url_s,
            detail: short(&chain),
        };
    }
    ProbeError::Other {
        url: url_s,
        detail: short(&chain),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}

fn short(s: &str) -> String {
    // reqwest repeats the URL in its own message; the innermost causes say what happened.
    let parts: Vec<&str> = s.split(": ").collect();
    parts
        .iter()
        .rev()
        .take(2)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join(": ")
}
