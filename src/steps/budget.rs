//! Sign-ins on an account whose application keeps a bounded number of sessions and ends
//! the oldest when one more signs in (Rocket.Chat's `MAX_RESUME_LOGIN_TOKENS`,
//! devise_token_auth's `max_number_of_devices`). A scenario that waits on its session
//! (idle, lifetime) watches the account; while it does, other scenarios' sign-ins are
//! admitted only as long as the sign-ins since it began, plus the ones it may still make
//! itself (`RESERVE`), stay within the cap, so the suite's own sign-ins cannot end the
//! session it waits on. Watching scenarios never wait here (no circle); if they alone
//! exceed the cap, the idle check's sibling probe reports the eviction as ERROR.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Sign-ins a waiting scenario makes itself: the session it waits on and a sibling
/// signed in beside it (the idle check's probe).
pub const RESERVE: usize = 2;

/// One watching scenario's count.
#[derive(Default, Clone, Copy)]
struct Watched {
    /// Sign-ins on the account since it began, its own included.
    since: usize,
    /// Its own.
    own: usize,
}

impl Watched {
    /// Whether one more sign-in by another scenario keeps the watched session.
    fn room_for_one(&self, cap: usize) -> bool {
        self.since + RESERVE.saturating_sub(self.own) < cap
    }
}

#[derive(Default)]
struct State {
    next: u64,
    watchers: BTreeMap<u64, Watched>,
    /// Sign-ins that waited for a watcher, for the evidence.
    held: usize,
}

pub struct SessionBudget {
    cap: Option<usize>,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
}

/// A scenario watching the account; dropping it lets waiting sign-ins through.
pub struct Watch {
    budget: Arc<SessionBudget>,
    pub id: u64,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.budget.lock().watchers.remove(&self.id);
        self.budget.changed.notify_waiters();
    }
}

impl SessionBudget {
    pub fn new(cap: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            cap,
            state: Mutex::new(State::default()),
            changed: tokio::sync::Notify::new(),
        })
    }

    pub fn cap(&self) -> Option<usize> {
        self.cap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts watching, where the application has a cap.
    pub fn watch(self: &Arc<Self>) -> Option<Watch> {
        self.cap?;
        let mut s = self.lock();
        s.next += 1;
        let id = s.next;
        s.watchers.insert(id, Watched::default());
        Some(Watch {
            budget: self.clone(),
            id,
        })
    }

    /// Waits until one more sign-in cannot push a watched session out, then counts it.
    /// `me` is the calling scenario's watch, if it has one. Returns whether it waited.
    pub async fn admit(&self, me: Option<u64>) -> bool {
        let Some(cap) = self.cap else { return false };
        let mut waited = false;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a watch ending in between is not missed.
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                let blocked = me.is_none() && s.watchers.values().any(|w| !w.room_for_one(cap));
                if !blocked {
                    for (id, w) in s.watchers.iter_mut() {
                        w.since += 1;
                        if Some(*id) == me {
                            w.own += 1;
                        }
                    }
                    if waited {
                        s.held += 1;
                    }
                    return waited;
                }
            }
            waited = true;
            notified.await;
        }
    }

    /// Sign-ins that waited for a watching scenario so far.
    pub fn held(&self) -> usize {
        self.lock().held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn without_a_cap_nothing_waits_or_watches() {
        let b = SessionBudget::new(None);
        assert!(b.watch().is_none());
        assert!(!b.admit(None).await);
    }

    #[tokio::test]
    async fn sign_ins_wait_while_a_watched_session_would_be_pushed_out() {
        let b = SessionBudget::new(Some(4));
        let w = b.watch().expect("a cap");
        // Room is kept for the watcher's own two sign-ins, which never wait.
        assert!(!b.admit(None).await);
        assert!(!b.admit(Some(w.id)).await);
        assert!(!b.admit(None).await);
        assert!(!b.admit(Some(w.id)).await);
        // A fifth sign-in would end the watched (oldest) session: it waits for the watch.
        let b2 = b.clone();
        let waiting = tokio::spawn(async move { b2.admit(None).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        assert!(
            !b.admit(Some(w.id)).await,
            "the watcher itself is never held"
        );
        assert!(!waiting.is_finished());
        drop(w);
        let waited = tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .expect("released when the watch ends")
            .expect("task");
        assert!(waited);
        assert_eq!(b.held(), 1);
    }

    #[tokio::test]
    async fn the_watchers_own_sign_ins_are_reserved_before_it_makes_them() {
        // A cap of two is filled by the watcher's session and its sibling: nothing else
        // may sign in meanwhile, even before the watcher has signed in at all.
        let b = SessionBudget::new(Some(2));
        let w = b.watch().expect("a cap");
        let b2 = b.clone();
        let waiting = tokio::spawn(async move { b2.admit(None).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(w);
        assert!(waiting.await.expect("task"));
    }
}
