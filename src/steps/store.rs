//! The session store refuses clients without credentials (the Rocket.Chat guide's
//! "Secure the session store"; Chatwoot's Redis and PostgreSQL; ASVS 5.0 13.2.1).

use cucumber::step::Context;

use super::world::{StepResult, World};
use super::{Kind, StepDef};
use crate::checks::Verdict;
use crate::probe::store::{self, Answer};

pub async fn stores_refuse(w: &mut World, _c: &Context) -> StepResult {
    let t = w.rt()?.clone();
    let stores = &t.target.config.hardening.stores;
    let mut v = Verdict::default();
    if stores.is_empty() {
        let var = format!("{}_STORE", t.target.app().env_prefix());
        v.nothing_to_judge(format!(
            "no session store configured: set {var}=redis://…,postgres://…,mongodb://… (or `store` in sessiondrill.toml)"
        ));
        return super::conclude_verdict(w, v);
    }
    for s in stores {
        // Only the protocol's own demand for credentials counts as a refusal; anything
        // else (no answer, another protocol) is trouble, reported as such.
        match store::probe(s).await? {
            Answer::Refused(how) => v.note(format!("{}: {how}", s.label())),
            Answer::Open(how) => v.violate(
                "ASVS 5.0 13.2.1",
                s.label(),
                format!("answers a client without credentials: {how}"),
            ),
        }
    }
    super::conclude_verdict(w, v)
}

bind! {
    stores_refuse => stores_refuse,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[StepDef {
    kind: Kind::Then,
    phrase: "the session stores refuse clients without credentials",
    pattern: "the session stores refuse clients without credentials",
    example: "Then the session stores refuse clients without credentials",
    help: "Asks each configured store (`SESSIONDRILL_<APP>_STORE`) without credentials: Redis PING must answer NOAUTH, PostgreSQL must ask for a password, MongoDB must refuse listDatabases.",
    browser: false,
    wait: None,
    needs: &[],
    destructive: false,
    alone: false,
    bruteforce: false,
    run: run::stores_refuse,
}];
