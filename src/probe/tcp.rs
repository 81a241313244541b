//! Plain TCP for the raw probes (hand-written TLS hellos, session stores): `.test`
//! names go to loopback, as the browser maps them, and connecting is bounded.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

use super::ProbeError;

pub async fn connect(host: &str, port: u16, within: Duration) -> Result<TcpStream, ProbeError> {
    let label = format!("{host}:{port}");
    let connecting = async {
        if host.ends_with(".test") || host == "localhost" {
            TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
        } else {
            TcpStream::connect((host, port)).await
        }
    };
    match tokio::time::timeout(within, connecting).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(ProbeError::Unreachable {
            url: label,
            detail: e.to_string(),
        }),
        Err(_) => Err(ProbeError::Timeout {
            url: label,
            secs: within.as_secs(),
        }),
    }
}
