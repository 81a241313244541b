//! Signing in and out, capturing sessions, and replaying them (ASVS 3.3.1, 5.0 7.4.1;
//! WSTG-SESS-06). Unlike a same-browser logout check, the captured credential is
//! replayed from outside the browser, over the API and the realtime channel.

use cucumber::step::Context;

use super::capture;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::{ApiSignIn, UiSignIn};
use crate::model::Channel;
use crate::secret::Secret;

pub async fn fresh_browser(w: &mut World, _c: &Context) -> StepResult {
    w.open_browser().await
}

pub async fn sign_in_ui(w: &mut World, _c: &Context) -> StepResult {
    w.ensure_browser().await?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let target = &t.target;
    let account = &target.config.account;
    let sent = chrono::Utc::now();
    match t
        .ui_sign_in(w.watch_id(), w.browser()?, &account.password, &|m| {
            w.report(m)
        })
        .await?
    {
        UiSignIn::SignedIn => {}
        UiSignIn::Rejected { shown } | UiSignIn::Throttled { shown } => {
            return Err(Failure::Infra(format!(
                "the login page refused the configured account {} (it showed: {shown}); check its credentials",
                account.login
            )));
        }
        UiSignIn::Silent { waited } => {
            return Err(Failure::Infra(format!(
                "the login page showed neither the signed-in page nor an error within {} after submitting the configured account {}",
                crate::duration::human(waited),
                account.login
            )));
        }
    }
    let obs = w.browser()?.observe().await?;
    w.note(format!(
        "signed in through {} as {}",
        a.login_page(target),
        account.login
    ));
    w.note(format!("browser holds {}", obs.summary()));
    let planted = w.planted.clone();
    if let Some((cred, note)) =
        crate::apps::live_credential(a.as_ref(), target, &obs, planted.as_ref()).await?
    {
        let mut cred = a.enrich(target, cred).await?;
        // Reckon the session's age from the form's submission, as the server does.
        cred.obtained_at = sent;
        w.note(format!("browser session: {cred}"));
        if let Some(n) = note {
            w.note(n);
        }
        w.capture_session("browser", cred).await?;
    }
    w.last_observation = Some(obs);
    Ok(())
}

pub async fn sign_in_ui_wrong_password(w: &mut World, _c: &Context) -> StepResult {
    w.ensure_browser().await?;
    let t = w.rt()?.clone();
    let target = &t.target;
    let wrong = Secret::new(format!(
        "{}-not-the-password",
        target.config.account.password.expose()
    ));
    target.masker.register(&wrong);
    let outcome = t
        .ui_sign_in(w.watch_id(), w.browser()?, &wrong, &|m| w.report(m))
        .await?;
    match &outcome {
        UiSignIn::SignedIn => w.note("the login page signed in with a wrong password"),
        UiSignIn::Rejected { shown } | UiSignIn::Throttled { shown } => w.note(format!(
            "the login page refused the wrong password and showed: {shown}"
        )),
        UiSignIn::Silent { waited } => w.note(format!(
            "after submitting a wrong password the login form stayed, with no error, for {}",
            crate::duration::human(*waited)
        )),
    }
    w.last_observation = Some(w.browser()?.observe().await?);
    w.ui_outcome = Some(outcome);
    Ok(())
}

pub async fn sign_in_api(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let cred = api_sign_in(w).await?;
    w.note(format!("{role} session signed in through the API: {cred}"));
    w.capture_session(&role, cred).await
}

pub async fn api_sign_in(w: &World) -> Result<crate::model::Credential, Failure> {
    let t = w.rt()?.clone();
    let account = &t.target.config.account;
    match t
        .api_sign_in(w.watch_id(), &account.password, &|m| w.report(m))
        .await?
    {
        ApiSignIn::SignedIn(cred) => Ok(cred),
        ApiSignIn::Rejected { evidence } | ApiSignIn::Throttled { evidence } => {
            Err(Failure::Infra(format!(
                "the API refused the configured account {}: {evidence}",
                account.login
            )))
        }
    }
}

pub async fn open_realtime(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("second").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let link = a.realtime_open(&t.target, &cred).await?;
    w.note(format!(
        "realtime connection open and authenticated with the {role} session"
    ));
    w.realtime.insert(super::world::role_key(&role), link);
    Ok(())
}

pub async fn sign_out_ui(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    a.sign_out_ui(&t.target, w.browser()?).await?;
    w.note("signed out through the user interface");
    Ok(())
}

pub async fn sign_out_api(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let evidence = a.sign_out_api(&t.target, &cred).await?;
    w.context_note = Some("after signing out".into());
    w.note(format!(
        "signed out the {role} session through the API: {evidence}"
    ));
    Ok(())
}

pub async fn holds_credential(w: &mut World, _c: &Context) -> StepResult {
    let a = w.adapter()?;
    let t = w.rt()?.clone();
    let obs = w.browser()?.observe().await?;
    match crate::apps::live_credential(a.as_ref(), &t.target, &obs, None).await? {
        Some((cred, _)) => {
            w.note(format!("the browser holds a session credential: {cred}"));
            Ok(())
        }
        None => Err(Failure::Finding(format!(
            "after signing in the browser holds no session credential ({})",
            obs.summary()
        ))),
    }
}

