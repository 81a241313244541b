//! Tokens: strength over many fresh sign-ins (ASVS 3.2.2, 5.0 7.2.3; WSTG-SESS-01) and
//! answers carrying session data kept out of caches (ASVS 8.2.1; WSTG-SESS-04).

use std::time::Instant;

use cucumber::step::Context;
use futures::StreamExt;

use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::apps::ApiSignIn;
use crate::checks::{Verdict, entropy};
use crate::model::Channel;

/// Sign-ins (and sign-outs) in flight at once while collecting.
const COLLECT_AT_ONCE: usize = 8;

pub async fn collect_tokens(w: &mut World, _c: &Context) -> StepResult {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let n = t.target.config.hardening.token_samples;
    // Thousands of sign-ins would delay other scenarios' timed replays past their deadlines.
    if super::alone::others_in_flight() {
        w.report("waiting for the other scenarios in flight to finish: collection runs alone");
    }
    let waited = Instant::now();
    let _alone = super::alone::alone().await;
    let waited = waited.elapsed();
    let started = Instant::now();
    let password = t.target.config.account.password.clone();
    let report = |m: &str| w.report(m);
    let mut tokens = Vec::with_capacity(n);
    let mut sign_ins = futures::stream::iter(0..n)
        .map(|_| {
            let (t, a, password) = (t.clone(), a.clone(), password.clone());
            async move {
                // Waits out the application's throttle, as every sign-in of the suite does.
                match t.api_sign_in(None, &password, &|_| {}).await? {
                    ApiSignIn::SignedIn(cred) => {
                        // Every token is signed out again: none is left valid.
                        a.sign_out_api(&t.target, &cred).await?;
                        Ok(cred.token.expose().to_string())
                    }
                    ApiSignIn::Rejected { evidence } | ApiSignIn::Throttled { evidence } => {
                        anyhow::bail!("the API refused the configured account: {evidence}")
                    }
                }
            }
        })
        .buffer_unordered(COLLECT_AT_ONCE);
    let step = (n / 10).max(1);
    while let Some(r) = sign_ins.next().await {
        tokens.push(r?);
        if tokens.len() % step == 0 && tokens.len() < n {
            report(&format!("collected {} of {n} tokens", tokens.len()));
        }
    }
    drop(sign_ins);
    w.note(format!(
        "collected {n} fresh tokens by signing in through the API (each signed out again) in {:.1} s, after waiting {:.1} s to run alone",
        started.elapsed().as_secs_f64(),
        waited.as_secs_f64()
    ));
    w.tokens = tokens;
    Ok(())
}

pub async fn tokens_strong(w: &mut World, _c: &Context) -> StepResult {
    if w.tokens.is_empty() {
        return Err(Failure::Infra(
            "no tokens were collected; add `When I collect fresh session tokens through the API` first".into(),
        ));
    }
    let stated = w.adapter()?.token_alphabet();
    let started = Instant::now();
    let analysis = entropy::analyse_as(&w.tokens, stated);
    let v = entropy::judge(&analysis);
    w.note(format!("analysed in {} ms", started.elapsed().as_millis()));
    super::conclude_verdict(w, v)
}

/// `no-store`, or `private, no-cache` with `Pragma: no-cache`, is what keeps an answer
/// out of every cache (ASVS 8.2.1).
pub fn judge_cache(what: &str, cache_control: &[&str], pragma: &[&str]) -> Verdict {
    let mut v = Verdict::default();
    let directives: Vec<String> = cache_control
        .iter()
        .flat_map(|h| h.split(','))
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    let has = |d: &str| directives.iter().any(|x| x == d);
    let pragma_no_cache = pragma
        .iter()
        .any(|p| p.to_ascii_lowercase().contains("no-cache"));
    let shown = if cache_control.is_empty() {
        "no Cache-Control".to_string()
    } else {
        format!("Cache-Control: {}", cache_control.join(", "))
    };
    v.note(format!("{what}: {shown}"));
    if !(has("no-store") || (has("private") && has("no-cache") && pragma_no_cache)) {
        v.violate(
            "ASVS 8.2.1",
            what,
            format!(
                "{shown}: browsers and proxies may keep this answer; send Cache-Control: no-store"
            ),
        );
    }
    v
}

