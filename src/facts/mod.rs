//! What the applications are, as read from their source: the built-in applications'
//! constants and page facts. Both the adapters and the reference targets read them, so
//! they sit below both (a wrong fact here is caught by the guards, not by agreement).

pub mod chatwoot;
pub mod rocketchat;
pub mod ui;

use crate::model::AppId;

/// The page facts an application's adapter looks for.
pub fn ui_facts(app: AppId) -> &'static [ui::UiFact] {
    match app {
        AppId::RocketChat => rocketchat::UI,
        AppId::Chatwoot => chatwoot::UI,
        AppId::Profile(_) => &[],
    }
}
