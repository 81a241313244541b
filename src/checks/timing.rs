//! Session lifetime rules (ASVS 4.0.3 3.3.2; ASVS 5.0 7.3.1, 7.3.2; WSTG-SESS-07):
//! how long to wait, and what an observed acceptance or rejection means.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Verdict;
use crate::duration::human;

/// What the deployment is expected to enforce, with the slack allowed for clocks and sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectations {
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
    pub grace: Duration,
}

impl Expectations {
    /// ASVS 4.0.3 3.3.2 (L1, 2FA optional): 30 minutes idle, 12 hours absolute.
    pub const ASVS: Self = Self {
        idle_timeout: Duration::from_secs(30 * 60),
        max_lifetime: Duration::from_secs(12 * 3600),
        grace: Duration::from_secs(60),
    };

    /// How long a session is left untouched before it must be gone.
    pub fn idle_wait(&self) -> Duration {
        self.idle_timeout + self.grace
    }

    /// How often an "active" session is used: well inside the idle timeout.
    pub fn activity_interval(&self) -> Duration {
        (self.idle_timeout / 3).clamp(Duration::from_millis(200), Duration::from_secs(60))
    }

    /// When a session in continuous use must be gone: maximum lifetime, grace and the
    /// application's own enforcement slack (a periodic sweep, for example).
    pub fn lifetime_deadline(&self, app_slack: Duration) -> Duration {
        self.max_lifetime + self.grace + app_slack
    }
}

/// The lifetime the application advertised (token expiry, cookie expiry) is within the maximum.
pub fn advertised_lifetime(
    obtained_at: DateTime<Utc>,
    advertised: &[(String, DateTime<Utc>)],
    expect: &Expectations,
) -> Verdict {
    let mut v = Verdict::default();
    if advertised.is_empty() {
        v.nothing_to_judge(
            "the application advertised no expiry: no token expiry in its sign-in answer or web storage, and only browser-session cookies",
        );
    }
    let limit = expect.max_lifetime + expect.grace;
    for (source, at) in advertised {
        let lifetime = (*at - obtained_at).to_std().unwrap_or(Duration::ZERO);
        v.note(format!(
            "{source}: expires {} ({} after sign-in)",
            at.format("%Y-%m-%d %H:%M:%SZ"),
            human(lifetime)
        ));
        if lifetime > limit {
            v.violate(
                "ASVS 3.3.2",
                source.clone(),
                format!(
                    "advertised lifetime {} exceeds the expected maximum {}",
                    human(lifetime),
                    human(expect.max_lifetime)
                ),
            );
        }
    }
    v
}

/// A session left idle for `idle_for` must have been rejected afterwards.
pub fn idle_expiry(still_accepted: bool, idle_for: Duration, expect: &Expectations) -> Verdict {
    let mut v = Verdict::default();
    v.note(format!(
        "left idle for {} (expected idle timeout {} plus grace {})",
        human(idle_for),
        human(expect.idle_timeout),
        human(expect.grace)
    ));
    if still_accepted {
        v.violate(
            "ASVS 3.3.2",
            "idle session",
            format!(
                "still accepted after {} without use; expected an idle timeout of {}",
                human(idle_for),
                human(expect.idle_timeout)
            ),
        );
    }
    v
}

/// A session used every `interval` must keep working past the idle timeout; if it dies,
/// activity does not count or the absolute lifetime is shorter than the idle timeout.
pub fn activity_keeps_alive(
    rejected_after: Option<Duration>,
    used_for: Duration,
    interval: Duration,
    expect: &Expectations,
) -> Verdict {
    let mut v = Verdict::default();
    v.note(format!(
        "used every {} for {}",
        human(interval),
        human(used_for)
    ));
    if let Some(after) = rejected_after {
        v.violate(
            "ASVS 7.3.1",
            "active session",
            format!(
                "rejected after {} although it was used every {}: activity does not reset the idle \
                 timeout, or sessions end sooner than the expected idle timeout {}",
                human(after),
                human(interval),
                human(expect.idle_timeout)
            ),
        );
    }
    v
}

/// A session in continuous use must be rejected by the deadline.
pub fn lifetime_enforced(
    rejected_after: Option<Duration>,
    used_for: Duration,
    expect: &Expectations,
    deadline: Duration,
) -> Verdict {
    let mut v = Verdict::default();
    match rejected_after {
        Some(after) => v.note(format!(
            "rejected after {} of continuous use (expected maximum lifetime {})",
            human(after),
            human(expect.max_lifetime)
        )),
        None => v.violate(
            "ASVS 3.3.2",
            "session in continuous use",
            format!(
                "still accepted after {} of continuous use; expected it to end by {} (maximum lifetime {})",
                human(used_for),
                human(deadline),
                human(expect.max_lifetime)
            ),
        ),
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_advertised_is_nothing_to_judge() {
        let v = advertised_lifetime(Utc::now(), &[], &Expectations::ASVS);
        assert!(v.holds() && v.nothing_judged);
    }

    fn expect() -> Expectations {
        Expectations {
            idle_timeout: Duration::from_secs(3),
            max_lifetime: Duration::from_secs(8),
            grace: Duration::from_secs(2),
        }
    }

    #[test]
    fn waits_follow_the_expectations() {
        let e = expect();
        assert_eq!(e.idle_wait(), Duration::from_secs(5));
        assert_eq!(e.activity_interval(), Duration::from_secs(1));
        assert_eq!(
            e.lifetime_deadline(Duration::from_secs(1)),
            Duration::from_secs(11)
        );
        assert_eq!(
            Expectations::ASVS.activity_interval(),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn advertised_lifetime_over_the_maximum_fails() {
        let now = Utc::now();
        let ok = vec![("token".to_string(), now + chrono::Duration::seconds(8))];
        assert!(advertised_lifetime(now, &ok, &expect()).holds());
        let long = vec![("token".to_string(), now + chrono::Duration::days(90))];
        let v = advertised_lifetime(now, &long, &expect());
        assert!(
            v.failure_message()
                .contains("90d exceeds the expected maximum 8s"),
            "{}",
            v.failure_message()
        );
        assert!(advertised_lifetime(now, &[], &expect()).holds());
    }

    #[test]
    fn idle_and_activity_verdicts() {
        assert!(idle_expiry(false, Duration::from_secs(5), &expect()).holds());
        assert!(
            idle_expiry(true, Duration::from_secs(5), &expect())
                .failure_message()
                .contains("still accepted")
        );
        let i = Duration::from_secs(1);
        assert!(activity_keeps_alive(None, Duration::from_secs(5), i, &expect()).holds());
        assert!(
            !activity_keeps_alive(
                Some(Duration::from_secs(3)),
                Duration::from_secs(3),
                i,
                &expect()
            )
            .holds()
        );
    }

    #[test]
    fn lifetime_enforcement_verdicts() {
        let d = Duration::from_secs(10);
        assert!(lifetime_enforced(Some(Duration::from_secs(8)), d, &expect(), d).holds());
        let v = lifetime_enforced(None, d, &expect(), d);
        assert!(v.failure_message().contains("still accepted after 10s"));
    }
}
