//! Within seconds, before any scenario: is the target there, is it the right
//! application, do the credentials work, is there a browser. One clear message
//! instead of a wall of timeouts.

use std::time::Duration;

use crate::apps::ApiSignIn;
use crate::browser::Browsers;

use super::context::TargetRuntime;

const LIMIT: Duration = Duration::from_secs(10);

/// Reaches the application and signs in once (then signs out again).
pub async fn target(rt: &TargetRuntime) -> Result<String, String> {
    let t = &rt.target;
    let app = rt.app();
    let work = async {
        let described = rt.adapter.identify(t).await.map_err(|e| format!("{e:#}"))?;
        let account = &t.config.account;
        match rt
            .adapter
            .sign_in_api(t, &account.login, &account.password)
            .await
        {
            Ok(ApiSignIn::SignedIn(cred)) => {
                let _ = rt.adapter.sign_out_api(t, &cred).await;
                Ok(described)
            }
            // Reachable, but the credentials cannot be tried now; scenarios wait out the throttle.
            Ok(ApiSignIn::Throttled { evidence }) => Ok(format!(
                "{described}; sign-ins are throttled right now ({evidence})"
            )),
            Ok(ApiSignIn::Rejected { evidence }) => {
                let var = app.env_prefix();
                let login_var = crate::config::login_key(app);
                Err(format!(
                    "{} at {} rejected the configured account {} ({evidence}). Check {var}_{login_var} and {var}_PASSWORD",
                    app.name(),
                    t.url(),
                    account.login
                ))
            }
            Err(e) => Err(format!("{e:#}")),
        }
    };
    match tokio::time::timeout(LIMIT, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "{} at {} did not answer within {} s: is it running and reachable from here?",
            app.name(),
            t.url(),
            LIMIT.as_secs()
        )),
    }
}

/// Starts (or reaches) the browser driver.
pub async fn browser(browsers: &Browsers) -> Result<(), String> {
    match tokio::time::timeout(LIMIT + Duration::from_secs(5), browsers.driver()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the browser driver did not start within 15 s".into()),
    }
}
