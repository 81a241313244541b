//! Password change ends other sessions (ASVS 3.3.3; 5.0 7.4.3; WSTG-SESS-06/11).
//! The change is registered for restoration before it is sent, so the original
//! password comes back even if the scenario fails or the run is interrupted.

use cucumber::step::Context;

use super::capture;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};

pub async fn change_password(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let ctx = w.ctx()?.clone();
    let cred = w.session(&role)?.clone();
    let original = t.target.config.account.password.clone();
    let temporary = a.new_password();
    t.target.masker.register(&temporary);
    let id = ctx.restorations.register(
        t.app(),
        original.clone(),
        temporary.clone(),
        Some(cred.clone()),
    );
    w.restore_id = Some(id);
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

bind! {
    change_password => change_password,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[StepDef {
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
}];
