//! Raw network probes: HTTP replays and realtime (websocket) channels.

pub mod http;
pub mod store;
pub mod tcp;
pub mod tls;
pub mod ws;

pub use http::{Http, ProbeError, Reply};
pub use ws::{JsonSocket, Received};
