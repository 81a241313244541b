//! Built-in reference targets for runs without configuration, time-scaled so
//! timeouts are tested in seconds.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::apps::AppId;
use crate::checks::timing::Expectations;
use crate::config::{Account, TargetConfig};
use crate::refapp::{self, Posture, RefApp, RefOptions, Weakness};

/// Expectations (and the matching hardened timeouts) for in-process runs. The idle
/// timeout leaves room for a browser to start between two steps on a loaded machine;
/// the lifetime must exceed idle timeout plus grace, or activity could not be told apart.
pub const SCALED: Expectations = Expectations {
    idle_timeout: Duration::from_secs(5),
    max_lifetime: Duration::from_secs(10),
    grace: Duration::from_secs(2),
};

/// How often the reference targets sweep expired tokens (Rocket.Chat: every 10 minutes).
pub const SWEEP: Duration = Duration::from_secs(1);

pub struct ReferenceTargets {
    pub running: Vec<RefApp>,
    pub configs: Vec<TargetConfig>,
}

impl ReferenceTargets {
    pub fn describe(&self) -> String {
        self.running
            .iter()
            .map(|r| {
                format!(
                    "{} reference target ({}) at {}",
                    r.app.name(),
                    r.label,
                    r.https_url
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Starts one reference target per application that has one.
pub async fn start(
    apps: &[AppId],
    posture: Posture,
    weaknesses: &BTreeSet<Weakness>,
    expect: Expectations,
) -> anyhow::Result<ReferenceTargets> {
    let mut running = Vec::new();
    let mut configs = Vec::new();
    for &app in apps {
        if crate::apps::adapter(app).is_none() {
            continue;
        }
        let password = crate::apps::strong_password();
        let login = match app {
            AppId::RocketChat => "sessiondrill".to_string(),
            AppId::Chatwoot => "sessiondrill@chatwoot.test".to_string(),
        };
        let mut opts = RefOptions::new(app, posture, &login, password.clone());
        opts.weaknesses = weaknesses.clone();
        opts.sweep_interval = Some(SWEEP);
        if posture == Posture::Hardened {
            opts.idle_timeout = Some(expect.idle_timeout);
            opts.max_lifetime = Some(expect.max_lifetime);
        }
        let r = refapp::start(opts).await?;
        configs.push(TargetConfig {
            app,
            url: r.https_url.clone(),
            http_url: Some(r.http_url.clone()),
            account: Account { login, password },
            insecure_tls: true,
            expect,
            expiry_slack: Some(SWEEP),
            description: Some(format!("reference target ({})", r.label)),
        });
        running.push(r);
    }
    Ok(ReferenceTargets { running, configs })
}
