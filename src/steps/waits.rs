//! Waits a reader can watch: every wait a check requires is registered while it runs;
//! a terminal gets one live status line, anything else (CI logs) a line per running
//! wait at least every minute ("idle-expiry (rocketchat): 12m of 31m").

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::duration::human;

/// A live status line is on the terminal: other output clears it first.
static LIVE: AtomicBool = AtomicBool::new(false);

struct Running {
    label: String,
    started: Instant,
    total: Duration,
}

#[derive(Default)]
pub struct Waits {
    running: Mutex<BTreeMap<u64, Running>>,
    next: AtomicU64,
}

/// Unregisters its wait when dropped (finished, failed or cancelled).
pub struct WaitGuard {
    id: u64,
    waits: Arc<Waits>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.waits
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// `idle-expiry (rocketchat): 12m of 31m`.
pub fn line(label: &str, elapsed: Duration, total: Duration) -> String {
    let whole = |d: Duration| match d.as_secs() {
        0 => "0s".to_string(),
        s => human(Duration::from_secs(s)),
    };
    format!("{label}: {} of {}", whole(elapsed.min(total)), whole(total))
}

impl Waits {
    pub fn start(self: &Arc<Self>, label: &str, total: Duration) -> WaitGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id,
                Running {
                    label: label.to_string(),
                    started: Instant::now(),
                    total,
                },
            );
        WaitGuard {
            id,
            waits: self.clone(),
        }
    }

    /// One line per running wait, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|r| line(&r.label, r.started.elapsed(), r.total))
            .collect()
    }

    /// Shows the running waits until dropped: live on a terminal, else every `every`.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let live = std::io::stderr().is_terminal();
        LIVE.store(live, Ordering::Relaxed);
        let tick = if live { Duration::from_secs(1) } else { every };
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
        loop {
            interval.tick().await;
            let lines = self.lines();
            let mut err = std::io::stderr().lock();
            if live {
                let status = if lines.is_empty() {
                    String::new()
                } else {
                    format!("  ⏳ {}", lines.join(" · "))
                };
                // One terminal row: longer statuses are cut, not wrapped.
                let status: String = status.chars().take(160).collect();
                let _ = write!(err, "\r\x1b[K{status}");
            } else {
                for l in lines {
                    let _ = writeln!(err, "  … waiting: {l}");
                }
            }
            let _ = err.flush();
        }
    }
}

/// Clears the live status line before other output (no-op when there is none).
pub fn clear_status() {
    if LIVE.load(Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

/// Ends the live display (the run is over).
pub fn stop_live() {
    clear_status();
    LIVE.store(false, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_reads_as_elapsed_of_total_and_leaves_when_done() {
        assert_eq!(
            line(
                "idle-expiry (rocketchat)",
                Duration::from_secs(12 * 60 + 5),
                Duration::from_secs(31 * 60)
            ),
            "idle-expiry (rocketchat): 12m 5s of 31m"
        );
        let waits = Arc::new(Waits::default());
        let g = waits.start("lifetime-enforced (chatwoot)", Duration::from_secs(60));
        assert_eq!(
            waits.lines(),
            vec!["lifetime-enforced (chatwoot): 0s of 1m"]
        );
        drop(g);
        assert!(waits.lines().is_empty());
    }
}
