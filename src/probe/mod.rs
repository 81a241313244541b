//! Raw network probes: HTTP replays and realtime (websocket) channels.

pub mod http;
pub mod store;
pub mod tcp;
pub mod tls;
pub mod ws;

pub use http::{Http, ProbeError, Reply};
pub use ws::{JsonSocket, Received};

use url::Url;

/// Hosts that can only be test deployments: `*.test`, `localhost`, loopback addresses.
pub fn is_test_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d == "localhost" || d.ends_with(".test") || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
