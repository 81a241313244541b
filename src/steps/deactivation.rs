//! An administrator deactivates the account (ASVS 5.0 7.4.2): then every session of it,
//! on every channel, must end. The reactivation is registered before the act, so the
//! account comes back however the scenario ends, and a fresh sign-in proves it.

use cucumber::step::Context;

use super::reactivations::PendingReactivation;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::ApiSignIn;
use crate::config::login_key;

pub async fn admin_deactivates(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let ctx = w.ctx()?.clone();
    let app = t.app();
    if !a.can_deactivate() {
        return Err(Failure::NotApplicable(format!(
            "{} offers no deactivation of an account by an administrator (its profile has no `[deactivation]`)",
            app.name()
        )));
    }
    let Some(admin) = t.target.config.admin.clone() else {
        let p = app.env_prefix();
        return Err(Failure::NotApplicable(format!(
            "no administrator account is configured for {}: set {p}_ADMIN_{} and {p}_ADMIN_PASSWORD \
             (another account, allowed to deactivate users)",
            app.name(),
            login_key(app)
        )));
    };
    if admin.login == t.target.config.account.login {
        return Err(Failure::Infra(
            "the administrator account is the test account itself: configure another one".into(),
        ));
    }
    // Whose parts (the user id) the requests name: any session of the test account.
    let user = ["second", "browser", "API"]
        .iter()
        .find_map(|r| w.session(r).ok())
        .cloned()
        .ok_or_else(|| {
            Failure::Infra("no session of the test account was captured before this step".into())
        })?;
    let admin_cred = match a
        .sign_in_api(&t.target, &admin.login, &admin.password)
        .await?
    {
        ApiSignIn::SignedIn(c) => c,
        ApiSignIn::Rejected { evidence } | ApiSignIn::Throttled { evidence } => {
            return Err(Failure::Infra(format!(
                "the administrator account could not sign in: {evidence}"
            )));
        }
    };
    // Signed out at the scenario's end, after the reactivation that needs it.
    w.created.push(admin_cred.clone());
    w.reactivate_id = Some(ctx.reactivations.register(PendingReactivation {
        app,
        admin: admin_cred.clone(),
        user: user.clone(),
    }));
    match a.set_active(&t.target, &admin_cred, &user, false).await {
        Ok(Some(evidence)) => {
            w.note(format!(
                "an administrator deactivated the account: {evidence}"
            ));
            w.context_note = Some("after the account was deactivated".into());
            Ok(())
        }
        Ok(None) => Err(Failure::Infra(
            "the profile lost its `[deactivation]` request".into(),
        )),
        Err(e) => Err(Failure::Infra(format!(
            "could not deactivate the account: {e:#}"
        ))),
    }
}

bind! {
    admin_deactivates => admin_deactivates,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[StepDef {
    kind: Kind::When,
    phrase: "an administrator deactivates the account",
    pattern: "an administrator deactivates the account",
    example: "When an administrator deactivates the account",
    help: "Signs the administrator in (`_ADMIN_USER`, `_ADMIN_PASSWORD`) and sends the profile's \
           `[deactivation]` request for the test account; always reactivated afterwards and proven \
           by a fresh sign-in. Tag the scenario @destructive.",
    browser: false,
    wait: None,
    needs: &[],
    destructive: true,
    alone: false,
    bruteforce: false,
    run: run::admin_deactivates,
}];
