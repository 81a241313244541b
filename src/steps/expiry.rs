//! Idle and absolute expiry (ASVS 3.3.2; 5.0 7.3.1, 7.3.2; WSTG-SESS-07), measured
//! by waiting, not by reading headers. Waits run concurrently with other scenarios.

use std::time::Duration;

use cucumber::step::Context;

use super::capture;
use super::world::{Activity, Failure, StepResult, World};
use crate::checks::{cookies, timing};
use crate::duration::human;

pub async fn leave_idle(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    w.session(&role)?;
    let expect = w.target()?.config.expect;
    let wait = expect.idle_wait();
    w.wait(
        wait,
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
