//! What signing in past the account's session limit did (`limit.rs` records it, the
//! world keeps it between the steps).

/// What signing in past the limit did.
#[derive(Clone, Debug)]
pub enum LimitOutcome {
    /// The first session was refused right after sign-in `at` (1-based, the first is 1).
    OldestEnded { at: usize, limit: usize },
    /// Sign-in `at` was refused.
    NewRefused {
        at: usize,
        limit: usize,
        evidence: String,
    },
    /// Every sign-in was accepted and the first session still is.
    NotEnforced { signed_in: usize, limit: usize },
}