/// What the application said of the candidates the browser holds.
enum Asked {
    /// The first it accepts, with the answer.
    Accepted(crate::model::Credential, String),
    /// None: a line per candidate, refused ("anonymous").
    Anonymous(Vec<String>),
}

/// Asks the application about each candidate, in turn, until one is accepted.
async fn ask_about(w: &World, candidates: &[crate::model::Credential]) -> Result<Asked, Failure> {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let mut anonymous = Vec::new();
    for cred in candidates {
        let r = a
            .accepts(&t.target, cred)
            .await
            .map_err(|e| Failure::Infra(format!("asking the application about {cred}: {e:#}")))?;
        if r.accepted {
            return Ok(Asked::Accepted(cred.clone(), r.evidence));
        }
        anonymous.push(format!(
            "{cred}: anonymous (refused: {})",
            crate::model::brief(&r.evidence)
        ));
    }
    Ok(Asked::Anonymous(anonymous))
}

/// A credential is what the application accepts, not a cookie name: an application that
/// gives every visitor a session cookie keeps one after a wrong password too. Each
/// candidate the browser holds is asked about; a refusal counts once a real session
/// (signed in with the right password) is shown accepted by the same request.
pub async fn holds_no_credential(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let obs = w.browser()?.observe().await?;
    let candidates = a.credentials_in(&obs);
    if candidates.is_empty() {
        w.note(format!(
            "the browser holds no session credential ({})",
            obs.summary()
        ));
        return Ok(());
    }
    let anonymous = match ask_about(w, &candidates).await? {
        Asked::Accepted(cred, evidence) => {
            return Err(Failure::Finding(format!(
                "a sign-in with a wrong password left a session the application accepts in the browser: {cred} ({evidence})"
            )));
        }
        Asked::Anonymous(lines) => lines,
    };
    // The control: the same request accepts a real session.
    let password = t.target.config.account.password.clone();
    let real = match t.api_sign_in(w.watch_id(), &password, &|_| {}).await? {
        crate::apps::ApiSignIn::SignedIn(cred) => cred,
        crate::apps::ApiSignIn::Rejected { evidence }
        | crate::apps::ApiSignIn::Throttled { evidence } => {
            return Err(Failure::Infra(format!(
                "the browser holds cookies named like the session, and no real session could be signed in to show that the application would accept one: {evidence}"
            )));
        }
    };
    let control = a.accepts(&t.target, &real).await;
    let _ = a.sign_out_api(&t.target, &real).await;
    let control =
        control.map_err(|e| Failure::Infra(format!("the control replay failed: {e:#}")))?;
    if !control.accepted {
        return Err(Failure::no_baseline(
            "the API",
            &format!(
                "a session signed in with the right password is refused too ({}), so a refusal of the cookies left after the wrong password shows nothing",
                control.evidence
            ),
        ));
    }
    for line in anonymous {
        w.note(line);
    }
    w.note(format!(
        "control: a session signed in with the right password is accepted by the same request ({})",
        crate::model::brief(&control.evidence)
    ));
    Ok(())
}

pub async fn login_page_shows_error(w: &mut World, _c: &Context) -> StepResult {
    match &w.ui_outcome {
        Some(UiSignIn::Rejected { shown }) => {
            let shown = shown.clone();
            w.note(format!("the login page showed: {shown}"));
            Ok(())
        }
        Some(UiSignIn::SignedIn) => Err(Failure::Finding(
            "the login page signed the user in with a wrong password".into(),
        )),
        Some(UiSignIn::Throttled { shown }) => {
            Err(Failure::Infra(format!("sign-ins are throttled: {shown}")))
        }
        Some(UiSignIn::Silent { waited }) => Err(Failure::Finding(format!(
            "the login page refused the wrong password without saying so: the form stayed, with no error, for {} [WSTG-ATHN-04]",
            crate::duration::human(*waited)
        ))),
        None => Err(Failure::Infra(
            "no sign-in was attempted by an earlier step".into(),
        )),
    }
}

pub async fn accepted_by_api(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let r = a.accepts(&t.target, &cred).await?;
    if r.accepted {
        w.note(format!(
            "{role} session accepted by the API: {}",
            r.evidence
        ));
        Ok(())
    } else {
        Err(Failure::Finding(format!(
            "the {role} session is rejected by the API{}: {}",
            w.context_suffix(),
            r.evidence
        )))
    }
}

pub async fn rejected_by_api(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let still = format!("the {role} session is still accepted by the API");
    let refused = format!("{role} session rejected by the API");
    expect_refusal(w, &role, Channel::Api, &still, &refused).await
}

pub async fn realtime_rejected(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let still = format!("the realtime channel still accepts the {role} session");
    let refused = format!("realtime channel refused the {role} session");
    expect_refusal(w, &role, Channel::Realtime, &still, &refused).await
}

