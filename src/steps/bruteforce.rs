//! Brute force against the sign-in (ASVS 2.2.1, 5.0 6.3.1; WSTG-ATHN-03): repeated wrong
//! passwords are blocked within the expected number of attempts, a forged client
//! address does not lift the block, and the block ends, so nobody can lock a user out
//! for good. The account is left usable: the block is waited out, even after a finding.

use std::time::Instant;

use cucumber::step::Context;

use super::blocked::BruteForce;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::ApiSignIn;
use crate::duration::human;
use crate::secret::Secret;

fn wrong_password(w: &World) -> Result<Secret, Failure> {
    let t = w.target()?;
    let wrong = Secret::new(format!(
        "{}-not-the-password",
        t.config.account.password.expose()
    ));
    t.masker.register(&wrong);
    Ok(wrong)
}

pub async fn wrong_until_blocked(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let (bound, period) = t
        .target
        .config
        .hardening
        .lockout
        .unwrap_or_else(|| a.failed_sign_in_block());
    let wrong = wrong_password(w)?;
    let login = t.target.config.account.login.clone();
    let started = Instant::now();
    let mut run = BruteForce {
        bound,
        period,
        blocked_at: None,
        attempts: 0,
        last_attempt: Instant::now(),
        blocked_answer: None,
    };
    // One past the bound: the application may count the blocking attempt itself.
    for n in 1..=bound + 1 {
        let answer = a
            .sign_in_api_claiming(&t.target, &login, &wrong, None)
            .await;
        run.attempts = n;
        run.last_attempt = Instant::now();
        // From the first failure on, the account may be blocked: wait it out at the end.
        w.brute = Some(run.clone());
        match answer? {
            ApiSignIn::Rejected { evidence } => {
                if n == 1 {
                    w.note(format!(
                        "attempt 1: refused as a wrong password (the control): {evidence}"
                    ));
                }
            }
            ApiSignIn::Throttled { evidence } if n == 1 => {
                return Err(Failure::Infra(format!(
                    "the first wrong password was already answered as blocked ({evidence}); an earlier run \
                     left sign-ins for {login} blocked: wait {} and run again",
                    human(period)
                )));
            }
            ApiSignIn::Throttled { evidence } => {
                run.blocked_at = Some(n);
                run.blocked_answer = Some(evidence);
                break;
            }
            ApiSignIn::SignedIn(cred) => {
                let _ = a.sign_out_api(&t.target, &cred).await;
                return Err(Failure::Infra(format!(
                    "a wrong password signed {login} in; brute-force protection cannot be judged \
                     (see the login-wrong-password check)"
                )));
            }
        }
    }
    w.note(format!(
        "sent {} wrong passwords for {login} through the API in {:.1} s; {}",
        run.attempts,
        started.elapsed().as_secs_f64(),
        match (&run.blocked_at, &run.blocked_answer) {
            (Some(n), Some(e)) => format!("attempt {n} was answered as blocked: {e}"),
            _ => "none was answered as blocked".to_string(),
        }
    ));
    w.brute = Some(run);
    Ok(())
}

fn brute(w: &World) -> Result<BruteForce, Failure> {
    w.brute.clone().ok_or_else(|| {
        Failure::Infra(
            "no wrong passwords were sent; add `When wrong passwords are sent through the API until sign-in is blocked` first".into(),
        )
    })
}

pub async fn blocked_within_bound(w: &mut World, _c: &Context) -> StepResult {
    let b = brute(w)?;
    let app = w.rt()?.app().name();
    match b.blocked_at {
        Some(n) => {
            w.note(format!(
                "blocked at attempt {n}; expected within {} failures (+1)",
                b.bound
            ));
            Ok(())
        }
        None => Err(Failure::Finding(format!(
            "{} wrong passwords in a row were each answered as a wrong password: no throttle or lockout \
             within {} failures ({app}'s documented bound, or SESSIONDRILL_<APP>_LOCKOUT) [ASVS 2.2.1]",
            b.attempts, b.bound
        ))),
    }
}

/// A documentation address (RFC 5737 TEST-NET-3) no real client has.
fn forged_address() -> String {
    let mut b = [0u8; 1];
    rand::fill(&mut b[..]);
    format!("203.0.113.{}", 1 + b[0] % 250)
}

pub async fn forwarded_does_not_lift(w: &mut World, _c: &Context) -> StepResult {
    let b = brute(w)?;
    if b.blocked_at.is_none() {
        return Err(Failure::Infra(
            "sign-in was never blocked, so there is no block to escape".into(),
        ));
    }
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let wrong = wrong_password(w)?;
    let address = forged_address();
    let login = t.target.config.account.login.clone();
    let answer = a
        .sign_in_api_claiming(&t.target, &login, &wrong, Some(&address))
        .await;
    if let Some(run) = w.brute.as_mut() {
        run.last_attempt = Instant::now();
    }
    match answer? {
        ApiSignIn::Throttled { evidence } => {
            w.note(format!(
                "with X-Forwarded-For and X-Real-IP: {address}, still blocked: {evidence}"
            ));
            Ok(())
        }
        ApiSignIn::Rejected { evidence } => Err(Failure::Finding(format!(
            "a sign-in claiming X-Forwarded-For and X-Real-IP: {address} was judged as a fresh wrong password, \
             not blocked ({evidence}): the block is keyed by an address the client chooses [ASVS 2.2.1]"
        ))),
        ApiSignIn::SignedIn(cred) => {
            let _ = a.sign_out_api(&t.target, &cred).await;
            Err(Failure::Infra(format!(
                "a wrong password signed {login} in; cannot judge the block"
            )))
        }
    }
}

pub async fn block_ends(w: &mut World, _c: &Context) -> StepResult {
    let b = brute(w)?;
    if b.blocked_at.is_none() {
        return Err(Failure::Infra(
            "sign-in was never blocked, so there is no block to end".into(),
        ));
    }
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let grace = t.target.config.expect.grace;
    let left = b.usable_at(grace).saturating_duration_since(Instant::now());
    w.wait(left, "until the sign-in block has passed").await?;
    let login = t.target.config.account.login.clone();
    let password = t.target.config.account.password.clone();
    match a.sign_in_api(&t.target, &login, &password).await? {
        ApiSignIn::SignedIn(cred) => {
            w.note(format!(
                "{} after the last failed attempt, {login} signed in again with its password",
                human(b.period + grace)
            ));
            w.keep_session("after the block", cred);
            w.brute = None;
            Ok(())
        }
        ApiSignIn::Throttled { evidence } => Err(Failure::Finding(format!(
            "{login} is still blocked {} after the last failed attempt (block {} + grace {}): {evidence}; \
             a block that does not end lets anyone lock a user out [ASVS 2.2.1]",
            human(b.period + grace),
            human(b.period),
            human(grace)
        ))),
        ApiSignIn::Rejected { evidence } => Err(Failure::Infra(format!(
            "the configured password for {login} was refused after the block: {evidence}"
        ))),
    }
}

bind! {
    wrong_until_blocked => wrong_until_blocked,
    blocked_within_bound => blocked_within_bound,
    forwarded_does_not_lift => forwarded_does_not_lift,
    block_ends => block_ends,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
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
        run: run::wrong_until_blocked,
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
        run: run::blocked_within_bound,
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
        run: run::forwarded_does_not_lift,
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
        run: run::block_ends,
    },
];
