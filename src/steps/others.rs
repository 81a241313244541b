//! Signing out the other sessions (ASVS 5.0 7.5.2, 7.4.3): the act is the request the
//! application's own "sign out other sessions" control sends, made with the chosen
//! session's credential; what follows judges every channel of the other sessions and
//! that the session which asked is still accepted.

use cucumber::step::Context;

use super::capture;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};

pub async fn sign_out_others(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("browser").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    match a.sign_out_others(&t.target, &cred).await {
        Ok(None) => Err(Failure::NotApplicable(format!(
            "{} offers no sign-out of the other sessions (its profile has no `[sign_out_others]` request)",
            t.app().name()
        ))),
        Ok(Some(evidence)) => {
            w.note(format!(
                "signed out the other sessions using the {role} session: {evidence}"
            ));
            w.context_note = Some("after signing out the other sessions".into());
            Ok(())
        }
        Err(e) => Err(Failure::Infra(format!(
            "could not sign out the other sessions: {e:#}"
        ))),
    }
}

bind! {
    sign_out_others => sign_out_others,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[StepDef {
    kind: Kind::When,
    phrase: "I sign out the other sessions using the <browser|API|second> session",
    pattern: role!("I sign out the other sessions using the ", " session"),
    example: "When I sign out the other sessions using the browser session",
    help: "Sends the application's \"sign out other sessions\" request (`[sign_out_others]`) with that session. \
           It ends the account's other sessions, so the scenario holds the account alone; tag it @destructive.",
    browser: false,
    wait: None,
    needs: &[],
    destructive: true,
    alone: false,
    bruteforce: false,
    run: run::sign_out_others,
}];
