//! The process's one rustls crypto provider, ring, installed on first use: every TLS
//! client and server here (reqwest, the WebDriver connection, the probes, the reference
//! targets) uses it. One provider keeps a cold build to one C crypto library.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub fn provider() -> Arc<CryptoProvider> {
    if let Some(p) = CryptoProvider::get_default() {
        return p.clone();
    }
    // Another thread may install it first; either way one is installed afterwards.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// A reqwest client builder with the provider installed (reqwest is built without one).
pub fn http_client() -> reqwest::ClientBuilder {
    provider();
    reqwest::Client::builder()
}

/// A TLS client configuration trusting the platform's roots, for the WebDriver endpoint
/// (a Grid behind HTTPS).
pub fn platform_tls() -> Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_platform_verifier()
        .map_err(|e| e.to_string())
        .map(|b| b.with_no_client_auth())
}
