//! Cookie attributes and script exposure of the session token (ASVS 3.2.3, 3.4.x;
//! 5.0 3.3.x; WSTG-SESS-02), judged on what the browser actually holds.

use cucumber::step::Context;

use super::world::{Failure, StepResult, World};
use crate::checks::{Verdict, cookies};
use crate::model::{Credential, Observation};

/// The observation made once per run after a sign-in through the login page.
pub async fn observed_after_sign_in(w: &mut World, _c: &Context) -> StepResult {
    let rt = w.rt()?.clone();
    let ctx = w.ctx()?.clone();
    let shared = rt
        .observation(&ctx.browsers, &|m| ctx.progress(m))
        .await
        .map_err(Failure::Infra)?;
    for line in &shared.evidence {
        w.note(line);
    }
    w.shared = Some(shared);
    Ok(())
}

/// The browser state to judge: the shared observation, or this scenario's own sign-in.
pub fn view(w: &World) -> Result<(Observation, Credential), Failure> {
    if let Some(s) = &w.shared {
        return Ok((s.observation.clone(), s.credential.clone()));
    }
    let obs = w.last_observation.clone().ok_or_else(|| {
        Failure::Infra("nothing was observed in the browser by an earlier step".into())
    })?;
    Ok((obs, w.session("browser")?.clone()))
}

fn judge(w: &mut World, rule: fn(&[&crate::model::BrowserCookie]) -> Verdict) -> StepResult {
    let (obs, cred) = view(w)?;
    let a = w.adapter()?;
    let is_session = |name: &str| a.is_session_cookie(name);
    let found = cookies::session_cookies(&obs, Some(cred.token.expose()), &is_session);
    let v = rule(&found);
    super::conclude_verdict(w, v)
}

pub async fn secure(w: &mut World, _c: &Context) -> StepResult {
    judge(w, cookies::secure)
}

pub async fn http_only(w: &mut World, _c: &Context) -> StepResult {
    judge(w, cookies::http_only)
}

pub async fn same_site(w: &mut World, _c: &Context) -> StepResult {
    judge(w, cookies::same_site)
}

pub async fn host_prefix(w: &mut World, _c: &Context) -> StepResult {
    judge(w, cookies::host_prefix)
}

pub async fn scope(w: &mut World, _c: &Context) -> StepResult {
    let (obs, cred) = view(w)?;
    let a = w.adapter()?;
    let url = w.target()?.url().clone();
    let is_session = |name: &str| a.is_session_cookie(name);
    let found = cookies::session_cookies(&obs, Some(cred.token.expose()), &is_session);
    let v = cookies::scope(&found, url.host_str().unwrap_or_default(), url.path());
    super::conclude_verdict(w, v)
}

pub async fn not_readable_by_script(w: &mut World, _c: &Context) -> StepResult {
    let (obs, cred) = view(w)?;
    let v = cookies::script_exposure(&obs, cred.token.expose());
    super::conclude_verdict(w, v)
}