/// Replays the `role` session over `channel` and requires a refusal that rests on its
/// baseline, and that the absolute lifetime cannot explain. `still`
/// and `refused` open the finding and the evidence line.
async fn expect_refusal(
    w: &mut World,
    role: &str,
    channel: Channel,
    still: &str,
    refused: &str,
) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let base = w.baseline_of(role, channel)?;
    let cred = w.session(role)?.clone();
    let started = chrono::Utc::now();
    let r = match channel {
        Channel::Api => a.accepts(&t.target, &cred).await?,
        Channel::Realtime => a.realtime_accepts(&t.target, &cred).await?,
        Channel::LongLived => {
            return Err(Failure::Infra(
                "long-lived credentials are judged by their own step".into(),
            ));
        }
    };
    let now = cred.since_capture(started);
    if r.accepted {
        return Err(Failure::Finding(format!(
            "{still}{}: {base} … still accepted at {now} ({})",
            w.context_suffix(),
            r.evidence
        )));
    }
    w.within_lifetime(role, started)?;
    w.note(format!(
        "{refused}{}: {base} … refused at {now} ({})",
        w.context_suffix(),
        r.evidence
    ));
    Ok(())
}

pub async fn realtime_closed(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("second").to_string();
    let a = w.adapter()?;
    let deadline = a.realtime_close_deadline();
    let key = super::world::role_key(&role);
    let mut link = w.realtime.remove(&key).ok_or_else(|| {
        Failure::Infra(format!(
            "no realtime connection was opened with the {role} session"
        ))
    })?;
    let ended = link.ended_within(deadline).await;
    w.realtime.insert(key, link);
    match ended? {
        Some(why) => {
            // Seen closed now: a close the lifetime could explain proves nothing.
            w.within_lifetime(&role, chrono::Utc::now())?;
            w.note(format!(
                "the server ended the {role} session's realtime connection: {why}"
            ));
            Ok(())
        }
        None => Err(Failure::Finding(format!(
            "the realtime connection of the {role} session is still open {} later: it keeps receiving events",
            crate::duration::human(deadline)
        ))),
    }
}

pub async fn no_longer_holds(w: &mut World, _c: &Context) -> StepResult {
    let cred = w.session("browser")?.clone();
    // A cookie the browser dropped at its expiry, or kept because a sign-out of an
    // expired session cleared nothing, says nothing about the sign-out.
    w.within_lifetime("browser", chrono::Utc::now())?;
    let app = w.adapter()?.login_page(w.target()?);
    let obs = w.browser()?.observe_app(&app).await?;
    let places = obs.places_holding(cred.token.expose());
    if !places.is_empty() {
        return Err(Failure::Finding(format!(
            "after signing out the browser still holds the session token in {} [ASVS 5.0 14.3.1]",
            places.join(", ")
        )));
    }
    // What the browser now holds where sessions live is a session only if the application
    // accepts it: an anonymous replacement is fine, a new signed-in session is not.
    let others: Vec<_> = w
        .adapter()?
        .credentials_in(&obs)
        .into_iter()
        .filter(|c| c.token != cred.token)
        .collect();
    let anonymous = match ask_about(w, &others).await? {
        Asked::Accepted(other, evidence) => {
            return Err(Failure::Finding(format!(
                "after signing out the browser holds another session the application accepts: {other} ({}): the \
                 sign-out signed the browser in again [ASVS 5.0 7.4.1]",
                crate::model::brief(&evidence)
            )));
        }
        Asked::Anonymous(lines) => lines,
    };
    if !anonymous.is_empty() {
        // Those refusals count only against a session the same request accepted.
        let base = w.baseline_of("browser", crate::model::Channel::Api)?;
        w.note(format!(
            "the signed-in session presented the same way was {base}"
        ));
    }
    for line in anonymous {
        w.note(line);
    }
    w.note(format!(
        "after signing out the browser holds {}",
        obs.summary()
    ));
    Ok(())
}

bind! {
    fresh_browser => fresh_browser,
    sign_in_ui => sign_in_ui,
    sign_in_ui_wrong => sign_in_ui_wrong_password,
    sign_in_api => sign_in_api,
    open_realtime => open_realtime,
    sign_out_ui => sign_out_ui,
    sign_out_api => sign_out_api,
    holds => holds_credential,
    holds_none => holds_no_credential,
    shows_error => login_page_shows_error,
    accepted => accepted_by_api,
    rejected => rejected_by_api,
    rt_rejected => realtime_rejected,
    rt_closed => realtime_closed,
    no_longer_holds => no_longer_holds,
}

/// This module's phrases, in the order the phrase book lists them.
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
        run: run::fresh_browser,
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
        run: run::sign_in_ui,
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
        run: run::sign_in_ui,
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
        run: run::sign_in_ui_wrong,
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
        run: run::sign_in_api,
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
        run: run::sign_in_api,
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
        run: run::open_realtime,
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
        run: run::sign_out_ui,
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
        run: run::sign_out_api,
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
        run: run::holds,
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
        run: run::holds_none,
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
        run: run::shows_error,
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
        run: run::accepted,
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
        run: run::rejected,
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
        run: run::rt_rejected,
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
        run: run::rt_closed,
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
        run: run::no_longer_holds,
    },
];
