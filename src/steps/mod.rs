//! The step vocabulary. One table drives three things: cucumber's step
//! registration, `sessiondrill steps` (the phrase book for writing scenarios
//! without Rust), and the check that every step of every feature is known
//! before anything runs.

pub mod alone;
pub mod blocked;
pub mod bruteforce;
pub mod context;
pub mod cookies;
pub mod expiry;
pub mod password;
pub mod regeneration;
pub mod server_side;
pub mod session;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod traffic;
pub mod transport;
pub mod waits;
pub mod world;

use std::sync::LazyLock;

use cucumber::step::{Collection, Context};
use futures::future::LocalBoxFuture;
use regex::Regex;

use crate::checks::Verdict;
use crate::model::Channel;
use world::{Failure, StepResult, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Given,
    When,
    Then,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::When => "When",
            Kind::Then => "Then",
        }
    }

    pub fn of(ty: cucumber::gherkin::StepType) -> Self {
        match ty {
            cucumber::gherkin::StepType::Given => Kind::Given,
            cucumber::gherkin::StepType::When => Kind::When,
            cucumber::gherkin::StepType::Then => Kind::Then,
        }
    }
}

/// A wait the step itself requires, so the run can plan (and flag `@slow` ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    IdleTimeout,
    MaxLifetime,
}

pub struct StepDef {
    pub kind: Kind,
    /// How a person writes it; `<a|b>` marks a choice, `[...]` an optional part.
    pub phrase: &'static str,
    /// The regex cucumber matches (anchored when compiled).
    pub pattern: &'static str,
    pub example: &'static str,
    pub help: &'static str,
    pub browser: bool,
    pub wait: Option<Wait>,
    /// Channels whose positive control (a baseline at capture) this step's verdict rests on.
    pub needs: &'static [Channel],
    /// Changes account state (a password): the scenario must be tagged `@destructive`.
    pub destructive: bool,
    /// Sends wrong passwords until the account is blocked: the scenario must be tagged
    /// `@bruteforce`, and holds the account alone.
    pub bruteforce: bool,
    /// Loads the target heavily (thousands of sign-ins): runs only once no other scenario
    /// is in flight, so its load cannot push a timed check past its deadline.
    pub alone: bool,
    pub run: cucumber::step::Step<World>,
}

/// The n-th capture of a matched step, if present and non-empty.
pub fn capture(c: &Context, n: usize) -> Option<&str> {
    c.matches
        .get(n)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Judges a pure check's verdict: evidence always, a finding when it does not hold.
pub fn conclude_verdict(w: &mut World, v: Verdict) -> StepResult {
    for line in &v.evidence {
        w.note(line);
    }
    if v.nothing_judged && v.holds() {
        return Err(Failure::NotApplicable(v.evidence.join("; ")));
    }
    if v.holds() {
        Ok(())
    } else {
        Err(Failure::Finding(v.failure_message()))
    }
}

macro_rules! bind {
    ($($name:ident => $f:path),* $(,)?) => {
        $(
            fn $name(w: &mut World, c: Context) -> LocalBoxFuture<'_, ()> {
                Box::pin(async move {
                    let result = $f(w, &c).await;
                    w.conclude(result);
                })
            }
        )*
    };
}

