//! Password change ends other sessions (ASVS 3.3.3; 5.0 7.4.3; WSTG-SESS-06/11), and
//! needs the current password (ASVS 5.0 6.2.3). Every change is registered for
//! restoration before it is sent, so the original password comes back even if the
//! scenario fails or the run is interrupted.

use cucumber::step::Context;

use super::capture;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::ApiSignIn;
use crate::model::Credential;
use crate::secret::Secret;

/// A change about to be made with the `role` session, registered for restoring first:
/// the session, the original password and the new one.
struct Change {
    role: String,
    cred: Credential,
    original: Secret,
    temporary: Secret,
}

fn register_change(w: &mut World, c: &Context) -> Result<Change, Failure> {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let original = t.target.config.account.password.clone();
    let temporary = a.new_password();
    t.target.masker.register(&temporary);
    w.restore_id = Some(w.ctx()?.restorations.register(
        t.app(),
        original.clone(),
        temporary.clone(),
        Some(cred.clone()),
    ));
    Ok(Change {
        role,
        cred,
        original,
        temporary,
    })
}

pub async fn change_password(w: &mut World, c: &Context) -> StepResult {
    let Change {
        role,
        cred,
        original,
        temporary,
    } = register_change(w, c)?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    match a
        .change_password(&t.target, &cred, &original, &temporary)
        .await
    {
        Ok(evidence) => {
            w.note(format!(
                "changed the password using the {role} session: {evidence}"
            ));
            w.context_note = Some("after the password change".into());
            Ok(())
        }
        Err(e) => Err(Failure::Infra(format!(
            "could not change the password: {e:#}"
        ))),
    }
}

/// Sends every password change the application has with a wrong current password (or
/// none, where a request carries none), each to a new password registered for restoring.
pub async fn change_password_wrongly(w: &mut World, c: &Context) -> StepResult {
    // Registered first: a change accepted here is undone like any other.
    let Change {
        role,
        cred,
        temporary,
        ..
    } = register_change(w, c)?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let wrong = a.new_password();
    t.target.masker.register(&wrong);
    match a
        .change_password_wrongly(&t.target, &cred, &wrong, &temporary)
        .await
    {
        Ok(Some(attempts)) => {
            w.note(format!(
                "sent {} password change(s) using the {role} session without the right current password",
                attempts.len()
            ));
            w.wrong_changes = Some((role, temporary, attempts));
            Ok(())
        }
        Ok(None) => Err(Failure::NotApplicable(format!(
            "{} has no password change in its profile (`[password_change]`)",
            t.app().name()
        ))),
        Err(e) => Err(Failure::Infra(format!(
            "could not send the password change: {e:#}"
        ))),
    }
}

/// Every change was refused; the refusals changed nothing (the original password still
/// signs in); and, the control, the same change with the current password is accepted,
/// so what was refused was the password, not the request.
pub async fn change_refused(w: &mut World, _c: &Context) -> StepResult {
    let (role, temporary, attempts) = w
        .wrong_changes
        .take()
        .ok_or_else(|| Failure::Infra("no password change was sent before this step".into()))?;
    let how = |carried: bool| {
        if carried {
            "with a wrong current password"
        } else {
            "without the current password"
        }
    };
    if let Some(at) = attempts.iter().find(|at| at.accepted) {
        return Err(Failure::Finding(format!(
            "{} changed the password {}: {} [ASVS 5.0 6.2.3]",
            at.request,
            how(at.carried_current),
            at.evidence
        )));
    }
    for at in &attempts {
        w.note(format!(
            "{} {} refused: {}",
            at.request,
            how(at.carried_current),
            at.evidence
        ));
    }
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let original = t.target.config.account.password.clone();
    match t
        .api_sign_in(w.watch_id(), &original, &|m| w.report(m))
        .await?
    {
        ApiSignIn::SignedIn(fresh) => {
            w.note(format!("the original password still signs in: {fresh}"));
            let _ = a.sign_out_api(&t.target, &fresh).await;
        }
        ApiSignIn::Rejected { evidence } => {
            return Err(Failure::Finding(format!(
                "every password change was answered as refused, yet the original password no longer signs in: {evidence} [ASVS 5.0 6.2.3]"
            )));
        }
        ApiSignIn::Throttled { evidence } => {
            return Err(Failure::Infra(format!(
                "could not sign in to see the password unchanged: {evidence}"
            )));
        }
    }
    let cred = w.session(&role)?.clone();
    match a
        .change_password(&t.target, &cred, &original, &temporary)
        .await
    {
        Ok(evidence) => {
            w.note(format!(
                "control: the same change with the current password was accepted: {evidence}"
            ));
            Ok(())
        }
        Err(e) => Err(Failure::Infra(format!(
            "the refusals prove nothing: the same change with the current password was refused too: {e:#}"
        ))),
    }
}

bind! {
    change_password => change_password,
    change_password_wrongly => change_password_wrongly,
    change_refused => change_refused,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
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
        run: run::change_password,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I change the password with a wrong current password using the <browser|API|second> session",
        pattern: role!(
            "I change the password with a wrong current password using the ",
            " session"
        ),
        example: "When I change the password with a wrong current password using the API session",
        help: "Sends every password change the profile knows (`[password_change]`, `[[password_change_also]]`) with a wrong current password, or none where a request carries none. Always changed back. Tag the scenario @destructive.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: true,
        alone: false,
        bruteforce: false,
        run: run::change_password_wrongly,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the password change was refused and the password still signs in",
        pattern: "the password change was refused and the password still signs in",
        example: "Then the password change was refused and the password still signs in",
        help: "Every change sent without the right current password was refused, the original password still signs in, and (the control) the same change with the current password is accepted.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: true,
        alone: false,
        bruteforce: false,
        run: run::change_refused,
    },
];
