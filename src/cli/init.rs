//! `sessiondrill init-profile`: propose a profile from a running application.

use std::path::PathBuf;

use url::Url;

use crate::report::ExitCode;

use super::fail;

/// `init-profile`: bad input is refused before a browser starts.
pub(super) async fn init_profile(url: &str, name: Option<String>, out: Option<PathBuf>) -> i32 {
    let url = match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            return fail(format!(
                "init-profile: {url:?} is not an http(s) URL of a login page"
            ));
        }
    };
    let name = name.unwrap_or_else(|| {
        let host = url.host_str().unwrap_or("app");
        let first = host.split('.').next().unwrap_or(host);
        let clean: String = first
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if clean.chars().all(|c| c.is_ascii_digit() || c == '-') {
            "app".into()
        } else {
            clean
        }
    });
    if !crate::profile::schema::valid_name(&name) {
        return fail(format!(
            "init-profile: --name {name:?}: use lower-case letters, digits and `-`"
        ));
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    if out.exists() {
        return fail(format!(
            "init-profile: {} exists; give another --out or move it away",
            out.display()
        ));
    }
    let account = match (
        std::env::var("SESSIONDRILL_INIT_USER").ok(),
        std::env::var("SESSIONDRILL_INIT_PASSWORD").ok(),
    ) {
        (Some(u), Some(p)) => Some((u, crate::secret::Secret::new(p))),
        (None, None) => None,
        _ => {
            return fail(
                "init-profile: set both SESSIONDRILL_INIT_USER and SESSIONDRILL_INIT_PASSWORD, or neither",
            );
        }
    };
    let webdriver = match std::env::var("WEBDRIVER_URL").ok().map(|s| Url::parse(&s)) {
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => return fail(format!("WEBDRIVER_URL: {e}")),
        None => None,
    };
    let insecure = std::env::var("SESSIONDRILL_INSECURE_TLS").is_ok_and(|v| v == "1");
    let browsers = crate::browser::Browsers::new(webdriver, 2);
    if let Some(h) = url.host_str() {
        browsers.allow_host(h);
    }
    let result = init_profile_with(&browsers, &url, &name, account, insecure).await;
    browsers.shutdown();
    match result {
        Ok((text, todos)) => match std::fs::write(&out, text) {
            Ok(()) => {
                println!(
                    "wrote {}: {todos} TODO line(s) to fill in before it loads",
                    out.display()
                );
                0
            }
            Err(e) => fail(format!("init-profile: cannot write {}: {e}", out.display())),
        },
        Err(e) => {
            eprintln!("sessiondrill: init-profile: {e:#}");
            ExitCode::Errors.code()
        }
    }
}

async fn init_profile_with(
    browsers: &crate::browser::Browsers,
    url: &Url,
    name: &str,
    account: Option<(String, crate::secret::Secret)>,
    insecure: bool,
) -> anyhow::Result<(String, usize)> {
    use crate::profile::init;
    println!("opening {url}");
    let b = browsers.session(insecure).await?;
    let found = init::discover(&b, url).await;
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            b.close().await;
            return Err(e);
        }
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "not found".into());
    println!(
        "found: user {}, password {}, submit {}",
        show(&found.user),
        show(&found.password),
        show(&found.submit)
    );
    let learned = match account {
        Some((user, password)) => {
            println!(
                "signing in as {user}, once with a wrong password and once with the right one"
            );
            let right = browsers.session(insecure).await;
            let learned = match &right {
                Ok(r) => init::learn(&b, r, url, &found, &user, &password).await,
                Err(e) => Err(anyhow::anyhow!("{e}")),
            };
            if let Ok(r) = right {
                r.close().await;
            }
            learned
        }
        None => {
            println!(
                "no account given (SESSIONDRILL_INIT_USER, SESSIONDRILL_INIT_PASSWORD): the refusal and the signed-in page stay TODO"
            );
            Ok(Default::default())
        }
    };
    b.close().await;
    let text = init::write(name, url, &found, &learned?);
    let todos = text.lines().filter(|l| l.starts_with("# TODO")).count();
    Ok((text, todos))
}
