//! Idle and absolute expiry (ASVS 3.3.2; 5.0 7.3.1, 7.3.2; WSTG-SESS-07), measured
//! by waiting, not by reading headers. Waits run concurrently with other scenarios.

use std::time::Duration;

use cucumber::step::Context;

use super::capture;
use super::world::{Activity, Failure, StepResult, World};
use super::{Kind, StepDef, Wait};
use crate::checks::{cookies, timing};
use crate::duration::human;
use crate::model::Channel;

/// Waits the idle timeout plus grace without using the session, and proves on the way
/// that only idleness can end it: a sibling session is signed in beside it while the
/// idle session is kept in use, the idle session is used once after that sign-in (a
/// sign-in that ends an older session is a session cap), and the sibling, untouched, is
/// probed once just before the idle timeout minus the grace (refused there, something
/// else ends the account's sessions).
pub async fn leave_idle(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let idle = w.session(&role)?.clone();
    // A session never accepted cannot show what ends it.
    w.baseline_of(&role, crate::model::Channel::Api)?;
    let expect = w.target()?.config.expect;
    let wait = expect.idle_wait();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let window = expect.idle_timeout.saturating_sub(expect.grace);
    // The sibling's sign-in may take longer than a short idle timeout (a slow password
    // hash on a busy host): the idle session is kept in use meanwhile, so a refusal right
    // after the sign-in is the sign-in's doing, never idleness.
    let tick = (window / 3).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let keep_in_use = async {
        loop {
            let r = a.uses(&t.target, &idle).await?;
            if !r.accepted {
                return Ok::<_, anyhow::Error>(r);
            }
            tokio::time::sleep(tick).await;
        }
    };
    let signing_in = super::session::api_sign_in(w);
    let sibling = tokio::select! {
        s = signing_in => s?,
        refused = keep_in_use => {
            return Err(eviction(&role, &refused?.evidence, "while a second session was signing in"));
        }
    };
    w.keep_session("idle sibling", sibling.clone());
    // As the user, through its live jar: the idle wait starts from this use, at most
    // one tick and one request after the last accepted one.
    let used = a.uses(&t.target, &idle).await?;
    if !used.accepted {
        return Err(eviction(
            &role,
            &used.evidence,
            "after a second session signed in",
        ));
    }
    let started = tokio::time::Instant::now();
    if window.is_zero() {
        w.note(format!(
            "no sibling probe: the grace {} is not shorter than the idle timeout {}",
            human(expect.grace),
            human(expect.idle_timeout)
        ));
    } else {
        w.wait(
            window,
            &format!(
                "idle timeout {} minus grace {}, then a sibling session is probed",
                human(expect.idle_timeout),
                human(expect.grace)
            ),
        )
        .await?;
        let r = a.accepts(&t.target, &sibling).await?;
        let at = started.elapsed().as_secs_f64();
        if !r.accepted {
            return Err(Failure::Infra(format!(
                "a sibling session signed in beside the {role} one and left untouched was refused after {at:.1}s, \
                 before the idle timeout ({}) minus the grace could end it: {}; something else ends the account's \
                 sessions (a session cap, another sign-out, a shorter lifetime or idle timeout than expected?), \
                 so a refusal after the idle wait would prove nothing",
                human(expect.idle_timeout),
                crate::model::brief(&r.evidence)
            )));
        }
        w.note(format!(
            "control: a sibling session signed in beside it and left untouched is still accepted at {at:.1}s, \
             before the idle timeout could end it ({})",
            crate::model::brief(&r.evidence)
        ));
    }
    let left = wait.saturating_sub(started.elapsed());
    w.wait(
        left,
        &format!(
            "idle timeout {} + grace {}",
            human(expect.idle_timeout),
            human(expect.grace)
        ),
    )
    .await?;
    w.context_note = Some(format!(
        "after {} untouched (expected idle timeout {}, grace {})",
        human(wait),
        human(expect.idle_timeout),
        human(expect.grace)
    ));
    w.note(format!(
        "left the {role} session untouched for {}",
        human(wait)
    ));
    Ok(())
}

/// A session refused while the idle check kept it in use: ended by something else.
fn eviction(role: &str, evidence: &str, when: &str) -> Failure {
    Failure::Infra(format!(
        "the {role} session, kept in use, was refused {when} ({}): the application keeps fewer sessions per \
         account than the suite signs in at once (a session cap), so a refusal after the idle wait could not be \
         told from an eviction",
        crate::model::brief(evidence)
    ))
}

