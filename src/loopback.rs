//! Loopback ports for the servers and drivers this tool starts as child processes.
//!
//! `bind(0)` draws from the kernel's ephemeral range, the same range it draws the local
//! ports of outgoing connections from. Between probing such a port and the child binding
//! it (seconds, for PostgreSQL after initdb), one of the run's own connections can take it:
//! "could not bind IPv4 address: Address already in use". Ports below that range are never
//! handed out implicitly, so only another explicit listener can race for them, and this
//! process never hands the same one out twice.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

/// Lowest port drawn from: above the registered ports most services listen on.
const FLOOR: u16 = 20_000;

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A loopback port nothing listens on now, below the ephemeral range where there is room,
/// else one the kernel picks.
pub fn free_port() -> std::io::Result<u16> {
    let ceiling = ephemeral_floor().unwrap_or(32_768);
    if ceiling > FLOOR + 1_000 {
        let span = u32::from(ceiling - FLOOR);
        let mut handed = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..500 {
            let mut b = [0u8; 4];
            rand::fill(&mut b[..]);
            let offset = u32::from_le_bytes(b) % span;
            let port = FLOOR + u16::try_from(offset).unwrap_or(0);
            if handed.contains(&port) {
                continue;
            }
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                handed.insert(port);
                return Ok(port);
            }
        }
    }
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The first port of the kernel's ephemeral range (Linux: `ip_local_port_range`).
fn ephemeral_floor() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_and_never_repeat() {
        let floor = ephemeral_floor().unwrap_or(32_768);
        let ports: BTreeSet<u16> = (0..200).map(|_| free_port().expect("a port")).collect();
        assert_eq!(ports.len(), 200, "a port was handed out twice");
        if floor > FLOOR + 1_000 {
            assert!(
                ports.iter().all(|p| (FLOOR..floor).contains(p)),
                "{ports:?}"
            );
        }
    }
}
