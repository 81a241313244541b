//! The step vocabulary. Each step module keeps its phrases (`STEPS`) beside the code
//! they run; together they drive three things: cucumber's step registration,
//! `sessiondrill steps` (the phrase book for writing scenarios without Rust), and the
//! check that every step of every feature is known before anything runs.

/// The step functions as cucumber calls them, in a `run` module of each step module:
/// each concludes the scenario's world with the step's result.
macro_rules! bind {
    ($($name:ident => $f:ident),* $(,)?) => {
        mod run {
            $(
                pub(super) fn $name(
                    w: &mut $crate::steps::world::World,
                    c: ::cucumber::step::Context,
                ) -> ::futures::future::LocalBoxFuture<'_, ()> {
                    Box::pin(async move {
                        let result = super::$f(w, &c).await;
                        w.conclude(result);
                    })
                }
            )*
        }
    };
}

/// A phrase with a session role in it: `browser`, `API` or `second`.
macro_rules! role {
    ($before:literal, $after:literal) => {
        concat!($before, "(browser|API|second)", $after)
    };
}

pub mod alone;
pub mod blocked;
pub mod bruteforce;
pub mod budget;
pub mod context;
pub mod cookies;
pub mod deactivation;
pub mod expiry;
pub mod limit;
pub mod limited;
pub mod others;
pub mod password;
pub mod reactivation;
pub mod reactivations;
pub mod regeneration;
pub mod server_side;
pub mod session;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod traffic;
pub mod transport;
pub mod waits;
pub mod world;

use std::sync::LazyLock;

use cucumber::step::{Collection, Context};
use regex::Regex;

use crate::checks::Verdict;
use crate::model::Channel;
use world::{Failure, StepResult, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Given,
    When,
    Then,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::When => "When",
            Kind::Then => "Then",
        }
    }

    pub fn of(ty: cucumber::gherkin::StepType) -> Self {
        match ty {
            cucumber::gherkin::StepType::Given => Kind::Given,
            cucumber::gherkin::StepType::When => Kind::When,
            cucumber::gherkin::StepType::Then => Kind::Then,
        }
    }
}

/// A wait the step itself requires, so the run can plan (and flag `@slow` ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    IdleTimeout,
    MaxLifetime,
}

pub struct StepDef {
    pub kind: Kind,
    /// How a person writes it; `<a|b>` marks a choice, `[...]` an optional part.
    pub phrase: &'static str,
    /// The regex cucumber matches (anchored when compiled).
    pub pattern: &'static str,
    pub example: &'static str,
    pub help: &'static str,
    pub browser: bool,
    pub wait: Option<Wait>,
    /// Channels whose positive control (a baseline at capture) this step's verdict rests on.
    pub needs: &'static [Channel],
    /// Changes account state (a password): the scenario must be tagged `@destructive`.
    pub destructive: bool,
    /// Sends wrong passwords until the account is blocked: the scenario must be tagged
    /// `@bruteforce`, and holds the account alone.
    pub bruteforce: bool,
    /// Loads the target heavily (thousands of sign-ins): runs only once no other scenario
    /// is in flight, so its load cannot push a timed check past its deadline.
    pub alone: bool,
    pub run: cucumber::step::Step<World>,
}

/// The n-th capture of a matched step, if present and non-empty.
pub fn capture(c: &Context, n: usize) -> Option<&str> {
    c.matches
        .get(n)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Judges a pure check's verdict: evidence always, a finding when it does not hold.
pub fn conclude_verdict(w: &mut World, v: Verdict) -> StepResult {
    for line in &v.evidence {
        w.note(line);
    }
    if v.nothing_judged && v.holds() {
        return Err(Failure::NotApplicable(v.evidence.join("; ")));
    }
    if v.holds() {
        Ok(())
    } else {
        Err(Failure::Finding(v.failure_message()))
    }
}

/// Every step, module by module (each step module keeps its phrases beside its code).
pub static STEPS: LazyLock<Vec<&'static StepDef>> = LazyLock::new(|| {
    [
        session::STEPS,
        cookies::STEPS,
        regeneration::STEPS,
        password::STEPS,
        others::STEPS,
        deactivation::STEPS,
        limit::STEPS,
        expiry::STEPS,
        transport::STEPS,
        server_side::STEPS,
        tls::STEPS,
        store::STEPS,
        tokens::STEPS,
        bruteforce::STEPS,
        traffic::STEPS,
    ]
    .into_iter()
    .flatten()
    .collect()
});