/// Uses the session every `interval` until `until` has passed or it is rejected.
async fn keep_using(
    w: &mut World,
    role: &str,
    interval: Duration,
    until: Duration,
) -> Result<Activity, Failure> {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(role)?.clone();
    let ctx = w.ctx()?.clone();
    ctx.progress(&format!(
        "{}: using the session every {} for up to {}",
        w.scenario,
        human(interval),
        human(until)
    ));
    let _shown = ctx.waits.start(&w.label, until);
    let started = tokio::time::Instant::now();
    let mut last_progress = started;
    // The first use is the positive control: a session refused from the start proves nothing.
    let mut first_accepted: Option<String> = None;
    loop {
        // As the user: through the session's live jar, so a sliding session that
        // re-issues its cookie on use is followed, not judged on a stale copy.
        let r = a.uses(&t.target, &cred).await?;
        let elapsed = started.elapsed();
        if !r.accepted {
            let Some(first) = &first_accepted else {
                return Err(Failure::no_baseline(
                    "the API",
                    &format!("its first use was already refused: {}", r.evidence),
                ));
            };
            w.note(format!(
                "{first} … refused at {:.1}s of use ({})",
                elapsed.as_secs_f64(),
                r.evidence
            ));
            return Ok(Activity {
                rejected_after: Some(elapsed),
                used_for: elapsed,
                interval,
                deadline: until,
            });
        }
        if first_accepted.is_none() {
            first_accepted = Some(format!(
                "accepted at {:.1}s ({})",
                elapsed.as_secs_f64(),
                crate::model::brief(&r.evidence)
            ));
        }
        if elapsed >= until {
            w.note(format!(
                "{} … still accepted after {} of use: {}",
                first_accepted.as_deref().unwrap_or_default(),
                human(elapsed),
                r.evidence
            ));
            return Ok(Activity {
                rejected_after: None,
                used_for: elapsed,
                interval,
                deadline: until,
            });
        }
        if last_progress.elapsed() >= Duration::from_secs(60) {
            ctx.progress(&format!(
                "{}: still accepted after {}",
                w.scenario,
                human(elapsed)
            ));
            last_progress = tokio::time::Instant::now();
        }
        tokio::time::sleep(interval.min(until.saturating_sub(elapsed))).await;
    }
}

pub async fn keep_using_past_idle(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let expect = w.target()?.config.expect;
    let activity = keep_using(w, &role, expect.activity_interval(), expect.idle_wait()).await?;
    w.activity = Some(activity);
    Ok(())
}

pub async fn keep_using_past_lifetime(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let expect = t.target.config.expect;
    let slack = t
        .target
        .config
        .expiry_slack
        .unwrap_or_else(|| a.expiry_slack());
    let deadline = expect.lifetime_deadline(slack);
    if !slack.is_zero() {
        w.note(format!(
            "{} may enforce expiry up to {} late on its API",
            t.app().name(),
            human(slack)
        ));
    }
    let activity = keep_using(w, &role, expect.activity_interval(), deadline).await?;
    w.activity = Some(activity);
    Ok(())
}

fn activity(w: &World) -> Result<Activity, Failure> {
    w.activity
        .ok_or_else(|| Failure::Infra("no session was kept in use by an earlier step".into()))
}

pub async fn never_rejected_while_in_use(w: &mut World, _c: &Context) -> StepResult {
    let a = activity(w)?;
    let expect = w.target()?.config.expect;
    let v = timing::activity_keeps_alive(a.rejected_after, a.used_for, a.interval, &expect);
    super::conclude_verdict(w, v)
}

pub async fn rejected_by_deadline(w: &mut World, _c: &Context) -> StepResult {
    let a = activity(w)?;
    let expect = w.target()?.config.expect;
    let v = timing::lifetime_enforced(a.rejected_after, a.used_for, &expect, a.deadline);
    super::conclude_verdict(w, v)
}

pub async fn advertised_lifetime(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    // The shared observation or this scenario's own sign-in.
    let (obs, cred) = super::cookies::view(w)?;
    let obs = Some(obs);
    let mut advertised = a.advertised_expiry(&t.target, &cred, obs.as_ref()).await?;
    if let Some(obs) = &obs {
        let is_session = |name: &str| a.is_session_cookie(name);
        for c in cookies::session_cookies(obs, Some(cred.token.expose()), &is_session) {
            if let Some(at) = c.expires_at() {
                advertised.push((format!("cookie {} Expires", c.name), at));
            }
        }
    }
    // Reckoned from when the browser was seen holding the session: the latest start the
    // session can have, so a lifetime is never overstated.
    let since = obs.as_ref().map(|o| o.taken_at).unwrap_or(cred.obtained_at);
    let v = timing::advertised_lifetime(since, &advertised, &t.target.config.expect);
    super::conclude_verdict(w, v)
}

bind! {
    leave_idle => leave_idle,
    keep_past_idle => keep_using_past_idle,
    keep_past_lifetime => keep_using_past_lifetime,
    advertised => advertised_lifetime,
    never_rejected => never_rejected_while_in_use,
    rejected_by_deadline => rejected_by_deadline,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
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
        run: run::leave_idle,
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
        run: run::keep_past_idle,
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
        run: run::keep_past_lifetime,
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
        run: run::advertised,
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
        run: run::never_rejected,
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
        run: run::rejected_by_deadline,
    },
];
