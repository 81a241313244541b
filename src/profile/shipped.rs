//! The built-in applications' profiles, shipped inside the binary and read once, by the
//! same rules as a user's profile.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::Profile;
use crate::model::AppId;

const SHIPPED: [(AppId, &str, &str); 2] = [
    (
        AppId::RocketChat,
        "profiles/rocketchat.toml",
        include_str!("../../profiles/rocketchat.toml"),
    ),
    (
        AppId::Chatwoot,
        "profiles/chatwoot.toml",
        include_str!("../../profiles/chatwoot.toml"),
    ),
];

type Read = Vec<(AppId, Result<Arc<Profile>, String>)>;

/// The shipped profile of a built-in application.
pub fn shipped(app: AppId) -> anyhow::Result<Arc<Profile>> {
    static READ: OnceLock<Read> = OnceLock::new();
    let all = READ.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(app, file, text)| {
                let read = Profile::built_in(Path::new(file), text)
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                (*app, read)
            })
            .collect()
    });
    match all.iter().find(|(a, _)| *a == app) {
        Some((_, read)) => read.clone().map_err(|e| anyhow::anyhow!(e)),
        None => anyhow::bail!("{} has no shipped profile", app.name()),
    }
}
