//! The account's session limit (ASVS 5.0 7.1.2): signing in one session past the declared
//! limit either refuses the new sign-in or ends the oldest session. The oldest is used
//! after every sign-in, so a refusal is pinned to the one sign-in that came before it:
//! accepted after sign-in n, refused right after sign-in n + 1, nothing else between.

use cucumber::step::Context;

use super::limited::LimitOutcome;
use super::session::api_sign_in;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::ApiSignIn;
use crate::duration::human;
use crate::model::Channel;

/// Sessions signed in to report how many an account holds when no limit is declared.
const UNDECLARED_PROBE: usize = 5;

pub async fn sign_in_past_limit(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let declared = t.budget.cap();
    let bound = declared.map_or(UNDECLARED_PROBE, |n| n + 1);
    let first = api_sign_in(w).await?;
    w.keep_session("limit 1", first.clone());
    let r = a.accepts(&t.target, &first).await?;
    if !r.accepted {
        return Err(Failure::no_baseline("the API", &r.evidence));
    }
    w.note(format!("session 1 signed in and accepted: {}", r.evidence));
    // Expiry must not pass for the limit: the first session is used after every sign-in
    // (never idle), and the whole run must end well before its lifetime.
    let expect = t.target.config.expect;
    let born = std::time::Instant::now();
    let mut used = born;
    let mut outcome = None;
    for i in 2..=bound {
        match t
            .api_sign_in(w.watch_id(), &t.target.config.account.password, &|m| {
                w.report(m)
            })
            .await?
        {
            ApiSignIn::SignedIn(cred) => w.keep_session(&format!("limit {i}"), cred),
            ApiSignIn::Rejected { evidence } => {
                outcome = Some(LimitOutcome::NewRefused {
                    at: i,
                    limit: declared.unwrap_or(bound),
                    evidence,
                });
                break;
            }
            ApiSignIn::Throttled { evidence } => {
                return Err(Failure::Infra(format!(
                    "sign-in {i} was throttled: {evidence}"
                )));
            }
        }
        let r = a.accepts(&t.target, &first).await?;
        if !r.accepted {
            let (age, idle) = (born.elapsed(), used.elapsed());
            if age + expect.grace >= expect.max_lifetime
                || idle + expect.grace >= expect.idle_timeout
            {
                return Err(Failure::Infra(format!(
                    "session 1 was refused after sign-in {i}, {} after it signed in and {} after its last use: \
                     that is within the grace of the expected lifetime ({}) or idle timeout ({}), so expiry may \
                     explain the refusal as well as the limit",
                    human(age),
                    human(idle),
                    human(expect.max_lifetime),
                    human(expect.idle_timeout)
                )));
            }
            w.note(format!(
                "session 1 refused right after sign-in {i}: {}",
                r.evidence
            ));
            outcome = Some(LimitOutcome::OldestEnded {
                at: i,
                limit: declared.unwrap_or(bound),
            });
            break;
        }
        used = std::time::Instant::now();
    }
    let Some(limit) = declared else {
        let held = match &outcome {
            Some(LimitOutcome::OldestEnded { at, .. } | LimitOutcome::NewRefused { at, .. }) => {
                format!("the account held at most {} of them", at - 1)
            }
            _ => format!("all {bound} were accepted at once"),
        };
        return Err(Failure::NotApplicable(format!(
            "no session limit is declared for {}: {bound} sessions signed in one after another, {held}. \
             Declare the limit the deployment enforces with `[app] sessions_per_account` in its profile or {}_SESSIONS_PER_ACCOUNT",
            t.app().name(),
            t.app().env_prefix()
        )));
    };
    w.limit = Some(outcome.unwrap_or(LimitOutcome::NotEnforced {
        signed_in: bound,
        limit,
    }));
    Ok(())
}

pub async fn limit_held(w: &mut World, _c: &Context) -> StepResult {
    let outcome = w.limit.take().ok_or_else(|| {
        Failure::Infra("no sign-in past the limit was made before this step".into())
    })?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    match outcome {
        LimitOutcome::NotEnforced { signed_in, limit } => Err(Failure::Finding(format!(
            "{signed_in} sessions signed in one after another are accepted at once (the first still is): \
             the declared limit of {limit} sessions per account is not enforced [ASVS 5.0 7.1.2]"
        ))),
        LimitOutcome::OldestEnded { at, limit } => {
            // The control: the newest session works, so the cap ended the first, not an outage.
            let newest = w.session(&format!("limit {at}"))?.clone();
            let r = a.accepts(&t.target, &newest).await?;
            if !r.accepted {
                return Err(Failure::Infra(format!(
                    "the newest session is refused too, so something other than the session limit \
                     ended the first: {}",
                    r.evidence
                )));
            }
            let others = if at <= limit {
                format!(
                    "; the account held at most {} of these, below the declared {limit}: sessions signed in elsewhere count too",
                    at - 1
                )
            } else {
                String::new()
            };
            w.note(format!(
                "the oldest session ended when sign-in {at} came, and the newest is accepted: {}{others}",
                r.evidence
            ));
            Ok(())
        }
        LimitOutcome::NewRefused {
            at,
            limit,
            evidence,
        } => {
            let first = w.session("limit 1")?.clone();
            let r = a.accepts(&t.target, &first).await?;
            if !r.accepted {
                return Err(Failure::Infra(format!(
                    "sign-in {at} was refused and the first session is refused too: {}",
                    r.evidence
                )));
            }
            w.note(format!(
                "sign-in {at} was refused with {} sessions held (declared limit {limit}): {evidence}",
                at - 1
            ));
            Ok(())
        }
    }
}

bind! {
    sign_in_past_limit => sign_in_past_limit,
    limit_held => limit_held,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::When,
        phrase: "I sign in through the API one session past the account's session limit",
        pattern: "I sign in through the API one session past the account's session limit",
        example: "When I sign in through the API one session past the account's session limit",
        help: "Signs in the declared limit plus one sessions (`[app] sessions_per_account`), using the first \
               after each sign-in; without a declared limit, NOT APPLICABLE after five. It ends the account's \
               older sessions, so the scenario holds the account alone; tag it @destructive.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: true,
        alone: false,
        bruteforce: false,
        run: run::sign_in_past_limit,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the account never held more sessions than its limit",
        pattern: "the account never held more sessions than its limit",
        example: "Then the account never held more sessions than its limit",
        help: "The sign-in past the limit was refused, or the oldest session ended with it (and the newest works).",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: true,
        alone: false,
        bruteforce: false,
        run: run::limit_held,
    },
];
