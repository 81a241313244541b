//! HTTPS only: plain HTTP redirects, HSTS of at least a year (ASVS 9.1.1, 14.4.5;
//! 5.0 3.4.1, 12.2.1; WSTG-CRYP-03, CONF-07).

use cucumber::step::Context;
use reqwest::Method;

use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::checks::{Verdict, hsts, redirect};

pub(super) fn https_or_finding(w: &World) -> StepResult {
    let url = w.target()?.url();
    if url.scheme() != "https" {
        return Err(Failure::Finding(format!(
            "the application is served at {url}, over plain HTTP: sessions travel unencrypted [ASVS 9.1.1]"
        )));
    }
    Ok(())
}

pub async fn http_redirects(w: &mut World, _c: &Context) -> StepResult {
    https_or_finding(w)?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let target = &t.target;
    let plain = target.config.plain_http_url();
    let host = target.url().host_str().unwrap_or_default().to_string();
    let login_path = a.login_page(target).path().to_string();
    let mut v = Verdict::default();
    let mut outcomes = Vec::new();
    for path in ["/", login_path.as_str()] {
        let url = plain
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| plain.clone());
        let outcome = target.http.plain_http(url.clone()).await?;
        let part = redirect::judge(&format!("GET {url}"), &host, &outcome);
        v.violations.extend(part.violations);
        v.evidence.extend(part.evidence);
        outcomes.push(outcome);
    }
    // Plain HTTP on the HTTPS port itself: some servers serve the application there too.
    let mut on_tls = target.url().clone();
    if on_tls.set_scheme("http").is_ok()
        && on_tls.port_or_known_default() != plain.port_or_known_default()
    {
        let _ = on_tls.set_port(target.url().port_or_known_default());
        let outcome = target.http.plain_http_on_tls_port(on_tls.clone()).await?;
        let part = redirect::judge_on_tls_port(&format!("GET {on_tls}"), &host, &outcome);
        v.violations.extend(part.violations);
        v.evidence.extend(part.evidence);
    }
    if v.holds() && redirect::nothing_shown(target.config.http_url.is_none(), &outcomes) {
        v.nothing_to_judge(format!(
            "nothing listens for plain HTTP at {plain}, the address guessed from the HTTPS URL: \
             if the application listens for plain HTTP elsewhere, set {}_HTTP_URL there; if it \
             has no plain-HTTP listener at all, set {}_HTTP_URL={plain} to judge that",
            target.app().env_prefix(),
            target.app().env_prefix()
        ));
    }
    super::conclude_verdict(w, v)
}

pub async fn hsts_one_year(w: &mut World, _c: &Context) -> StepResult {
    https_or_finding(w)?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let target = &t.target;
    let mut v = Verdict::default();
    for url in [target.url().clone(), a.login_page(target)] {
        let r = target
            .http
            .send(target.http.request_url(Method::GET, url.clone()))
            .await?;
        let values = r.header_all("strict-transport-security");
        let part = hsts::judge(&format!("GET {} → {}", url.path(), r.status), &values);
        v.violations.extend(part.violations);
        v.evidence.extend(part.evidence);
    }
    super::conclude_verdict(w, v)
}

bind! {
    http_redirects => http_redirects,
    hsts => hsts_one_year,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::Then,
        phrase: "plain HTTP requests are redirected to HTTPS",
        pattern: "plain HTTP requests are redirected to HTTPS",
        example: "Then plain HTTP requests are redirected to HTTPS",
        help: "ASVS 9.1.1; a closed HTTP port also passes.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::http_redirects,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "HTTPS responses carry HSTS with a max-age of at least one year",
        pattern: "HTTPS responses carry HSTS with a max-age of at least one year",
        example: "Then HTTPS responses carry HSTS with a max-age of at least one year",
        help: "ASVS 5.0 3.4.1.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::hsts,
    },
];
