//! Which application a scenario is for: a built-in one, or one a profile file describes.

/// An application: `@rocketchat`, `@chatwoot`, or `@app-<name>` from a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppId {
    RocketChat,
    Chatwoot,
    /// An application described by a profile file (`@app-<name>`).
    Profile(&'static ProfileName),
}

/// A loaded profile's names; leaked once per profile so that [`AppId`] stays `Copy`.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName {
    /// `app-<name>`.
    pub tag: String,
    pub title: String,
}

/// Profile applications' names, registered as their profiles load.
static NAMES: std::sync::Mutex<Vec<&'static ProfileName>> = std::sync::Mutex::new(Vec::new());

/// The application named `app-<name>`, registered on first sight; `true` when new.
pub fn register_name(name: &str, title: &str) -> (AppId, bool) {
    let mut all = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let tag = format!("app-{name}");
    if let Some(n) = all.iter().find(|n| n.tag == tag) {
        return (AppId::Profile(n), false);
    }
    let n: &'static ProfileName = Box::leak(Box::new(ProfileName {
        tag,
        title: title.to_string(),
    }));
    all.push(n);
    (AppId::Profile(n), true)
}

/// Every registered profile application.
pub fn profile_apps() -> Vec<AppId> {
    NAMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|n| AppId::Profile(n))
        .collect()
}

impl AppId {
    /// The built-in applications.
    pub const ALL: [AppId; 2] = [AppId::RocketChat, AppId::Chatwoot];

    /// The Gherkin tag and configuration key: `rocketchat`, `chatwoot`, `app-<name>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::RocketChat => "rocketchat",
            Self::Chatwoot => "chatwoot",
            Self::Profile(p) => p.tag.as_str(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RocketChat => "Rocket.Chat",
            Self::Chatwoot => "Chatwoot",
            Self::Profile(p) => p.title.as_str(),
        }
    }

    /// The prefix of its environment variables: `SESSIONDRILL_ROCKETCHAT`, `SESSIONDRILL_APP_DJANGO`.
    pub fn env_prefix(self) -> String {
        format!(
            "SESSIONDRILL_{}",
            self.tag().to_uppercase().replace('-', "_")
        )
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim_start_matches('@');
        Self::ALL
            .into_iter()
            .chain(profile_apps())
            .find(|a| a.tag() == tag)
    }
}
