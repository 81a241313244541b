//! What a run of wrong passwords saw: kept by the scenario's world until the block is
//! waited out (`bruteforce` fills it in).

use std::time::{Duration, Instant};

/// What the wrong-password run saw.
#[derive(Clone, Debug)]
pub struct BruteForce {
    /// Failures the application should allow before blocking, and the block's length.
    pub bound: u32,
    pub period: Duration,
    /// The attempt that was answered as blocked, if any.
    pub blocked_at: Option<u32>,
    pub attempts: u32,
    pub last_attempt: Instant,
    /// The blocked answer, quoted as evidence.
    pub blocked_answer: Option<String>,
}

impl BruteForce {
    /// When the account is usable again: the block counts from the last failure.
    pub fn usable_at(&self, grace: Duration) -> Instant {
        self.last_attempt + self.period + grace
    }
}
