//! What the browser loaded and sent while signing in (ASVS 9.1.1 and 3.1.1; 5.0 12.2.1
//! and 14.2.1; WSTG-CRYP-03, WSTG-SESS-04), read from chromedriver's logs.

use std::time::{Duration, Instant};

use cucumber::step::Context;

use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::checks::traffic::{self, Traffic};

/// The signed-in page's own requests start once it has loaded; give it this long.
const PAGE_SETTLES: Duration = Duration::from_secs(5);

/// Everything the browser recorded since it started, read from its logs now.
async fn recorded(w: &mut World) -> Result<Traffic, Failure> {
    let b = w.browser()?;
    let started = Instant::now();
    while started.elapsed() < PAGE_SETTLES {
        let state = b.exec("return document.readyState", vec![]).await?;
        if state.as_str() == Some("complete") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (performance, console) = b.read_logs().await?;
    w.recorded.extend(&performance, &console);
    Ok(Traffic::from_record(&w.recorded))
}

pub async fn no_mixed_content(w: &mut World, _c: &Context) -> StepResult {
    let t = recorded(w).await?;
    let v = traffic::judge_mixed_content(&t).map_err(Failure::Infra)?;
    super::conclude_verdict(w, v)
}

pub async fn credentials_over_tls(w: &mut World, _c: &Context) -> StepResult {
    let t = recorded(w).await?;
    let password = w.target()?.config.account.password.clone();
    let forms = traffic::password_forms(password.expose());
    let v = traffic::judge_credentials(&t, &forms).map_err(Failure::Infra)?;
    super::conclude_verdict(w, v)
}

pub async fn token_not_in_urls(w: &mut World, _c: &Context) -> StepResult {
    let t = recorded(w).await?;
    let cred = w.session("browser")?.clone();
    let mut tokens = vec![("session token", cred.token.expose())];
    tokens.extend(cred.extras.iter().map(|(name, s)| (*name, s.expose())));
    let v = traffic::judge_token_urls(&t, &tokens).map_err(Failure::Infra)?;
    super::conclude_verdict(w, v)
}

bind! {
    no_mixed_content => no_mixed_content,
    credentials_over_tls => credentials_over_tls,
    token_not_in_urls => token_not_in_urls,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::Then,
        phrase: "the pages loaded nothing over plain HTTP",
        pattern: "the pages loaded nothing over plain HTTP",
        example: "Then the pages loaded nothing over plain HTTP",
        help: "From the browser's performance log and console: no page and no subresource came over http: (DevTools mixedContentType, blockedReason mixed-content, \"Mixed Content:\" console lines). The log must show the pages' own loads.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::no_mixed_content,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the credentials were sent only over HTTPS",
        pattern: "the credentials were sent only over HTTPS",
        example: "Then the credentials were sent only over HTTPS",
        help: "Every request or websocket frame the browser sent carrying the password (as typed, encoded, or as the SHA-256 digest Meteor sends) went to https: or wss:. At least one must be seen.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::credentials_over_tls,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "no address, Referer or redirect carried the session token",
        pattern: "no address, Referer or redirect carried the session token",
        example: "Then no address, Referer or redirect carried the session token",
        help: "The browser session's token (and the long-lived tokens handed out with it) appears in no URL the browser requested, no Referer it sent and no Location it was redirected to.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::token_not_in_urls,
    },
];
