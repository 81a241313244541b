//! Checks on what the server hands out beside the session: long-lived tokens
//! (ASVS 3.3.1, 3.3.3; 5.0 7.4.1, 7.4.3), the framework's own session cookie and the
//! secret sealing it (ASVS 3.2.1, 3.5.3). Applications without these say so.

use cucumber::step::Context;

use super::capture;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::model::Channel;
use crate::secret::Secret;

/// Opens the login page in the scenario's browser and remembers what it then holds.
pub async fn login_page_open(w: &mut World, _c: &Context) -> StepResult {
    w.ensure_browser().await?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let page = a.login_page(&t.target);
    w.browser()?.goto(&page).await?;
    // Wait until the page has settled into its login form.
    if a.is_signed_in_ui(&t.target, w.browser()?).await? {
        return Err(Failure::Infra(
            "a fresh browser shows a signed-in user on the login page".into(),
        ));
    }
    let obs = w.browser()?.observe().await?;
    w.note(format!(
        "before sign-in the browser holds {}",
        obs.summary()
    ));
    w.before_sign_in = Some(obs);
    Ok(())
}

pub async fn server_session_replaced(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let before = w
        .before_sign_in
        .clone()
        .ok_or_else(|| Failure::Infra("the login page was not opened before signing in".into()))?;
    let after = w
        .last_observation
        .clone()
        .ok_or_else(|| Failure::Infra("nothing was observed after signing in".into()))?;
    let pick = |o: &crate::model::Observation| {
        o.cookies
            .iter()
            .find(|c| a.is_server_session_cookie(&c.name))
            .map(|c| (c.name.clone(), c.value.clone()))
    };
    match (pick(&before), pick(&after)) {
        (None, None) => Err(Failure::NotApplicable(format!(
            "{} set no framework session cookie on the login page or after sign-in (looked for the adapter's server session cookie in the browser's jar)",
            t.app().name()
        ))),
        (None, Some((name, value))) => {
            w.note(format!(
                "no {name} before sign-in; after: {value}: nothing could be fixed before sign-in"
            ));
            Ok(())
        }
        (Some((name, old)), Some((_, new))) if old == new => Err(Failure::Finding(format!(
            "the server session cookie {name} ({old}) is the same before and after sign-in: a session fixed before \
             sign-in carries over [ASVS 3.2.1, WSTG-SESS-03]"
        ))),
        (Some((name, old)), Some((_, new))) => {
            // A changed value proves nothing: Rails re-encrypts with a fresh IV on every
            // write. Only the session id inside says whether the session was renewed.
            let (Some(o), Some(n)) = (
                a.open_server_session(&t.target, old.expose()),
                a.open_server_session(&t.target, new.expose()),
            ) else {
                return Err(Failure::NotApplicable(format!(
                    "{name} changed at sign-in ({old} → {new}), which proves nothing (it is re-encrypted on every write), \
                     and its session id could not be read: set {}_SECRET_KEY_BASE to the deployment's secret to judge it",
                    t.app().env_prefix()
                )));
            };
            w.note(format!(
                "{name} opened with {}: session id before sign-in {}, after {}; after sign-in it {} the signed-in user",
                n.opened_with,
                Secret::new(o.id.clone()),
                Secret::new(n.id.clone()),
                if n.holds_user { "holds" } else { "does not hold" }
            ));
            if o.id != n.id {
                Ok(())
            } else if n.holds_user {
                Err(Failure::Finding(format!(
                    "the server session {name} keeps its id across sign-in and now holds the signed-in user: a session \
                     fixed before sign-in becomes an authenticated one [ASVS 3.2.1, WSTG-SESS-03]"
                )))
            } else {
                Err(Failure::NotApplicable(format!(
                    "{name} keeps its session id across sign-in, but the session holds no signed-in user: the sign-in \
                     lives elsewhere (the API token), so a fixed id here carries nothing to judge"
                )))
            }
        }
        (Some((name, _)), None) => {
            w.note(format!("{name} was dropped at sign-in"));
            Ok(())
        }
    }
}

pub async fn long_lived_rejected(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let results = a.long_lived_accepts(&t.target, &cred).await?;
    if results.is_empty() {
        return Err(Failure::NotApplicable(format!(
            "{} handed out no long-lived credential with the {role} session (looked for an api_access_token in the sign-in and profile answers)",
            t.app().name()
        )));
    }
    let base = w.baseline_of(&role, Channel::LongLived)?;
    let mut still = Vec::new();
    for (what, r) in results {
        if r.accepted {
            still.push(format!("{what} is still accepted: {}", r.evidence));
        } else {
            w.note(format!(
                "{what} rejected{}: {base} … refused ({})",
                w.context_suffix(),
                r.evidence
            ));
        }
    }
    if still.is_empty() {
        Ok(())
    } else {
        Err(Failure::Finding(format!(
            "the long-lived credentials handed out with the {role} session outlive it{}: {}",
            w.context_suffix(),
            still.join("; ")
        )))
    }
}

pub async fn not_sealed_with_known_secret(w: &mut World, _c: &Context) -> StepResult {
    let a = w.adapter()?;
    let (obs, _) = super::cookies::view(w)?;
    let verdict = a.known_secret_verdict(&obs).ok_or_else(|| {
        Failure::NotApplicable(format!(
            "{} seals no server cookies with a framework secret",
            a.app().name()
        ))
    })?;
    super::conclude_verdict(w, verdict)
}

bind! {
    login_page_open => login_page_open,
    session_replaced => server_session_replaced,
    long_lived_rejected => long_lived_rejected,
    known_secret => not_sealed_with_known_secret,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
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
        run: run::login_page_open,
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
        run: run::session_replaced,
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
        run: run::long_lived_rejected,
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
        run: run::known_secret,
    },
];
