//! Deactivated accounts still to reactivate (`reactivation.rs` undoes them).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::apps::AppId;
use crate::model::Credential;

/// A deactivation to undo: the administrator's session that made it, and the test
/// account's session whose parts (its user id) the requests name.
#[derive(Clone)]
pub struct PendingReactivation {
    pub app: AppId,
    pub admin: Credential,
    pub user: Credential,
}

#[derive(Default)]
pub struct Reactivations {
    pending: Mutex<BTreeMap<u64, PendingReactivation>>,
    next: Mutex<u64>,
}

impl Reactivations {
    pub fn register(&self, r: PendingReactivation) -> u64 {
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, r);
        id
    }

    pub fn take(&self, id: u64) -> Option<PendingReactivation> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }

    pub fn take_all(&self) -> Vec<PendingReactivation> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
            .into_values()
            .collect()
    }
}
