//! The page facts an adapter relies on (selectors and page texts), each overridable per
//! application in `sessiondrill.toml` under `[<app>.ui]`, so a changed page is fixed by a
//! setting, not by a new release. `sessiondrill ui` lists them with their current values.

use std::collections::BTreeMap;

/// One selector or page text an adapter looks for.
#[derive(Clone, Copy, Debug)]
pub struct UiFact {
    /// The key under `[<app>.ui]`.
    pub key: &'static str,
    /// CSS selector, XPath, or text, as `kind` says.
    pub default: &'static str,
    pub kind: UiKind,
    /// What it finds, for messages.
    pub what: &'static str,
}

impl UiFact {
    pub const fn css(key: &'static str, default: &'static str, what: &'static str) -> Self {
        Self::new(key, default, UiKind::Css, what)
    }

    pub const fn xpath(key: &'static str, default: &'static str, what: &'static str) -> Self {
        Self::new(key, default, UiKind::XPath, what)
    }

    pub const fn text(key: &'static str, default: &'static str, what: &'static str) -> Self {
        Self::new(key, default, UiKind::Text, what)
    }

    pub const fn path(key: &'static str, default: &'static str, what: &'static str) -> Self {
        Self::new(key, default, UiKind::Path, what)
    }

    const fn new(
        key: &'static str,
        default: &'static str,
        kind: UiKind,
        what: &'static str,
    ) -> Self {
        Self {
            key,
            default,
            kind,
            what,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiKind {
    Css,
    XPath,
    /// A text the page shows; several alternatives separated by `|`.
    Text,
    /// The start of the address of a page.
    Path,
}

impl UiKind {
    pub fn label(self) -> &'static str {
        match self {
            UiKind::Css => "CSS",
            UiKind::XPath => "XPath",
            UiKind::Text => "text",
            UiKind::Path => "path",
        }
    }
}

/// The page facts of one target: the adapter's defaults with the user's overrides.
#[derive(Clone, Debug, Default)]
pub struct Ui {
    app_key: String,
    overrides: BTreeMap<String, String>,
}

impl Ui {
    pub fn new(app_key: &str, overrides: BTreeMap<String, String>) -> Self {
        Self {
            app_key: app_key.to_string(),
            overrides,
        }
    }

    /// The value in force for `fact`.
    pub fn get<'a>(&'a self, fact: &'a UiFact) -> &'a str {
        self.overrides
            .get(fact.key)
            .map(String::as_str)
            .unwrap_or(fact.default)
    }

    /// Text alternatives of a `Text` fact.
    pub fn texts<'a>(&'a self, fact: &'a UiFact) -> Vec<&'a str> {
        self.get(fact)
            .split('|')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// "the user menu (CSS `…`; set `[rocketchat.ui] user_menu` in sessiondrill.toml if the page differs)".
    pub fn describe(&self, fact: &UiFact) -> String {
        format!(
            "{} ({} `{}`; set `[{}.ui] {}` in sessiondrill.toml if the page differs)",
            fact.what,
            fact.kind.label(),
            self.get(fact),
            self.app_key,
            fact.key
        )
    }
}

/// Checks the override keys against the application's facts.
pub fn check_keys(
    app_key: &str,
    facts: &[UiFact],
    overrides: &BTreeMap<String, String>,
) -> Result<(), String> {
    for key in overrides.keys() {
        if !facts.iter().any(|f| f.key == key) {
            let known: Vec<&str> = facts.iter().map(|f| f.key).collect();
            return Err(format!(
                "[{app_key}.ui] {key} is not a page fact of this application; known: {}",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// The listing `sessiondrill ui` prints for one application.
pub fn listing(app_key: &str, facts: &[UiFact], ui: &Ui) -> String {
    let mut out = format!("[{app_key}.ui]\n");
    for f in facts {
        out.push_str(&format!(
            "{} = {:?}    # {} ({})\n",
            f.key,
            ui.get(f),
            f.what,
            f.kind.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MENU: UiFact = UiFact::css(
        "user_menu",
        "button[aria-label=\"User menu\"]",
        "the user menu",
    );

    #[test]
    fn overrides_win_and_messages_name_the_setting() {
        let ui = Ui::new("rocketchat", BTreeMap::new());
        assert_eq!(ui.get(&MENU), MENU.default);
        let ui = Ui::new(
            "rocketchat",
            [("user_menu".to_string(), "#menu".to_string())].into(),
        );
        assert_eq!(ui.get(&MENU), "#menu");
        let d = ui.describe(&MENU);
        assert!(
            d.contains("`#menu`") && d.contains("[rocketchat.ui] user_menu"),
            "{d}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_known_ones() {
        let bad = [("usermenu".to_string(), "x".to_string())].into();
        let err = check_keys("rocketchat", &[MENU], &bad).unwrap_err();
        assert!(err.contains("known: user_menu"), "{err}");
    }
}
