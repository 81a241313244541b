//! Undoing a deactivation (ASVS 5.0 7.4.2's check changes who may sign in): registered
//! before the account is deactivated, undone at the scenario's end, at the run's end and
//! on Ctrl-C, and proven by a fresh sign-in of the test account. If that fails, a note
//! naming the account (never a secret) says how to reactivate it by hand.

use super::context::RunContext;
use super::reactivations::PendingReactivation;
use crate::apps::ApiSignIn;

impl RunContext {
    /// Reactivates the account: with the administrator's session, or else a fresh
    /// administrator sign-in; then proves it with a fresh sign-in of the test account.
    pub async fn reactivate(&self, r: &PendingReactivation) -> Result<String, String> {
        let Some(rt) = self.target(r.app) else {
            return Err("no such target".into());
        };
        let (t, a) = (&rt.target, &rt.adapter);
        let quiet = |_: &str| {};
        let mut done = a.set_active(t, &r.admin, &r.user, true).await;
        // The deactivation may never have happened (its request failed): a test account
        // that signs in is active, and there is nothing to undo.
        if done.is_err()
            && let Ok(ApiSignIn::SignedIn(cred)) = rt
                .api_sign_in(None, &t.config.account.password, &quiet)
                .await
        {
            let _ = a.sign_out_api(t, &cred).await;
            return Ok("the test account signs in: it is active, nothing to reactivate".into());
        }
        if done.is_err()
            && let Some(admin) = &t.config.admin
            && let Ok(ApiSignIn::SignedIn(fresh)) =
                a.sign_in_api(t, &admin.login, &admin.password).await
        {
            done = a.set_active(t, &fresh, &r.user, true).await;
            let _ = a.sign_out_api(t, &fresh).await;
        }
        let evidence = match done {
            Ok(Some(evidence)) => evidence,
            Ok(None) => return Err(self.account_note(r, "the profile has no reactivation")),
            Err(e) => return Err(self.account_note(r, &format!("{e:#}"))),
        };
        match rt
            .api_sign_in(None, &t.config.account.password, &quiet)
            .await
        {
            Ok(ApiSignIn::SignedIn(cred)) => {
                let _ = a.sign_out_api(t, &cred).await;
                Ok(format!(
                    "account reactivated ({evidence}); proven by a fresh sign-in of the test account"
                ))
            }
            Ok(ApiSignIn::Rejected { evidence: e } | ApiSignIn::Throttled { evidence: e }) => {
                Err(self.account_note(
                    r,
                    &format!("the reactivation was answered as done, but the test account cannot sign in: {e}"),
                ))
            }
            Err(e) => Err(self.account_note(
                r,
                &format!("the fresh sign-in that proves the reactivation failed: {e:#}"),
            )),
        }
    }

    /// Reactivates every account still deactivated (end of run, Ctrl-C).
    pub async fn reactivate_all(&self) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        for r in self.reactivations.take_all() {
            out.push(self.reactivate(&r).await);
        }
        out
    }

    /// Last resort: a note beside the reports saying which account to reactivate by hand.
    fn account_note(&self, r: &PendingReactivation, why: &str) -> String {
        let login = self
            .target(r.app)
            .map(|rt| rt.target.config.account.login.clone())
            .unwrap_or_default();
        let path = self
            .out_dir
            .join(format!("RESTORE-ACCOUNT-{}.txt", r.app.tag()));
        let _ = std::fs::create_dir_all(&self.out_dir);
        let text = format!(
            "sessiondrill deactivated the {} test account {login} and could not reactivate it ({why}).\n\
             Reactivate it as an administrator (Rocket.Chat: Administration > Users > the user > Activate), \
             then delete this file.\n",
            r.app.name()
        );
        match std::fs::write(&path, self.masker.scrub(&text)) {
            Ok(()) => format!(
                "COULD NOT REACTIVATE the {} test account {login} ({why}); see {}",
                r.app.name(),
                path.display()
            ),
            Err(e) => format!(
                "COULD NOT REACTIVATE the {} test account {login} ({why}) nor write {}: {e}",
                r.app.name(),
                path.display()
            ),
        }
    }
}
