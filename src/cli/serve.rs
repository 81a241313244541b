//! `sessiondrill serve`: a reference target until Ctrl-C.

use std::time::Duration;

use crate::config::{self};
use crate::duration;
use crate::model::AppId;
use crate::refapp::{self, Posture, RefOptions, Weakness};
use crate::secret::Secret;

use super::{ServeArgs, fail};

/// The demo password of `sessiondrill serve` when none is given (documented in the README).
pub const DEMO_PASSWORD: &str = "Drill-Demo-Passw0rd!";

/// `sessiondrill serve`: a reference target until Ctrl-C.
pub async fn serve(args: ServeArgs) -> i32 {
    let Some(app) = AppId::from_tag(&args.app) else {
        return fail(format!(
            "unknown application `{}`: use rocketchat or chatwoot",
            args.app
        ));
    };
    let posture = match Posture::parse(&args.posture) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let parse_d = |v: &Option<String>, flag: &str| -> Result<Option<Duration>, String> {
        v.as_deref()
            .map(|s| duration::parse(s).map_err(|e| format!("--{flag}: {e}")))
            .transpose()
    };
    let (idle, lifetime, throttle_period) = match (
        parse_d(&args.idle_timeout, "idle-timeout"),
        parse_d(&args.max_lifetime, "max-lifetime"),
        parse_d(&args.throttle_period, "throttle-period"),
    ) {
        (Ok(i), Ok(l), Ok(t)) => (i, l, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(e),
    };
    let var = format!("{}_PASSWORD", app.env_prefix());
    let password = args
        .password
        .clone()
        .or_else(|| config::process_env(&var))
        .unwrap_or_else(|| DEMO_PASSWORD.into());
    let login = args.user.clone().unwrap_or_else(|| match app {
        AppId::Chatwoot => "sessiondrill@chatwoot.test".into(),
        _ => "sessiondrill".into(),
    });
    let mut opts = RefOptions::new(app, posture, &login, Secret::new(password));
    opts.idle_timeout = idle;
    opts.max_lifetime = lifetime;
    opts.secret_key_base = args.secret_key_base.clone();
    opts.throttle_loopback = args.throttle_loopback;
    opts.throttle_period = throttle_period;
    opts.max_sessions = args.max_sessions.map(usize::from);
    let (https_default, http_default) = match app {
        AppId::Chatwoot => (9443, 9080),
        _ => (8443, 8080),
    };
    opts.https_port = args.https_port.unwrap_or(https_default);
    opts.http_port = args.http_port.unwrap_or(http_default);
    opts.bind = args.bind;
    if let Some(h) = &args.host {
        opts.host = h.clone();
    }
    opts.weaknesses = match args.weaken.as_deref().map(Weakness::parse_list).transpose() {
        Ok(w) => w.unwrap_or_default(),
        Err(e) => return fail(e),
    };
    let label = opts.label();
    let running = match refapp::start(opts.clone()).await {
        Ok(r) => r,
        Err(e) => return fail(format!("{e:#}")),
    };
    let upper = app.tag().to_uppercase();
    let login_var = if app == AppId::RocketChat {
        "USER"
    } else {
        "EMAIL"
    };
    println!("{} reference target ({label}) is running:", app.name());
    println!("  {}   (self-signed certificate)", running.https_url);
    println!("  {}", running.http_url);
    println!(
        "Account {login}, password as given (--password, ${var}, or the README's demo password)."
    );
    println!("Run the suite against it from another terminal:");
    let human_arg = |d: Duration| duration::human(d).replace(' ', "");
    let mut vars = vec![
        format!(
            "SESSIONDRILL_{upper}_URL={}",
            running.https_url.as_str().trim_end_matches('/')
        ),
        format!(
            "SESSIONDRILL_{upper}_HTTP_URL={}",
            running.http_url.as_str().trim_end_matches('/')
        ),
        format!("SESSIONDRILL_{upper}_{login_var}={login}"),
        format!("SESSIONDRILL_{upper}_PASSWORD=..."),
        format!(
            "SESSIONDRILL_IDLE_TIMEOUT={}",
            human_arg(idle.unwrap_or(Duration::from_secs(1800)))
        ),
        format!(
            "SESSIONDRILL_MAX_LIFETIME={}",
            human_arg(lifetime.unwrap_or(Duration::from_secs(12 * 3600)))
        ),
        // A local stand-in needs little slack for clocks.
        "SESSIONDRILL_GRACE=2s".to_string(),
        "SESSIONDRILL_ALLOW_DESTRUCTIVE=1".to_string(),
    ];
    if posture == Posture::Hardened {
        // This stand-in enforces expiry on its API at once; real Rocket.Chat waits for its sweep.
        vars.push(format!("SESSIONDRILL_{upper}_EXPIRY_SLACK=0s"));
    }
    println!("  {} cargo run --release", vars.join(" \\\n  "));
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    drop(running);
    0
}
