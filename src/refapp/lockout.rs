//! Failed sign-ins blocking further ones, as the applications do it: Rocket.Chat's
//! `Block_Multiple_Failed_Logins` (per user and per client address; failures counted
//! since the last success, the block lasting from the last failure) and the Devise
//! `lockable` a hardened Chatwoot enables. Keys are strings such as `user:alice` or
//! `ip:203.0.113.7`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures block, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub attempts: u32,
    pub period: Duration,
    /// The `permanent-lockout` weakness: the block never ends by itself.
    pub forever: bool,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct Lockout {
    failures: Mutex<HashMap<String, Failures>>,
}

impl Lockout {
    /// Whether `key` is blocked under `policy` now.
    pub fn blocked(&self, policy: &Policy, key: &str) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = map.get(key).copied() else {
            return false;
        };
        if f.count < policy.attempts {
            return false;
        }
        if policy.forever || f.last.elapsed() < policy.period {
            return true;
        }
        // The block has passed: counting starts again.
        map.remove(key);
        false
    }

    pub fn failed(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let f = map.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: Instant::now(),
        });
        f.count += 1;
        f.last = Instant::now();
    }

    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The client address a proxy-trusting application would key on: `X-Real-IP`
/// (Rocket.Chat trusts it unconditionally), else the first `X-Forwarded-For` entry,
/// else the connection itself.
pub fn claimed_address(headers: &axum::http::HeaderMap) -> String {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    first("x-real-ip")
        .or_else(|| first("x-forwarded-for"))
        .unwrap_or_else(|| "direct".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_attempts_and_lifts_after_the_period() {
        let l = Lockout::default();
        let p = Policy {
            attempts: 2,
            period: Duration::from_millis(50),
            forever: false,
        };
        l.failed("user:a");
        assert!(!l.blocked(&p, "user:a"));
        l.failed("user:a");
        assert!(l.blocked(&p, "user:a"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!l.blocked(&p, "user:a"));
        l.failed("user:a");
        l.succeeded("user:a");
        assert!(!l.blocked(&p, "user:a"));
    }
}
