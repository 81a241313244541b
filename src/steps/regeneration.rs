//! A new session at every sign-in, no adopted pre-login tokens, no sign-in by link
//! (ASVS 3.2.1, 3.1.1; 5.0 7.2.4, 14.2.1; WSTG-SESS-03, SESS-04).

use base64::Engine as _;
use cucumber::step::Context;

use super::capture;
use super::session::api_sign_in;
use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::model::Channel;
use crate::secret::Secret;

/// Pairs of sign-ins taken to find one answered within one server second.
const PAIRS: usize = 10;

/// Two sign-ins answered within the same second of the server's `Date`: only then can a
/// token made from the time and the user alone (a signed cookie of the session data and a
/// timestamp) not differ by its time, so only such a pair can earn a pass. A pair with
/// equal tokens is judged at once; otherwise pairs are taken until one falls within a
/// second (a condition of the measurement, not a retry of a verdict).
pub async fn sign_in_twice(w: &mut World, _c: &Context) -> StepResult {
    let mut apart = Vec::new();
    for pair in 1..=PAIRS {
        let first = api_sign_in(w).await?;
        let second = api_sign_in(w).await?;
        let same_second = match (first.answered_at, second.answered_at) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
        if first.token == second.token || same_second != Some(false) {
            match same_second {
                Some(_) => w.note(format!(
                    "pair {pair}: both sign-ins answered within one server second ({})",
                    first
                        .answered_at
                        .map(|d| d.to_rfc2822())
                        .unwrap_or_default()
                )),
                None => w.note(
                    "the sign-in answers carry no Date, so a token made from the time alone \
                     cannot be told apart from a random one by this pair",
                ),
            }
            for (role, cred) in [("sign-in 1", first), ("sign-in 2", second)] {
                w.note(format!("{role}: {cred}"));
                w.capture_session(role, cred).await?;
            }
            return Ok(());
        }
        apart.push(format!(
            "{} s",
            (second.answered_at.unwrap_or_default() - first.answered_at.unwrap_or_default())
                .num_seconds()
        ));
        w.keep_session(&format!("sign-in pair {pair} a"), first);
        w.keep_session(&format!("sign-in pair {pair} b"), second);
    }
    Err(Failure::Infra(format!(
        "no two sign-ins of {PAIRS} pairs were answered within the same second of the server's Date \
         (apart by {}): a token made from the time alone would differ by its time, so different \
         tokens prove nothing; the sign-ins are too slow to judge",
        apart.join(", ")
    )))
}

pub async fn two_sign_ins_differ(w: &mut World, _c: &Context) -> StepResult {
    let first = w.session("sign-in 1")?.token.clone();
    let second = w.session("sign-in 2")?.token.clone();
    if first == second {
        return Err(Failure::Finding(format!(
            "both sign-ins returned the same session token {first}: the token is not regenerated at authentication"
        )));
    }
    w.note(format!(
        "sign-ins yielded different tokens: {first} and {second}"
    ));
    Ok(())
}