static COMPILED: LazyLock<Vec<(Regex, &'static StepDef)>> = LazyLock::new(|| {
    STEPS
        .iter()
        .map(|&d| {
            (
                Regex::new(&format!("^{}$", d.pattern)).expect("step patterns are valid regexes"),
                d,
            )
        })
        .collect()
});

/// Every step, registered with cucumber.
pub fn collection() -> Collection<World> {
    let mut c = Collection::new();
    for (re, d) in COMPILED.iter() {
        c = match d.kind {
            Kind::Given => c.given(None, re.clone(), d.run),
            Kind::When => c.when(None, re.clone(), d.run),
            Kind::Then => c.then(None, re.clone(), d.run),
        };
    }
    c
}

/// The step definition a feature line uses, if any.
pub fn find(kind: Kind, text: &str) -> Option<&'static StepDef> {
    COMPILED
        .iter()
        .find(|(re, d)| d.kind == kind && re.is_match(text))
        .map(|(_, d)| *d)
}

/// The phrases closest to an unknown step, best first.
pub fn closest(kind: Kind, text: &str, n: usize) -> Vec<&'static StepDef> {
    let mut scored: Vec<(f64, &StepDef)> = STEPS
        .iter()
        .map(|&d| {
            let bonus = if d.kind == kind { 0.05 } else { 0.0 };
            (similarity(text, d.phrase) + bonus, d)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(n).map(|(_, d)| d).collect()
}

/// Word-level similarity in 0..=1 (1 - normalised edit distance over words).
pub fn similarity(a: &str, b: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let (n, m) = (a.len(), b.len());
    if n.max(m) == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=m).collect();
    for i in 1..=n {
        let mut cur = vec![i; m + 1];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    1.0 - prev[m] as f64 / n.max(m) as f64
}

/// The phrase book printed by `sessiondrill steps`.
pub fn phrase_book() -> String {
    let mut out = String::from(
        "Steps for sessiondrill scenarios. Each Examples row is tagged with its application\n\
         (@rocketchat or @chatwoot); the same phrases work for every application.\n\
         <a|b> is a choice, [...] is optional. Roles: `browser` is the session captured from the\n\
         browser, `API` and `second` are sessions signed in through the API.\n",
    );
    for kind in [Kind::Given, Kind::When, Kind::Then] {
        out.push_str(&format!("\n{}\n", kind.word()));
        for d in STEPS.iter().filter(|d| d.kind == kind) {
            out.push_str(&format!(
                "  {} {}\n      {}\n      e.g. {}\n",
                kind.word(),
                d.phrase,
                d.help,
                d.example
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_matches_its_own_step_and_only_it() {
        for d in STEPS.iter() {
            let text = d.example.split_once(' ').map(|x| x.1).unwrap_or_default();
            let matching: Vec<&str> = COMPILED
                .iter()
                .filter(|(re, e)| e.kind == d.kind && re.is_match(text))
                .map(|(_, e)| e.phrase)
                .collect();
            assert_eq!(matching, vec![d.phrase], "example `{}`", d.example);
        }
    }

    #[test]
    fn roles_are_captured() {
        let d = find(Kind::Then, "the second session is rejected by the API").unwrap();
        assert_eq!(
            d.phrase,
            "the <browser|API|second> session is rejected by the API"
        );
        assert!(find(Kind::When, "I sign out through the API").is_some());
        assert!(find(Kind::When, "I sign out the second session through the API").is_some());
        assert!(find(Kind::Then, "the third session is rejected by the API").is_none());
    }

    #[test]
    fn closest_suggests_the_intended_phrase() {
        // "refused" is one word away from both "accepted" and "rejected": both are offered.
        let c: Vec<&str> = closest(Kind::Then, "the browser session is refused by the API", 3)
            .iter()
            .map(|d| d.phrase)
            .collect();
        assert!(
            c.contains(&"the <browser|API|second> session is rejected by the API"),
            "{c:?}"
        );
        assert!(
            c.contains(&"the <browser|API|second> session is accepted by the API"),
            "{c:?}"
        );
        let c = closest(Kind::Given, "a new browser", 1);
        assert_eq!(c[0].phrase, "a fresh browser");
    }

    #[test]
    fn similarity_is_sane() {
        assert_eq!(similarity("a b c", "a b c"), 1.0);
        assert!(similarity("a b c", "a b d") > similarity("a b c", "x y z"));
    }
}