pub async fn not_cacheable(w: &mut World, c: &Context) -> StepResult {
    let role = super::capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let (r, path) = a.who_am_i(&t.target, &cred).await?;
    // Positive control: the answer must be the accepted session's own data.
    if r.status != 200 {
        return Err(Failure::Infra(format!(
            "GET {path} with the {role} session answered {}, not the session's data; nothing to judge",
            r.status
        )));
    }
    let v = judge_cache(
        &format!("GET {path} (the signed-in user's data)"),
        &r.header_all("cache-control"),
        &r.header_all("pragma"),
    );
    super::conclude_verdict(w, v)
}

/// Random tokens tried beside the forged variants of the real one.
const RANDOM_FORGERIES: usize = 5;

pub async fn forged_refused(w: &mut World, c: &Context) -> StepResult {
    let role = super::capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    // A refusal counts only after the real token was shown accepted on the same channel.
    let base = w.baseline_of(&role, crate::model::Channel::Api)?;
    let real = w.session(&role)?.clone();
    let mut v = Verdict::default();
    v.note(format!("the real {role} token was {base}"));
    for (what, forged) in crate::checks::forgery::variants(real.token.expose(), RANDOM_FORGERIES) {
        let forged = crate::secret::Secret::new(forged);
        t.target.masker.register(&forged);
        let mut cred = real.clone();
        cred.token = forged;
        let r = a
            .accepts(&t.target, &cred)
            .await
            .map_err(|e| Failure::Infra(format!("replaying a forged token ({what}): {e:#}")))?;
        if r.accepted {
            v.violate(
                "ASVS 3.2.2",
                format!("forged token ({what})"),
                format!("the API accepted it: {}", r.evidence),
            );
        } else {
            v.note(format!("forged token ({what}): refused, {}", r.evidence));
        }
    }
    super::conclude_verdict(w, v)
}

bind! {
    collect_tokens => collect_tokens,
    tokens_strong => tokens_strong,
    not_cacheable => not_cacheable,
    forged_refused => forged_refused,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::When,
        phrase: "I collect fresh session tokens through the API",
        pattern: "I collect fresh session tokens through the API",
        example: "When I collect fresh session tokens through the API",
        help: "Signs in through the API `token_samples` times (default 1,000; 2,000 on reference targets), respecting the sign-in throttle, and signs every session out again.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: true,
        bruteforce: false,
        run: run::collect_tokens,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the tokens show no statistical weakness and at least 128 effective bits",
        pattern: "the tokens show no statistical weakness and at least 128 effective bits",
        example: "Then the tokens show no statistical weakness and at least 128 effective bits",
        help: "Decodes the tokens and tests every bit position with the FIPS 140-2 tests, as Burp Sequencer does; effective bits are the positions that pass. Statistics prove weakness only.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::tokens_strong,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "answers carrying the (browser|API|second) session's data are not cacheable",
        pattern: role!("answers carrying the ", " session's data are not cacheable"),
        example: "Then answers carrying the API session's data are not cacheable",
        help: "The API's own \"who am I\" answer for the session (which must be accepted) carries Cache-Control: no-store, or private, no-cache with Pragma: no-cache.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::not_cacheable,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "forged and random variants of the (browser|API|second) session's token are refused by the API",
        pattern: role!(
            "forged and random variants of the ",
            " session's token are refused by the API"
        ),
        example: "Then forged and random variants of the API session's token are refused by the API",
        help: "The real token (accepted when captured) with its last, middle or first character changed or its case swapped, and random tokens of its length and alphabet, are each refused by the API as the application refuses an unknown token.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::forged_refused,
    },
];

#[cfg(test)]
mod tests {
    use super::judge_cache;

    #[test]
    fn only_no_store_or_private_no_cache_with_pragma_keep_answers_out_of_caches() {
        assert!(judge_cache("x", &["no-store"], &[]).holds());
        assert!(judge_cache("x", &["private, no-cache"], &["no-cache"]).holds());
        assert!(!judge_cache("x", &["private, no-cache"], &[]).holds());
        assert!(!judge_cache("x", &["max-age=0, private, must-revalidate"], &[]).holds());
        assert!(!judge_cache("x", &[], &[]).holds());
    }
}
