//! Cookie attributes and script exposure of the session token (ASVS 3.2.3, 3.4.x;
//! 5.0 3.3.x; WSTG-SESS-02), judged on what the browser actually holds.

use cucumber::step::Context;

use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
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

bind! {
    observed => observed_after_sign_in,
    secure => secure,
    http_only => http_only,
    same_site => same_site,
    scope => scope,
    host_prefix => host_prefix,
    unreadable => not_readable_by_script,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
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
        run: run::observed,
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
        run: run::secure,
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
        run: run::http_only,
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
        run: run::same_site,
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
        run: run::scope,
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
        run: run::host_prefix,
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
        run: run::unreadable,
    },
];
