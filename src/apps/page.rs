//! A built-in application's login page: the flows its profile's selectors cannot say
//! (a settle window, a menu item found by text, a toast, a planted JSON cookie). The
//! profile adapter calls it where the profile alone would drive the page.

use url::Url;

use super::{Fut, Target, UiSignIn};
use crate::browser::BrowserSession;
use crate::model::{Credential, Observation};
use crate::secret::Secret;

pub trait Page: Send + Sync {
    /// Signs in at `login` (the profile's login page).
    fn sign_in<'a>(
        &'a self,
        t: &'a Target,
        b: &'a BrowserSession,
        login: Url,
        user: &'a str,
        password: &'a Secret,
    ) -> Fut<'a, UiSignIn>;

    /// Whether the page shows a signed-in user (waits for the page to settle).
    fn is_signed_in<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, bool>;

    /// Signs out and returns once the page shows it happened.
    fn sign_out<'a>(&'a self, t: &'a Target, b: &'a BrowserSession) -> Fut<'a, ()>;

    /// Plants `fake` as the page stores its own session; `None`: as the profile says.
    fn plant<'a>(
        &'a self,
        _t: &'a Target,
        _b: &'a BrowserSession,
        _login: Url,
        _fake: &'a Secret,
    ) -> Option<Fut<'a, Vec<String>>> {
        None
    }

    /// What [`Page::plant`] wrote beside the fake token, as a credential to replay;
    /// `None`: the fake token with the real session's other parts.
    fn planted_credential(&self, _fake: &Secret, _real: &Credential) -> Option<Credential> {
        None
    }

    /// Adds what the page tells its client beside the credentials (an advertised expiry).
    fn refine(&self, _obs: &Observation, _found: &mut [Credential]) {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_known_page_plug_in_exists() {
        for name in crate::profile::schema::PAGE_PLUGINS {
            assert!(crate::apps::page_named(name).is_some(), "{name}");
        }
        assert!(crate::apps::page_named("nope").is_none());
    }
}
