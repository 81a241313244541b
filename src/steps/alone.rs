//! Scenarios that load a target heavily (thousands of sign-ins) run alone.
//!
//! Every other scenario holds a shared guard for its whole life; a heavy step takes the
//! exclusive one, so it starts once the scenarios in flight have finished and holds back
//! those that begin later. Process-wide, because concurrent runs (the self-check) share
//! the machine: on a 2-core runner such a load delays time-scaled checks past their
//! deadlines, and against a real server it would trip the throttle other scenarios meet.

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static QUIET: RwLock<()> = RwLock::const_new(());

/// Held by every ordinary scenario from its start to its end.
pub async fn ordinary() -> RwLockReadGuard<'static, ()> {
    QUIET.read().await
}

/// Held by a heavy step while it loads the target; waits for the scenarios in flight.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    QUIET.write().await
}

/// Whether a heavy step would have to wait now.
pub fn others_in_flight() -> bool {
    QUIET.try_write().is_err()
}
