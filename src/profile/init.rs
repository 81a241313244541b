//! `sessiondrill init-profile URL`: opens the login page in the browser, finds the
//! password field, its form, the user field and the submit control, and writes a
//! starting profile. Given an account, it also signs in once with a wrong and once with
//! the right password to learn the page's refusal, what shows a signed-in page and which
//! cookies and storage keys appeared. What it cannot infer is marked `# TODO` (and left
//! out, so the file does not load until a person fills it in).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use url::Url;

use super::schema::{LoginPage, SignedIn};
use crate::browser::BrowserSession;
use crate::secret::Secret;

/// The login form as the page has it.
#[derive(Debug, Clone, Deserialize)]
pub struct Found {
    pub user: Option<String>,
    pub password: Option<String>,
    pub submit: Option<String>,
    pub form: Option<FormFound>,
    /// The page's path and query.
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FormFound {
    pub action: Option<String>,
    pub method: String,
    pub user_name: Option<String>,
    pub password_name: Option<String>,
    pub hidden: Vec<Hidden>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hidden {
    pub name: String,
    pub value: String,
}

/// What signing in taught: the refusal, the signed-in signal, the credential's places.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    pub refused: Option<String>,
    pub signed_in: Option<SignedIn>,
    pub cookies: Vec<String>,
    /// Changed cookies the signed-in page turned out not to need (see `needed`).
    pub not_needed: Vec<String>,
    /// Why the cookies could not be told apart, when they could not.
    pub untested: Option<String>,
    pub storage: Vec<String>,
}

/// A unique CSS selector for an element: its id, else its name or type within its form.
const SELECTOR_JS: &str = r#"
const visible = e => !!(e && e.offsetParent !== null);
const unique = s => { try { return document.querySelectorAll(s).length === 1 ? s : null; } catch (_) { return null; } };
const sel = (e, form) => {
  if (!e) return null;
  if (e.id) { const s = unique('#' + CSS.escape(e.id)); if (s) return s; }
  const tag = e.tagName.toLowerCase();
  const pre = form && form.id ? '#' + CSS.escape(form.id) + ' ' : (form ? 'form ' : '');
  for (const attr of ['name', 'type']) {
    const v = e.getAttribute(attr);
    if (v) { const s = unique(pre + tag + '[' + attr + '="' + v + '"]'); if (s) return s; }
  }
  for (const c of e.classList) { const s = unique(tag + '.' + CSS.escape(c)); if (s) return s; }
  return null;
};
"#;

const DISCOVER_JS: &str = r#"
const pw = [...document.querySelectorAll('input[type=password]')].find(visible);
if (!pw) return null;
const form = pw.form || pw.closest('form');
const scope = form || document;
const inputs = [...scope.querySelectorAll('input')].filter(visible);
const before = inputs.slice(0, inputs.indexOf(pw)).reverse();
const user = before.find(e => ['text', 'email', 'tel', ''].includes((e.getAttribute('type') || '').toLowerCase()));
const words = /log ?in|sign ?in|submit|continue|anmelden|connexion/i;
const submit = [...scope.querySelectorAll('button[type=submit], input[type=submit], button:not([type])')].find(visible)
  || [...document.querySelectorAll('button, input[type=submit], input[type=button], [role=button]')]
       .find(e => visible(e) && words.test((e.textContent || '') + ' ' + (e.value || '')));
return JSON.stringify({
  user: sel(user, form), password: sel(pw, form), submit: sel(submit, form),
  form: form ? {
    action: form.getAttribute('action'),
    method: (form.getAttribute('method') || 'get').toLowerCase(),
    user_name: user ? user.getAttribute('name') : null,
    password_name: pw.getAttribute('name'),
    hidden: [...form.querySelectorAll('input[type=hidden]')].filter(e => e.name).map(e => ({ name: e.name, value: e.value })),
  } : null,
  path: location.pathname + location.search,
});
"#;

/// Marks what is visible now, so that what appears after submitting can be told apart.
const MARK_JS: &str = r#"
for (const e of document.querySelectorAll('body *')) { if (visible(e)) e.__sessiondrillSeen = true; }
window.__sessiondrillForm = true;
return true;
"#;

/// A newly visible element that reads as an error, once the submitted page settles.
const REFUSAL_JS: &str = r#"
const looks = /error|fail|invalid|alert|warn|denied/i;
for (const e of document.querySelectorAll('body *')) {
  if (!visible(e) || e.__sessiondrillSeen) continue;
  const label = (e.id || '') + ' ' + (typeof e.className === 'string' ? e.className : '');
  if (looks.test(label)) { const s = sel(e, null); if (s) return s; }
}
return null;
"#;

const PAGE_WAIT: Duration = Duration::from_secs(20);
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Finds the login form on the page at `url` (waiting for a script-built one to appear).
pub async fn discover(b: &BrowserSession, url: &Url) -> anyhow::Result<Found> {
    b.goto(url).await?;
    let json = b
        .poll_js(&format!("{SELECTOR_JS}{DISCOVER_JS}"), PAGE_WAIT)
        .await
        .with_context(|| {
            format!(
                "no visible password field on {url} within {} s",
                PAGE_WAIT.as_secs()
            )
        })?;
    serde_json::from_str(&json).context("reading what the page script found")
}

async fn submit(
    b: &BrowserSession,
    url: &Url,
    found: &Found,
    user: &str,
    password: &Secret,
) -> anyhow::Result<()> {
    let (Some(u), Some(p), Some(s)) = (&found.user, &found.password, &found.submit) else {
        anyhow::bail!(
            "the login form's user field, password field and submit control are needed to sign in"
        );
    };
    b.goto(url).await?;
    b.wait_any(&[p], PAGE_WAIT).await?;
    b.fill(u, user).await?;
    b.fill(p, password.expose()).await?;
    b.exec(&format!("{SELECTOR_JS}{MARK_JS}"), vec![]).await?;
    b.click(s).await?;
    Ok(())
}

/// Signs in with a wrong password (in `wrong`) and the right one (in `right`, a fresh
/// browser) and records what changed.
pub async fn learn(
    wrong: &BrowserSession,
    right: &BrowserSession,
    url: &Url,
    found: &Found,
    user: &str,
    password: &Secret,
) -> anyhow::Result<Learned> {
    let mut learned = Learned::default();
    let wrong_password = Secret::new(format!("{}-wrong", password.expose()));
    submit(wrong, url, found, user, &wrong_password).await?;
    learned.refused = wrong
        .poll_js(&format!("{SELECTOR_JS}{REFUSAL_JS}"), ANSWER_WAIT)
        .await
        .ok();

    let cookies_before: BTreeMap<String, String> = right
        .cookies()
        .await?
        .into_iter()
        .map(|c| (c.name, c.value.expose().to_string()))
        .collect();
    submit(right, url, found, user, password).await?;
    let password_css = found.password.clone().unwrap_or_default();
    // Signed in once the password field is gone (a new page, or the dialog closed).
    let gone = format!(
        "const e = document.querySelector({}); return (document.readyState === 'complete' && !(e && e.offsetParent !== null)) ? location.pathname : null;",
        serde_json::json!(password_css)
    );
    let path = right.poll_js(&gone, ANSWER_WAIT).await.with_context(|| {
        "after submitting the right password the password field stayed: check the account, or the page needs more than one step"
    })?;
    let login_path = url.path();
    learned.signed_in = Some(if path != login_path {
        SignedIn {
            url: Some(format!("^{}$", regex::escape(&path))),
            ..SignedIn::default()
        }
    } else {
        SignedIn {
            form_gone: true,
            ..SignedIn::default()
        }
    });
    let jar: Vec<(String, String)> = right
        .cookies()
        .await?
        .into_iter()
        .map(|c| (c.name, c.value.expose().to_string()))
        .collect();
    let changed: Vec<String> = jar
        .iter()
        .filter(|(n, v)| cookies_before.get(n) != Some(v))
        .map(|(n, _)| n.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let page = url.join(&path).unwrap_or_else(|_| url.clone());
    match needed(&page, &jar, &cookies_before, &changed).await {
        Ok(split) => (learned.cookies, learned.not_needed) = split,
        Err(why) => {
            learned.cookies = changed;
            learned.untested = Some(why);
        }
    }
    let (local, _) = right.storage().await?;
    learned.storage = local.into_keys().collect();
    Ok(learned)
}

/// A cookie is the session's only if the application needs it: the signed-in page,
/// asked with every cookie the browser holds, answers differently when that one cookie
/// is put back to its value from before sign-in (or left out). Both lists: needed, not.
async fn needed(
    page: &Url,
    jar: &[(String, String)],
    before: &BTreeMap<String, String>,
    changed: &[String],
) -> Result<(Vec<String>, Vec<String>), String> {
    let client = crate::crypto::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let answer = |cookies: Vec<(String, String)>| {
        let header = cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = client
            .get(page.clone())
            .header(reqwest::header::COOKIE, header);
        async move {
            let r = req.send().await.map_err(|e| format!("GET {page}: {e}"))?;
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = r.text().await.unwrap_or_default();
            // A login form in the answer is a visitor's page.
            let form = body.contains("type=\"password\"") || body.contains("type='password'");
            Ok::<_, String>((status, location, form))
        }
    };
    let signed_in = answer(jar.to_vec()).await?;
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for name in changed {
        let without: Vec<(String, String)> = jar
            .iter()
            .filter_map(|(n, v)| match (n == name, before.get(n)) {
                (false, _) => Some((n.clone(), v.clone())),
                (true, Some(old)) => Some((n.clone(), old.clone())),
                (true, None) => None,
            })
            .collect();
        if answer(without).await? != signed_in {
            yes.push(name.clone());
        } else {
            no.push(name.clone());
        }
    }
    if yes.is_empty() && !no.is_empty() {
        // Nothing changed the answer: the page does not show what the session is (a
        // script-built page, a token outside cookies). Say so rather than guess.
        return Err(format!(
            "GET {page} answers alike with and without each of them"
        ));
    }
    Ok((yes, no))
}

fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The starting profile as TOML text, with `# TODO` where a person must decide.
pub fn write(name: &str, url: &Url, found: &Found, learned: &Learned) -> String {
    let todo = |what: &str| format!("# TODO {what}\n");
    let mut out = String::new();
    out.push_str(&format!(
        "# A starting profile for {url}, written by `sessiondrill init-profile`.\n\
         # Lines marked TODO could not be inferred; the file loads once they are filled in.\n\n\
         [app]\nname = {}\ntitle = {}\n\n",
        q(name),
        q(url.host_str().unwrap_or(name))
    ));
    out.push_str(&format!("[login_page]\npath = {}\n", q(&found.path)));
    for (key, v) in [
        ("user", &found.user),
        ("password", &found.password),
        ("submit", &found.submit),
    ] {
        match v {
            Some(css) => out.push_str(&format!("{key} = {}\n", q(css))),
            None => out.push_str(&todo(&format!(
                "{key}: no unique selector found; write one"
            ))),
        }
    }
    match &learned.refused {
        Some(css) => out.push_str(&format!("refused = {}\n", q(css))),
        None => out.push_str(&todo(
            "refused: the selector of what the page shows for a wrong password",
        )),
    }
    match &learned.signed_in {
        Some(SignedIn { url: Some(u), .. }) => {
            out.push_str(&format!("signed_in = {{ url = {} }}\n", q(u)))
        }
        Some(SignedIn {
            form_gone: true, ..
        }) => out.push_str("signed_in = { form_gone = true }\n"),
        _ => out.push_str(&todo(
            "signed_in: { selector = \"…\" } or { url = \"^/…\" } (give an account to infer it)",
        )),
    }

    out.push_str("\n[sign_in]\n");
    match &found.form {
        Some(f) if f.method == "post" && f.user_name.is_some() && f.password_name.is_some() => {
            let action = f.action.clone().filter(|a| a.starts_with('/')).unwrap_or_else(|| found.path.clone());
            out.push_str(&format!("path = {}\n", q(&action)));
            let mut fields = vec![
                (f.user_name.clone().unwrap_or_default(), "{user}".to_string()),
                (f.password_name.clone().unwrap_or_default(), "{password}".to_string()),
            ];
            let csrf = f
                .hidden
                .iter()
                .find(|h| regex::Regex::new("(?i)csrf|xsrf|authenticity|token").is_ok_and(|r| r.is_match(&h.name)));
            for h in &f.hidden {
                if Some(h) != csrf {
                    fields.push((h.name.clone(), h.value.clone()));
                }
            }
            let form: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{} = {}", q(k), q(v)))
                .collect();
            out.push_str(&format!("form = {{ {} }}\n", form.join(", ")));
            if let Some(c) = csrf {
                out.push_str(&format!(
                    "csrf = {{ page = {}, field = {} }}\n",
                    q(&found.path),
                    q(&c.name)
                ));
            }
        }
        _ => out.push_str(&todo(
            "path and form (or json): the page signs in by script; copy the request from the browser's network panel",
        )),
    }
    out.push_str(&todo(
        "success = { status = [...] } and refused = { status = [...] }: the answers to the right and a wrong password",
    ));

    out.push_str("\n[credential]\n");
    if !learned.cookies.is_empty() {
        let names: Vec<String> = learned.cookies.iter().map(|c| q(c)).collect();
        let why = match &learned.untested {
            Some(why) => format!(
                "Cookies that appeared or changed at sign-in; keep the session's (which the page needs could not be told: {why})."
            ),
            None => "Cookies the signed-in page needs: put back to their value from before sign-in, or left out, it answers as to a visitor.".into(),
        };
        out.push_str(&format!("# {why}\ncookies = [{}]\n", names.join(", ")));
    }
    if !learned.not_needed.is_empty() {
        out.push_str(&format!(
            "# Changed at sign-in but not needed by the signed-in page: {}\n",
            learned.not_needed.join(", ")
        ));
    }
    if !learned.storage.is_empty() {
        out.push_str(&format!(
            "# localStorage keys after sign-in: {}\n",
            learned.storage.join(", ")
        ));
    }
    out.push_str(&todo(
        "present = { cookie = \"…\" } or { header = \"Authorization: Bearer {token}\" }",
    ));
    out.push_str(&format!(
        "\n[valid]\n{}",
        todo("path, accepted and refused: a request only a signed-in session may make, and how the app refuses it")
    ));
    out
}

/// The `[login_page]` of a written profile, for trying it before the rest is filled in.
pub fn login_page_of(text: &str) -> anyhow::Result<LoginPage> {
    #[derive(Deserialize)]
    struct Only {
        login_page: LoginPage,
    }
    let v: toml::Value = toml::from_str(text).context("the written profile is not TOML")?;
    let only = toml::Value::Table(
        [(
            "login_page".to_string(),
            v.get("login_page").cloned().context("no [login_page]")?,
        )]
        .into_iter()
        .collect(),
    );
    Ok(only.try_into::<Only>().context("[login_page]")?.login_page)
}
