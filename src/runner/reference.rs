//! Built-in reference targets for runs without configuration, time-scaled so
//! timeouts are tested in seconds.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::checks::timing::Expectations;
use crate::config::{Account, TargetConfig};
use crate::model::AppId;
use crate::refapp::{self, Posture, RefApp, RefOptions, Weakness};
use crate::secret::Secret;

/// Expectations (and the matching hardened timeouts) for in-process runs. The idle
/// timeout leaves room for a browser to start between two steps on a loaded machine;
/// the lifetime must exceed idle timeout plus grace by more than a loaded machine's lag,
/// or an idle refusal could not be told from the absolute lifetime, and must outlast the
/// slowest sign-out scenario (Chatwoot's through a Grid took 18 s): every refusal judged
/// after it is ERROR.
pub const SCALED: Expectations = Expectations {
    idle_timeout: Duration::from_secs(5),
    max_lifetime: Duration::from_secs(30),
    grace: Duration::from_secs(2),
};

/// How long the reference targets block sign-ins after too many failures (5 minutes in
/// the applications).
pub const LOCKOUT: Duration = Duration::from_secs(3);

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

/// The options of the built-in reference target for `app`.
pub fn options(
    app: AppId,
    posture: Posture,
    weaknesses: &BTreeSet<Weakness>,
    expect: Expectations,
) -> RefOptions {
    let login = match app {
        AppId::Chatwoot => "sessiondrill@chatwoot.test",
        _ => "sessiondrill",
    };
    let mut opts = RefOptions::new(app, posture, login, crate::apps::strong_password());
    opts.weaknesses = weaknesses.clone();
    opts.sweep_interval = Some(SWEEP);
    opts.lockout_period = Some(LOCKOUT);
    opts.stores = true;
    if posture == Posture::Hardened {
        opts.idle_timeout = Some(expect.idle_timeout);
        opts.max_lifetime = Some(expect.max_lifetime);
    }
    opts
}

/// Starts one reference target and the configuration that points the suite at it.
pub async fn start_one(
    opts: RefOptions,
    expect: Expectations,
) -> anyhow::Result<(RefApp, TargetConfig)> {
    let mut opts = opts;
    let (app, login, password) = (opts.app, opts.login.clone(), opts.password.clone());
    // Only Rocket.Chat's stand-in has an administrator (Chatwoot has no deactivation).
    let admin = (app == AppId::RocketChat).then(|| Account {
        login: opts.admin.0.clone(),
        password: opts.admin.1.clone(),
    });
    // The suite is told the stand-in's secret, as a user may tell it their deployment's.
    if app == AppId::Chatwoot && opts.secret_key_base.is_none() {
        opts.secret_key_base = Some(crate::secret::random_hex(64));
    }
    let secret_key_base = opts.secret_key_base.clone().map(Secret::new);
    let lockout_period = opts.lockout_period;
    let r = refapp::start(opts).await?;
    let mut hardening = r.hardening.clone();
    // The application's bound, with the block's length the stand-in was given.
    if let (Some(period), Some(a)) = (lockout_period, crate::apps::adapter(app)) {
        hardening.lockout = Some((a.failed_sign_in_block().0, period));
    }
    let config = TargetConfig {
        app,
        url: r.https_url.clone(),
        http_url: Some(r.http_url.clone()),
        account: Account { login, password },
        admin,
        insecure_tls: true,
        expect,
        expiry_slack: Some(SWEEP),
        description: Some(format!("reference target ({})", r.label)),
        secret_key_base,
        ui: crate::facts::ui::Ui::new(app.tag(), Default::default()),
        hardening,
    };
    Ok((r, config))
}

/// Starts one reference target per application that has one; `stores` starts their
/// session stores beside them (real Redis and PostgreSQL take about a second).
pub async fn start(
    apps: &[AppId],
    posture: Posture,
    weaknesses: &BTreeSet<Weakness>,
    expect: Expectations,
    stores: bool,
) -> anyhow::Result<ReferenceTargets> {
    let mut running = Vec::new();
    let mut configs = Vec::new();
    for &app in apps {
        if crate::apps::adapter(app).is_none() {
            continue;
        }
        let mut opts = options(app, posture, weaknesses, expect);
        opts.stores = stores;
        let (r, config) = start_one(opts, expect).await?;
        configs.push(config);
        running.push(r);
    }
    Ok(ReferenceTargets { running, configs })
}
