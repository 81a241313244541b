//! TLS versions and the certificate, on the HTTPS target and its websocket endpoint
//! (ASVS 9.1.2, 9.1.3; 5.0 12.1.1, 12.2.2; WSTG-CRYP-01).

use std::time::SystemTime;

use cucumber::step::Context;

use super::world::{Failure, StepResult, World};
use super::{Kind, StepDef};
use crate::checks::{Verdict, certificate};
use crate::probe::tls::{self, Answer, Endpoint, Legacy, Modern};

/// The distinct TLS endpoints: the application and its realtime channel.
fn endpoints(w: &World) -> Result<Vec<Endpoint>, Failure> {
    super::transport::https_or_finding(w)?;
    let (t, a) = (w.rt()?.clone(), w.adapter()?);
    let url = t.target.url().clone();
    let ws = crate::probe::ws::ws_url(&url, a.realtime_path());
    let mut eps: Vec<Endpoint> = [&url, &ws].into_iter().filter_map(Endpoint::of).collect();
    eps.sort();
    eps.dedup();
    Ok(eps)
}

pub async fn only_modern_tls(w: &mut World, _c: &Context) -> StepResult {
    let mut v = Verdict::default();
    for ep in endpoints(w)? {
        // Positive control first: the endpoint must complete a real TLS 1.2 or 1.3
        // handshake, or a refused legacy hello proves nothing.
        let mut modern = Vec::new();
        for m in Modern::ALL {
            let h = tls::handshake(&ep, m).await?;
            match h.completed {
                Ok(()) => modern.push(m.name()),
                Err(e) => v.note(format!("{}: {} not completed ({e})", ep.label(), m.name())),
            }
        }
        // The legacy versions are probed at once: each is a single round trip.
        let answers =
            futures::future::join_all(Legacy::ALL.iter().map(|l| tls::probe_legacy(&ep, *l))).await;
        for (l, answer) in Legacy::ALL.iter().copied().zip(answers) {
            match answer? {
                Answer::Accepted { version, suite } => v.violate(
                    "ASVS 9.1.2",
                    ep.label(),
                    format!(
                        "{} accepted (ServerHello 0x{version:04x}, cipher suite 0x{suite:04x})",
                        l.name()
                    ),
                ),
                Answer::Refused(how) => {
                    v.note(format!("{}: {} refused: {how}", ep.label(), l.name()))
                }
                Answer::Inconclusive(how) => {
                    return Err(Failure::Infra(format!(
                        "{}: cannot tell whether {} is spoken: {how} to the narrow and the wide offer",
                        ep.label(),
                        l.name()
                    )));
                }
            }
        }
        if modern.is_empty() {
            if v.holds() {
                return Err(Failure::Infra(format!(
                    "{}: completed no TLS 1.2 or 1.3 handshake and accepted no legacy version either; \
                     is this a TLS endpoint?",
                    ep.label()
                )));
            }
            v.violate(
                "ASVS 9.1.3",
                ep.label(),
                "neither TLS 1.2 nor TLS 1.3 is accepted",
            );
        } else {
            v.note(format!("{}: {} accepted", ep.label(), modern.join(" and ")));
        }
    }
    super::conclude_verdict(w, v)
}

pub async fn certificate_sound(w: &mut World, _c: &Context) -> StepResult {
    let t = w.rt()?.clone();
    let h = &t.target.config.hardening;
    let extra = match &h.ca_pem {
        Some(pem) => certificate::parse_pem(pem).map_err(Failure::Infra)?,
        None => Vec::new(),
    };
    let verifier = certificate::verifier(extra).map_err(Failure::Infra)?;
    let mut v = Verdict::default();
    for ep in endpoints(w)? {
        let hs = tls::handshake(&ep, Modern::Tls13).await?;
        let hs = if hs.chain.is_empty() {
            tls::handshake(&ep, Modern::Tls12).await?
        } else {
            hs
        };
        if hs.chain.is_empty() {
            return Err(Failure::Infra(format!(
                "{}: no certificate was presented in a TLS 1.2 or 1.3 handshake",
                ep.label()
            )));
        }
        let part = certificate::judge(
            verifier.as_ref(),
            &ep.label(),
            &ep.host,
            &hs.chain,
            h.cert_warn,
            SystemTime::now(),
        )
        .map_err(Failure::Infra)?;
        v.violations.extend(part.violations);
        v.evidence.extend(part.evidence);
    }
    super::conclude_verdict(w, v)
}

bind! {
    only_modern_tls => only_modern_tls,
    certificate_sound => certificate_sound,
}

/// This module's phrases, in the order the phrase book lists them.
pub static STEPS: &[StepDef] = &[
    StepDef {
        kind: Kind::Then,
        phrase: "only TLS 1.2 or newer is accepted",
        pattern: "only TLS 1.2 or newer is accepted",
        example: "Then only TLS 1.2 or newer is accepted",
        help: "On the application's and its websocket's TLS endpoints: a real TLS 1.2 or 1.3 handshake completes (the control), and a hand-written TLS 1.0 and 1.1 ClientHello is refused.",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::only_modern_tls,
    },
    StepDef {
        kind: Kind::Then,
        phrase: "the certificate is trusted, valid for the host and not about to expire",
        pattern: "the certificate is trusted, valid for the host and not about to expire",
        example: "Then the certificate is trusted, valid for the host and not about to expire",
        help: "Validates the presented chain against the platform's roots (plus `ca_file`), for the host, now and at the end of the warning window (`cert_warn`, default 30 days).",
        browser: false,
        wait: None,
        needs: &[],
        destructive: false,
        alone: false,
        bruteforce: false,
        run: run::certificate_sound,
    },
];
