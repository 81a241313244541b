//! Loaded profiles, by the application each makes.

use std::sync::{Arc, Mutex};

use super::Profile;
use crate::model::{AppId, ProfileName, register_name};

static PROFILES: Mutex<Vec<(&'static ProfileName, Arc<Profile>)>> = Mutex::new(Vec::new());

/// Makes a loaded profile an application; the same name twice is the same application
/// (the first profile loaded under it stays).
pub fn register_profile(profile: Profile) -> AppId {
    let (app, new) = register_name(&profile.app.name, &profile.app.title);
    if let (true, AppId::Profile(name)) = (new, app) {
        PROFILES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name, Arc::new(profile)));
    }
    app
}

/// The profile behind a profile application.
pub fn profile_of(app: AppId) -> Option<Arc<Profile>> {
    let AppId::Profile(name) = app else {
        return None;
    };
    PROFILES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p.clone())
}