bind! {
    fresh_browser => session::fresh_browser,
    sign_in_ui => session::sign_in_ui,
    sign_in_ui_wrong => session::sign_in_ui_wrong_password,
    sign_in_api => session::sign_in_api,
    open_realtime => session::open_realtime,
    observed => cookies::observed_after_sign_in,
    plant => regeneration::plant_token,
    sign_out_ui => session::sign_out_ui,
    sign_out_api => session::sign_out_api,
    change_password => password::change_password,
    leave_idle => expiry::leave_idle,
    keep_past_idle => expiry::keep_using_past_idle,
    keep_past_lifetime => expiry::keep_using_past_lifetime,
    sign_in_twice => regeneration::sign_in_twice,
    open_link => regeneration::open_token_link,
    holds => session::holds_credential,
    holds_none => session::holds_no_credential,
    shows_error => session::login_page_shows_error,
    accepted => session::accepted_by_api,
    rejected => session::rejected_by_api,
    rt_rejected => session::realtime_rejected,
    rt_closed => session::realtime_closed,
    no_longer_holds => session::no_longer_holds,
    secure => cookies::secure,
    http_only => cookies::http_only,
    same_site => cookies::same_site,
    scope => cookies::scope,
    host_prefix => cookies::host_prefix,
    unreadable => cookies::not_readable_by_script,
    advertised => expiry::advertised_lifetime,
    never_rejected => expiry::never_rejected_while_in_use,
    rejected_by_deadline => expiry::rejected_by_deadline,
    differ => regeneration::two_sign_ins_differ,
    not_planted => regeneration::session_is_not_planted,
    planted_rejected => regeneration::planted_rejected,
    not_issued => regeneration::session_is_not_issued,
    issued_rejected => regeneration::issued_rejected,
    not_signed_in => regeneration::browser_not_signed_in,
    http_redirects => transport::http_redirects,
    hsts => transport::hsts_one_year,
    login_page_open => server_side::login_page_open,
    session_replaced => server_side::server_session_replaced,
    long_lived_rejected => server_side::long_lived_rejected,
    known_secret => server_side::not_sealed_with_known_secret,
    only_modern_tls => tls::only_modern_tls,
    certificate_sound => tls::certificate_sound,
    stores_refuse => store::stores_refuse,
    collect_tokens => tokens::collect_tokens,
    tokens_strong => tokens::tokens_strong,
    not_cacheable => tokens::not_cacheable,
    forged_refused => tokens::forged_refused,
    wrong_until_blocked => bruteforce::wrong_until_blocked,
    blocked_within_bound => bruteforce::blocked_within_bound,
    forwarded_does_not_lift => bruteforce::forwarded_does_not_lift,
    block_ends => bruteforce::block_ends,
    no_mixed_content => traffic::no_mixed_content,
    credentials_over_tls => traffic::credentials_over_tls,
    token_not_in_urls => traffic::token_not_in_urls,
}

macro_rules! role {
    ($before:literal, $after:literal) => {
        concat!($before, "(browser|API|second)", $after)
    };
}

pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::Given,
        phrase: "a fresh browser",
        pattern: "a fresh browser",
        example: "Given a fresh browser",
        help: "Starts headless Chromium with an empty profile for this scenario.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: fresh_browser,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "I am signed in through the login page",
        pattern: "I am signed in through the login page",
        example: "Given I am signed in through the login page",
        help: "Signs in as the configured account by filling the real login form; captures the browser session.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_ui,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign in through the login page",
        pattern: "I sign in through the login page",
        example: "When I sign in through the login page",
        help: "As the Given form, as the action under test.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_ui,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign in through the login page with a wrong password",
        pattern: "I sign in through the login page with a wrong password",
        example: "When I sign in through the login page with a wrong password",
        help: "Submits the login form with a wrong password (one failed attempt counts toward lockouts).",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_ui_wrong,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "I am signed in through the API",
        pattern: "I am signed in through the API",
        example: "Given I am signed in through the API",
        help: "Signs in through the REST API; the session's role is `API`.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_api,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "a second session is signed in through the API",
        pattern: "a (second) session is signed in through the API",
        example: "And a second session is signed in through the API",
        help: "Another API sign-in of the same account; role `second`.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_api,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "a realtime connection is open with the <browser|API|second> session",
        pattern: role!("a realtime connection is open with the ", " session"),
        example: "And a realtime connection is open with the second session",
        help: "Opens the app's realtime channel (DDP, ActionCable) authenticated with that session and keeps it open.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: open_realtime,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "the cookies and storage of a browser signed in through the login page",
        pattern: "the cookies and storage of a browser signed in through the login page",
        example: "Given the cookies and storage of a browser signed in through the login page",
        help: "Signs in through the login page once per run and shares what the browser then holds.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: observed,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "a session token is planted in the browser",
        pattern: "a session token is planted in the browser",
        example: "And a session token is planted in the browser",
        help: "Writes an attacker-chosen token wherever the app reads a session from (cookies, storage).",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: plant,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign out through the user interface",
        pattern: "I sign out through the user interface",
        example: "When I sign out through the user interface",
        help: "Uses the app's own sign-out control.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_out_ui,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign out [the <browser|API|second> session ]through the API",
        pattern: "I sign out (?:the (browser|API|second) session )?through the API",
        example: "When I sign out through the API",
        help: "Calls the API's sign-out with that session (default `API`).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_out_api,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I change the password using the <browser|API|second> session",
        pattern: role!("I change the password using the ", " session"),
        example: "When I change the password using the browser session",
        help: "Changes the account's password through the API with that session; always changed back afterwards. Tag the scenario @destructive.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: true,
        alone: false,
        bruteforce: false,
        run: change_password,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I leave the <browser|API|second> session untouched for the idle timeout plus grace",
        pattern: role!(
            "I leave the ",
            " session untouched for the idle timeout plus grace"
        ),
        example: "When I leave the API session untouched for the idle timeout plus grace",
        help: "Waits the expected idle timeout plus grace without using the session.",
        browser: false,
        wait: Some(Wait::IdleTimeout),
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: leave_idle,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I keep using the <browser|API|second> session until the idle timeout plus grace has passed",
        pattern: role!(
            "I keep using the ",
            " session until the idle timeout plus grace has passed"
        ),
        example: "When I keep using the API session until the idle timeout plus grace has passed",
        help: "Uses the session every third of the idle timeout until idle timeout plus grace has passed.",
        browser: false,
        wait: Some(Wait::IdleTimeout),
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: keep_past_idle,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I keep using the <browser|API|second> session until the maximum lifetime plus grace has passed",
        pattern: role!(
            "I keep using the ",
            " session until the maximum lifetime plus grace has passed"
        ),
        example: "When I keep using the API session until the maximum lifetime plus grace has passed",
        help: "Uses the session continuously until it is rejected or the maximum lifetime plus grace (plus the app's sweep delay) has passed.",
        browser: false,
        wait: Some(Wait::MaxLifetime),
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: keep_past_lifetime,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign in through the API twice",
        pattern: "I sign in through the API twice",
        example: "When I sign in through the API twice",
        help: "Two API sign-ins of the same account (`sign-in 1`, `sign-in 2`).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: sign_in_twice,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I open a link carrying the <browser|API|second> session's token in the browser",
        pattern: role!(
            "I open a link carrying the ",
            " session's token in the browser"
        ),
        example: "When I open a link carrying the API session's token in the browser",
        help: "Builds the app's sign-in link for that token (e.g. Rocket.Chat's ?resumeToken=) and opens it in the scenario's browser.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: open_link,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser holds a session credential",
        pattern: "the browser holds a session credential",
        example: "Then the browser holds a session credential",
        help: "The app's session credential is found in the browser's cookies or storage.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: holds,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser holds no session credential",
        pattern: "the browser holds no session credential",
        example: "Then the browser holds no session credential",
        help: "No session credential is found in the browser.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: holds_none,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the login page shows an error",
        pattern: "the login page shows an error",
        example: "And the login page shows an error",
        help: "The last page sign-in was refused with a visible error.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: shows_error,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the <browser|API|second> session is accepted by the API",
        pattern: role!("the ", " session is accepted by the API"),
        example: "And the browser session is accepted by the API",
        help: "Replays the session against the API's who-am-I request; it must work.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: accepted,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the <browser|API|second> session is rejected by the API",
        pattern: role!("the ", " session is rejected by the API"),
        example: "Then the browser session is rejected by the API",
        help: "Replays the captured session from outside the browser; it must be refused.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "resuming the <browser|API|second> session over the realtime channel is rejected",
        pattern: role!(
            "resuming the ",
            " session over the realtime channel is rejected"
        ),
        example: "And resuming the browser session over the realtime channel is rejected",
        help: "A fresh realtime connection authenticated with the session must be refused.",
        browser: false,
        wait: None,
        needs: &[Channel::Realtime],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: rt_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the realtime connection of the <browser|API|second> session is closed",
        pattern: role!("the realtime connection of the ", " session is closed"),
        example: "And the realtime connection of the second session is closed",
        help: "The server ends the open realtime connection of that session (within the app's own delay).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: rt_closed,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser no longer holds the session token",
        pattern: "the browser no longer holds the session token",
        example: "And the browser no longer holds the session token",
        help: "The browser session's token is in no cookie and no web storage.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: no_longer_holds,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "every session cookie is Secure",
        pattern: "every session cookie is Secure",
        example: "Then every session cookie is Secure",
        help: "ASVS 3.4.1.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: secure,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "every session cookie is HttpOnly",
        pattern: "every session cookie is HttpOnly",
        example: "Then every session cookie is HttpOnly",
        help: "ASVS 3.4.2.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: http_only,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "every session cookie has SameSite Lax or Strict",
        pattern: "every session cookie has SameSite Lax or Strict",
        example: "Then every session cookie has SameSite Lax or Strict",
        help: "Set explicitly; ASVS 3.4.3.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: same_site,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "every session cookie is host-only and scoped to the application's path",
        pattern: "every session cookie is host-only and scoped to the application's path",
        example: "Then every session cookie is host-only and scoped to the application's path",
        help: "No Domain attribute, Path within the app's; ASVS 3.4.5.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: scope,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "every session cookie has the __Host- prefix",
        pattern: "every session cookie has the __Host- prefix",
        example: "Then every session cookie has the __Host- prefix",
        help: "ASVS 3.4.4.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: host_prefix,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "page script cannot read the session token",
        pattern: "page script cannot read the session token",
        example: "Then page script cannot read the session token",
        help: "Not via document.cookie, localStorage or sessionStorage; ASVS 3.2.3, 3.4.2.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: unreadable,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the advertised session lifetime is within the expected maximum",
        pattern: "the advertised session lifetime is within the expected maximum",
        example: "Then the advertised session lifetime is within the expected maximum",
        help: "Token and cookie expiries told to the browser are within the maximum lifetime plus grace.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: advertised,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the session was never rejected while in use",
        pattern: "the session was never rejected while in use",
        example: "Then the session was never rejected while in use",
        help: "Activity kept the session alive past the idle timeout.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: never_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the session was rejected before the maximum lifetime plus grace ended",
        pattern: "the session was rejected before the maximum lifetime plus grace ended",
        example: "Then the session was rejected before the maximum lifetime plus grace ended",
        help: "The absolute lifetime is enforced even for a session in continuous use.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: rejected_by_deadline,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the two sign-ins yielded different session tokens",
        pattern: "the two sign-ins yielded different session tokens",
        example: "Then the two sign-ins yielded different session tokens",
        help: "ASVS 3.2.1.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: differ,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser session is not the planted token",
        pattern: "the browser session is not the planted token",
        example: "Then the browser session is not the planted token",
        help: "The sign-in did not adopt the planted value.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: not_planted,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the planted token is rejected by the API",
        pattern: "the planted token is rejected by the API",
        example: "And the planted token is rejected by the API",
        help: "The attacker's value does not authenticate after the victim signs in.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: planted_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser session is not the id issued before sign-in",
        pattern: "the browser session is not the id issued before sign-in",
        example: "Then the browser session is not the id issued before sign-in",
        help: "WSTG-SESS-03: the session id the login page handed out (after `the login page is open`) did not survive the sign-in.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: not_issued,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the id issued before sign-in is rejected by the API",
        pattern: "the id issued before sign-in is rejected by the API",
        example: "And the id issued before sign-in is rejected by the API",
        help: "The id handed out before sign-in, replayed frozen in the victim's place, does not authenticate.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: issued_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser is not signed in with the <browser|API|second> session",
        pattern: role!("the browser is not signed in with the ", " session"),
        example: "Then the browser is not signed in with the API session",
        help: "The page shows no signed-in user and holds none of that session's token.",
        browser: true,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: not_signed_in,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "plain HTTP requests are redirected to HTTPS",
        pattern: "plain HTTP requests are redirected to HTTPS",
        example: "Then plain HTTP requests are redirected to HTTPS",
        help: "ASVS 9.1.1; a closed HTTP port also passes.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: http_redirects,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "HTTPS responses carry HSTS with a max-age of at least one year",
        pattern: "HTTPS responses carry HSTS with a max-age of at least one year",
        example: "Then HTTPS responses carry HSTS with a max-age of at least one year",
        help: "ASVS 5.0 3.4.1.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: hsts,
    },
    StepDef {
        kind: Kind::Given,
        phrase: "the login page is open",
        pattern: "the login page is open",
        example: "And the login page is open",
        help: "Opens the login page in the scenario's browser and remembers the cookies it holds before sign-in.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: login_page_open,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the server session cookie was replaced at sign-in",
        pattern: "the server session cookie was replaced at sign-in",
        example: "Then the server session cookie was replaced at sign-in",
        help: "The framework's own session cookie (e.g. Rails `_chatwoot_session`) differs before and after sign-in.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: session_replaced,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the <browser|API|second> session's long-lived credentials are rejected by the API",
        pattern: role!(
            "the ",
            " session's long-lived credentials are rejected by the API"
        ),
        example: "Then the API session's long-lived credentials are rejected by the API",
        help: "Replays the long-lived tokens handed out with the session (Chatwoot's api_access_token); they must be refused.",
        browser: false,
        wait: None,
        needs: &[Channel::LongLived],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: long_lived_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the server session cookie is not sealed with a publicly known secret",
        pattern: "the server session cookie is not sealed with a publicly known secret",
        example: "Then the server session cookie is not sealed with a publicly known secret",
        help: "Tries every known SECRET_KEY_BASE (data/rails-secret-key-bases.txt, SESSIONDRILL_SECRET_KEY_BASES) on the Rails cookies.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: known_secret,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "only TLS 1.2 or newer is accepted",
        pattern: "only TLS 1.2 or newer is accepted",
        example: "Then only TLS 1.2 or newer is accepted",
        help: "On the application's and its websocket's TLS endpoints: a real TLS 1.2 or 1.3 handshake completes (the control), and a hand-written TLS 1.0 and 1.1 ClientHello is refused.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: only_modern_tls,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the certificate is trusted, valid for the host and not about to expire",
        pattern: "the certificate is trusted, valid for the host and not about to expire",
        example: "Then the certificate is trusted, valid for the host and not about to expire",
        help: "Validates the presented chain against the platform's roots (plus `ca_file`), for the host, now and at the end of the warning window (`cert_warn`, default 30 days).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: certificate_sound,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the session stores refuse clients without credentials",
        pattern: "the session stores refuse clients without credentials",
        example: "Then the session stores refuse clients without credentials",
        help: "Asks each configured store (`SESSIONDRILL_<APP>_STORE`) without credentials: Redis PING must answer NOAUTH, PostgreSQL must ask for a password, MongoDB must refuse listDatabases.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: stores_refuse,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I collect fresh session tokens through the API",
        pattern: "I collect fresh session tokens through the API",
        example: "When I collect fresh session tokens through the API",
        help: "Signs in through the API `token_samples` times (default 1,000; 2,000 on reference targets), respecting the sign-in throttle, and signs every session out again.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: true,
        bruteforce: false,
        run: collect_tokens,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the tokens show no statistical weakness and at least 128 effective bits",
        pattern: "the tokens show no statistical weakness and at least 128 effective bits",
        example: "Then the tokens show no statistical weakness and at least 128 effective bits",
        help: "Decodes the tokens and tests every bit position with the FIPS 140-2 tests, as Burp Sequencer does; effective bits are the positions that pass. Statistics prove weakness only.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: tokens_strong,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "answers carrying the (browser|API|second) session's data are not cacheable",
        pattern: role!("answers carrying the ", " session's data are not cacheable"),
        example: "Then answers carrying the API session's data are not cacheable",
        help: "The API's own \"who am I\" answer for the session (which must be accepted) carries Cache-Control: no-store, or private, no-cache with Pragma: no-cache.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: not_cacheable,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "forged and random variants of the (browser|API|second) session's token are refused by the API",
        pattern: role!(
            "forged and random variants of the ",
            " session's token are refused by the API"
        ),
        example: "Then forged and random variants of the API session's token are refused by the API",
        help: "The real token (accepted when captured) with its last, middle or first character changed or its case swapped, and random tokens of its length and alphabet, are each refused by the API as the application refuses an unknown token.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: forged_refused,
    },
    StepDef {
        kind: Kind::When,
        phrase: "wrong passwords are sent through the API until sign-in is blocked",
        pattern: "wrong passwords are sent through the API until sign-in is blocked",
        example: "When wrong passwords are sent through the API until sign-in is blocked",
        help: "Sends wrong passwords for the configured account through the API, up to one past the lockout bound (the application's own, or lockout = \"10/5m\"); the first must be refused as a wrong password (the control). Blocks the account: the scenario must be tagged @bruteforce, and the block is waited out at its end.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: true,
        run: wrong_until_blocked,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "sign-in was blocked within the expected number of failures",
        pattern: "sign-in was blocked within the expected number of failures",
        example: "Then sign-in was blocked within the expected number of failures",
        help: "An answer the application gives only to a blocked sign-in (Rocket.Chat error-login-blocked-*, a 429, devise's locked account) came within the bound plus one.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: blocked_within_bound,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "a forged X-Forwarded-For or X-Real-IP does not lift the block",
        pattern: "a forged X-Forwarded-For or X-Real-IP does not lift the block",
        example: "Then a forged X-Forwarded-For or X-Real-IP does not lift the block",
        help: "One more wrong password, claiming a documentation address (203.0.113.x) in X-Forwarded-For and X-Real-IP, is still answered as blocked.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: forwarded_does_not_lift,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the account signs in again once the block has passed",
        pattern: "the account signs in again once the block has passed",
        example: "Then the account signs in again once the block has passed",
        help: "Waits the block's length plus grace after the last failure, then signs in once with the right password: still blocked is a finding (a block that never ends lets anyone lock users out).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: block_ends,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the pages loaded nothing over plain HTTP",
        pattern: "the pages loaded nothing over plain HTTP",
        example: "Then the pages loaded nothing over plain HTTP",
        help: "From the browser's performance log and console: no page and no subresource came over http: (DevTools mixedContentType, blockedReason mixed-content, \"Mixed Content:\" console lines). The log must show the pages' own loads.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: no_mixed_content,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the credentials were sent only over HTTPS",
        pattern: "the credentials were sent only over HTTPS",
        example: "Then the credentials were sent only over HTTPS",
        help: "Every request or websocket frame the browser sent carrying the password (as typed, encoded, or as the SHA-256 digest Meteor sends) went to https: or wss:. At least one must be seen.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: credentials_over_tls,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "no address, Referer or redirect carried the session token",
        pattern: "no address, Referer or redirect carried the session token",
        example: "Then no address, Referer or redirect carried the session token",
        help: "The browser session's token (and the long-lived tokens handed out with it) appears in no URL the browser requested, no Referer it sent and no Location it was redirected to.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: token_not_in_urls,
    },
];