/// A value nobody was issued, shaped like the application's own ids (`like`: its length,
/// in the alphabet it is written in), so that an application that checks the shape of
/// what it is sent (PHP and DokuWiki ignore ids with other characters) judges the value,
/// not its shape. Without an id to copy: 32 random bytes, base64url.
fn fake_token(like: Option<&str>) -> Secret {
    use crate::checks::entropy::alphabet;
    if let Some(real) = like
        && let Some(a) = alphabet::detect(&[real.to_string()])
    {
        // Alphabets that fold case are written lower case; keep an upper-case token's case.
        let folds = matches!(
            a,
            alphabet::Alphabet::Hex
                | alphabet::Alphabet::Base32
                | alphabet::Alphabet::Base32Hex
                | alphabet::Alphabet::Base36
        );
        let mut fake = alphabet::sample_token(a, real.len(), real.len());
        if folds && !real.bytes().any(|b| b.is_ascii_lowercase()) {
            fake = fake.to_ascii_uppercase();
        }
        if fake != real {
            return Secret::new(fake);
        }
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub async fn plant_token(w: &mut World, _c: &Context) -> StepResult {
    w.ensure_browser().await?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    // A session id the login page issues to every visitor shows what the application's
    // ids look like (PHP: 26 characters of 0-9a-v); the planted value takes its shape.
    let b = w.browser()?;
    b.goto(&a.login_page(&t.target)).await?;
    let issued = b.observe().await?;
    let like = a
        .credentials_in(&issued)
        .first()
        .map(|c| c.token.expose().to_string());
    let fake = fake_token(like.as_deref());
    t.target.masker.register(&fake);
    let places = a.plant(&t.target, w.browser()?, &fake).await?;
    w.note(format!("planted {fake} in {}", places.join(", ")));
    w.planted = Some(fake);
    Ok(())
}

fn planted(w: &World) -> Result<Secret, Failure> {
    w.planted
        .clone()
        .ok_or_else(|| Failure::Infra("no token was planted by an earlier step".into()))
}

pub async fn session_is_not_planted(w: &mut World, _c: &Context) -> StepResult {
    let fake = planted(w)?;
    let cred = w.session("browser")?.clone();
    if cred.token == fake {
        return Err(Failure::Finding(format!(
            "after sign-in the session token is the planted one ({fake}): a token chosen before sign-in was adopted"
        )));
    }
    w.note(format!(
        "after sign-in the session token {} differs from the planted {fake}",
        cred.token
    ));
    Ok(())
}

pub async fn planted_rejected(w: &mut World, _c: &Context) -> StepResult {
    let fake = planted(w)?;
    let accepted = replayed_beside_victim(w, &fake).await?;
    accepted.judge(w, &format!("the planted token {fake}"))
}

/// A value replayed frozen in the victim's place, and the control: the victim's own
/// credential, presented the same way, was accepted.
struct Replayed {
    base: String,
    accepted: bool,
    evidence: String,
}

impl Replayed {
    fn judge(self, w: &mut World, what: &str) -> StepResult {
        if self.accepted {
            return Err(Failure::Finding(format!(
                "{what} is accepted by the API after the victim signed in: {}",
                self.evidence
            )));
        }
        w.note(format!(
            "the victim's token presented the same way was {}; {what} is rejected by the API: {}",
            self.base, self.evidence
        ));
        Ok(())
    }
}

async fn replayed_beside_victim(w: &mut World, value: &Secret) -> Result<Replayed, Failure> {
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let base = w.baseline_of("browser", Channel::Api)?;
    let cred = a.planted_credential(value, w.session("browser")?);
    let r = a.accepts(&t.target, &cred).await?;
    Ok(Replayed {
        base,
        accepted: r.accepted,
        evidence: r.evidence,
    })
}

/// The session id the login page issued before sign-in (WSTG-SESS-03): what an attacker
/// gets by opening the page, and could hand to a victim.
fn issued_before_sign_in(w: &World) -> Result<Secret, Failure> {
    let a = w.adapter()?;
    let before = w
        .before_sign_in
        .as_ref()
        .ok_or_else(|| Failure::Infra("the login page was not opened before signing in".into()))?;
    let found = a.credentials_in(before);
    match found.first() {
        Some(c) => Ok(c.token.clone()),
        None => Err(Failure::NotApplicable(format!(
            "the login page issues no session id before sign-in (the browser held {}): nothing can be fixed before \
             sign-in, and a value the server never issued is judged by planted-token",
            before.summary()
        ))),
    }
}

pub async fn session_is_not_issued(w: &mut World, _c: &Context) -> StepResult {
    let issued = issued_before_sign_in(w)?;
    w.rt()?.target.masker.register(&issued);
    let cred = w.session("browser")?.clone();
    if cred.token == issued {
        return Err(Failure::Finding(format!(
            "the session id {issued} the login page issued before sign-in is still the session after it: an id \
             handed to a victim before sign-in stays the id of the victim's signed-in session [ASVS 3.2.1, WSTG-SESS-03]"
        )));
    }
    w.note(format!(
        "before sign-in the login page issued {issued}; after sign-in the session is {}",
        cred.token
    ));
    w.issued = Some(issued);
    Ok(())
}

pub async fn issued_rejected(w: &mut World, _c: &Context) -> StepResult {
    let issued = w.issued.clone().ok_or_else(|| {
        Failure::Infra("no id issued before sign-in was judged by an earlier step".into())
    })?;
    let replayed = replayed_beside_victim(w, &issued).await?;
    replayed.judge(w, &format!("the id {issued} issued before sign-in"))
}

pub async fn open_token_link(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let cred = w.session(&role)?.clone();
    let link = a.token_link(&t.target, &cred).ok_or_else(|| {
        Failure::NotApplicable(format!(
            "{} has no sign-in links carrying a session token (looked for the adapter's token link)",
            t.app().name()
        ))
    })?;
    w.ensure_browser().await?;
    w.browser()?.goto(&link).await?;
    w.note(format!("opened {link} in the browser"));
    Ok(())
}

pub async fn browser_not_signed_in(w: &mut World, c: &Context) -> StepResult {
    let role = capture(c, 1).unwrap_or("API").to_string();
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    // A link with a dead token proves nothing: the token must have worked when captured.
    let base = w.baseline_of(&role, Channel::Api)?;
    let token = w.session(&role)?.token.clone();
    let signed_in = a.is_signed_in_ui(&t.target, w.browser()?).await?;
    let obs = w.browser()?.observe().await?;
    let places = obs.places_holding(token.expose());
    if signed_in || !places.is_empty() {
        return Err(Failure::Finding(format!(
            "a link carrying another session's token signed this browser in{} [ASVS 3.1.1, WSTG-SESS-03]",
            if places.is_empty() {
                String::new()
            } else {
                format!(" (the token is now in {})", places.join(", "))
            }
        )));
    }
    w.note(format!(
        "the link's token was {base}; the browser is not signed in ({})",
        obs.summary()
    ));
    Ok(())
}

bind! {
    plant => plant_token,
    sign_in_twice => sign_in_twice,
    open_link => open_token_link,
    differ => two_sign_ins_differ,
    not_planted => session_is_not_planted,
    planted_rejected => planted_rejected,
    not_issued => session_is_not_issued,
    issued_rejected => issued_rejected,
    not_signed_in => browser_not_signed_in,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::Given,
        phrase: "a session token is planted in the browser",
        pattern: "a session token is planted in the browser",
        example: "And a session token is planted in the browser",
        help: "Writes an attacker-chosen token wherever the app reads a session from (cookies, storage).",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::plant,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I sign in through the API twice",
        pattern: "I sign in through the API twice",
        example: "When I sign in through the API twice",
        help: "Two API sign-ins of the same account (`sign-in 1`, `sign-in 2`).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::sign_in_twice,
    },
    StepDef {
        kind: Kind::When,
        phrase: "I open a link carrying the <browser|API|second> session's token in the browser",
        pattern: role!(
            "I open a link carrying the ",
            " session's token in the browser"
        ),
        example: "When I open a link carrying the API session's token in the browser",
        help: "Builds the app's sign-in link for that token (e.g. Rocket.Chat's ?resumeToken=) and opens it in the scenario's browser.",
        browser: true,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::open_link,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the two sign-ins yielded different session tokens",
        pattern: "the two sign-ins yielded different session tokens",
        example: "Then the two sign-ins yielded different session tokens",
        help: "ASVS 3.2.1.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::differ,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser session is not the planted token",
        pattern: "the browser session is not the planted token",
        example: "Then the browser session is not the planted token",
        help: "The sign-in did not adopt the planted value.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::not_planted,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the planted token is rejected by the API",
        pattern: "the planted token is rejected by the API",
        example: "And the planted token is rejected by the API",
        help: "The attacker's value does not authenticate after the victim signs in.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::planted_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser session is not the id issued before sign-in",
        pattern: "the browser session is not the id issued before sign-in",
        example: "Then the browser session is not the id issued before sign-in",
        help: "WSTG-SESS-03: the session id the login page handed out (after `the login page is open`) did not survive the sign-in.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::not_issued,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the id issued before sign-in is rejected by the API",
        pattern: "the id issued before sign-in is rejected by the API",
        example: "And the id issued before sign-in is rejected by the API",
        help: "The id handed out before sign-in, replayed frozen in the victim's place, does not authenticate.",
        browser: false,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::issued_rejected,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the browser is not signed in with the <browser|API|second> session",
        pattern: role!("the browser is not signed in with the ", " session"),
        example: "Then the browser is not signed in with the API session",
        help: "The page shows no signed-in user and holds none of that session's token.",
        browser: true,
        wait: None,
        needs: &[Channel::Api],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::not_signed_in,
    },
];
