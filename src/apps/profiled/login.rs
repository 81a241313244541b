//! A profile's login page in the browser: fill, submit, and tell a signed-in page from
//! the page's refusal; a page that shows neither is trouble, never a verdict.

use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use url::Url;

use crate::apps::{LOGIN_ANSWER_WAIT, UiSignIn};
use crate::browser::BrowserSession;
use crate::profile::schema::LoginPage;
use crate::secret::Secret;

/// How long a login page may take to show its form.
pub const PAGE_WAIT: Duration = Duration::from_secs(20);

/// `'in'` once the page says signed in, `'refused'` when it shows its refusal. A marker
/// set before submitting tells the submitted page from a reloaded one.
fn state_script(page: &LoginPage) -> String {
    let si = &page.signed_in;
    format!(
        "const visible = s => {{ const e = s && document.querySelector(s); return !!(e && e.offsetParent !== null); }};
         if (visible({refused})) return 'refused';
         if ({text} !== null && document.body && new RegExp({text}).test(document.body.innerText)) return 'refused';
         if ({selector} !== null && visible({selector})) return 'in';
         if ({url} !== null && new RegExp({url}).test(location.pathname + location.search)) return 'in';
         if ({gone} && document.readyState === 'complete' && !visible({password})) return 'in';
         return null;",
        refused = json!(page.refused),
        text = json!(page.refused_text),
        selector = json!(si.selector),
        url = json!(si.url),
        gone = si.form_gone,
        password = json!(page.password),
    )
}

/// How the profile recognises the page's refusal, for messages.
fn refusal(page: &LoginPage) -> String {
    match (&page.refused, &page.refused_text) {
        (Some(css), _) => css.clone(),
        (None, Some(text)) => format!("text /{text}/"),
        (None, None) => String::new(),
    }
}

/// Signs in through the login page at `base` + `page.path`.
pub async fn sign_in(
    b: &BrowserSession,
    base: &Url,
    page: &LoginPage,
    user: &str,
    password: &Secret,
) -> anyhow::Result<UiSignIn> {
    let at = base
        .join(page.path.trim_start_matches('/'))
        .with_context(|| format!("login page path {}", page.path))?;
    b.goto(&at).await?;
    b.wait_any(&[&page.password], PAGE_WAIT)
        .await
        .with_context(|| {
            format!(
                "the login page {at} showed no password field {}",
                page.password
            )
        })?;
    b.fill(&page.user, user)
        .await
        .with_context(|| format!("the user field {}", page.user))?;
    b.fill(&page.password, password.expose())
        .await
        .with_context(|| format!("the password field {}", page.password))?;
    b.exec("window.__sessiondrillForm = true; return true;", vec![])
        .await?;
    b.click(&page.submit)
        .await
        .with_context(|| format!("the submit control {}", page.submit))?;
    let waited = b.poll_js(&state_script(page), LOGIN_ANSWER_WAIT).await;
    let state = match crate::apps::login_answer(b, waited, &page.password, || {
        format!(
            "after submitting the login form the page showed neither its refusal {} nor a signed-in page",
            refusal(page)
        )
    })
    .await?
    {
        Ok(state) => state,
        Err(silent) => return Ok(silent),
    };
    Ok(match state.as_str() {
        "in" => UiSignIn::SignedIn,
        _ => UiSignIn::Rejected {
            shown: format!("the page showed {}", refusal(page)),
        },
    })
}

/// `state_script` once the page has loaded: `'out'` where it returned nothing, and
/// `signed_in` (a JavaScript value) where it said `'in'`.
fn settled_script(page: &LoginPage, signed_in: &str) -> String {
    format!(
        "if (document.readyState !== 'complete') return null; {} ",
        state_script(page)
            .replace("return null;", "return 'out';")
            .replace("return 'in';", &format!("return {signed_in};"))
    )
}

/// Whether the page shows the profile's signed-in signal once it has settled.
pub async fn is_signed_in(b: &BrowserSession, page: &LoginPage) -> anyhow::Result<bool> {
    let script = settled_script(page, "'in'");
    // Give a page that signs in by script (a token link) a moment to do so.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let state = b.poll_js(&script, PAGE_WAIT).await?;
        if state == "in" {
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits after the sign-out clicks until the page no longer shows the signed-in signal.
/// A click only starts the sign-out: judging the old credential before the application
/// has handled it would report a race as a finding.
pub async fn wait_signed_out(b: &BrowserSession, page: &LoginPage) -> anyhow::Result<()> {
    // A page still signed in is "not yet": the poll goes on.
    let script = settled_script(page, "null");
    b.poll_js(&script, PAGE_WAIT).await.with_context(|| {
        format!(
            "after the sign-out clicks the page still showed a signed-in session {} s later",
            PAGE_WAIT.as_secs()
        )
    })?;
    Ok(())
}