static COMPILED: LazyLock<Vec<(Regex, &'static StepDef)>> = LazyLock::new(|| {
    STEPS
        .iter()
        .map(|d| {
            (
                Regex::new(&format!("^{}$", d.pattern)).expect("step patterns are valid regexes"),
                d,
            )
        })
        .collect()
});

/// Every step, registered with cucumber.
pub fn collection() -> Collection<World> {
    let mut c = Collection::new();
    for (re, d) in COMPILED.iter() {
        c = match d.kind {
            Kind::Given => c.given(None, re.clone(), d.run),
            Kind::When => c.when(None, re.clone(), d.run),
            Kind::Then => c.then(None, re.clone(), d.run),
        };
    }
    c
}

/// The step definition a feature line uses, if any.
pub fn find(kind: Kind, text: &str) -> Option<&'static StepDef> {
    COMPILED
        .iter()
        .find(|(re, d)| d.kind == kind && re.is_match(text))
        .map(|(_, d)| *d)
}

/// The phrases closest to an unknown step, best first.
pub fn closest(kind: Kind, text: &str, n: usize) -> Vec<&'static StepDef> {
    let mut scored: Vec<(f64, &StepDef)> = STEPS
        .iter()
        .map(|d| {
            let bonus = if d.kind == kind { 0.05 } else { 0.0 };
            (similarity(text, d.phrase) + bonus, d)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(n).map(|(_, d)| d).collect()
}

/// Word-level similarity in 0..=1 (1 - normalised edit distance over words).
pub fn similarity(a: &str, b: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let (n, m) = (a.len(), b.len());
    if n.max(m) == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=m).collect();
    for i in 1..=n {
        let mut cur = vec![i; m + 1];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    1.0 - prev[m] as f64 / n.max(m) as f64
}

/// The phrase book printed by `sessiondrill steps`.
pub fn phrase_book() -> String {
    let mut out = String::from(
        "Steps for sessiondrill scenarios. Each Examples row is tagged with its application\n\
         (@rocketchat or @chatwoot); the same phrases work for every application.\n\
         <a|b> is a choice, [...] is optional. Roles: `browser` is the session captured from the\n\
         browser, `API` and `second` are sessions signed in through the API.\n",
    );
    for kind in [Kind::Given, Kind::When, Kind::Then] {
        out.push_str(&format!("\n{}\n", kind.word()));
        for d in STEPS.iter().filter(|d| d.kind == kind) {
            out.push_str(&format!(
                "  {} {}\n      {}\n      e.g. {}\n",
                kind.word(),
                d.phrase,
                d.help,
                d.example
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_matches_its_own_step_and_only_it() {
        for d in STEPS {
            let text = d.example.split_once(' ').map(|x| x.1).unwrap_or_default();
            let matching: Vec<&str> = COMPILED
                .iter()
                .filter(|(re, e)| e.kind == d.kind && re.is_match(text))
                .map(|(_, e)| e.phrase)
                .collect();
            assert_eq!(matching, vec![d.phrase], "example `{}`", d.example);
        }
    }

    #[test]
    fn roles_are_captured() {
        let d = find(Kind::Then, "the second session is rejected by the API").unwrap();
        assert_eq!(
            d.phrase,
            "the <browser|API|second> session is rejected by the API"
        );
        assert!(find(Kind::When, "I sign out through the API").is_some());
        assert!(find(Kind::When, "I sign out the second session through the API").is_some());
        assert!(find(Kind::Then, "the third session is rejected by the API").is_none());
    }

    #[test]
    fn closest_suggests_the_intended_phrase() {
        // "refused" is one word away from both "accepted" and "rejected": both are offered.
        let c: Vec<&str> = closest(Kind::Then, "the browser session is refused by the API", 3)
            .iter()
            .map(|d| d.phrase)
            .collect();
        assert!(
            c.contains(&"the <browser|API|second> session is rejected by the API"),
            "{c:?}"
        );
        assert!(
            c.contains(&"the <browser|API|second> session is accepted by the API"),
            "{c:?}"
        );
        let c = closest(Kind::Given, "a new browser", 1);
        assert_eq!(c[0].phrase, "a fresh browser");
    }

    #[test]
    fn similarity_is_sane() {
        assert_eq!(similarity("a b c", "a b c"), 1.0);
        assert!(similarity("a b c", "a b d") > similarity("a b c", "x y z"));
    }
}
