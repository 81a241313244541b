//! Any web application with a login page, described by a profile file instead of an
//! adapter written in Rust: the login page's selectors, a sign-in without the browser,
//! where the credential lives and how to present it again, which request proves it
//! valid and what a refusal looks like, sign-out and password change.
//!
//! Shipped profiles live in `profiles/`; `schema` checks a file before anything is
//! sent, `client` makes the profile's requests.

pub mod client;
pub mod init;
pub mod proof;
pub mod registry;
pub mod schema;
pub mod scope;
pub mod shipped;

pub use client::{ProfileClient, SignedIn};
pub use schema::{Profile, ProfileError};

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn shipped() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("profiles/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_shipped_profile_loads() {
        let files = shipped();
        assert!(files.len() >= 2, "{files:?}");
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable");
            let built_in = f
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| schema::BUILT_IN.contains(&s));
            let p = if built_in {
                Profile::built_in(&f, &text)
            } else {
                Profile::parse(&f, &text)
            }
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                f.file_stem().and_then(|s| s.to_str()),
                Some(p.app.name.as_str()),
                "a profile's file is named after its app"
            );
        }
    }

    fn django() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/django.toml"))
            .expect("profiles/django.toml")
    }

    /// Each mistake is named by file, key and what was expected.
    #[test]
    fn mistakes_are_named_by_file_key_and_expectation() {
        let file = Path::new("my.toml");
        const CSRF: &str = "csrf = { page = \"/admin/login/\", field = \"csrfmiddlewaretoken\" }";
        let cases: [(&str, &str, &[&str]); 10] = [
            (
                CSRF,
                "csrf = { page = \"/admin/login/\", field = \"csrfmiddlewaretoken\", meta = \"csrf-token\" }",
                &["`sign_in.csrf`", "exactly one of", "field, meta"],
            ),
            (
                CSRF,
                "csrf = { page = \"/admin/login/\", cookie = \"csrftoken\" }",
                &["`sign_in.csrf.header`", "X-XSRF-TOKEN"],
            ),
            (
                CSRF,
                "csrf = { page = \"/admin/login/\", field = \"csrfmiddlewaretoken\", header = \"X-CSRFToken\" }",
                &["`sign_in.csrf.header`", "goes back as its form field"],
            ),
            (
                "name = \"django\"",
                "name = \"My App\"",
                &["my.toml", "`app.name`", "lower-case", "\"My App\""],
            ),
            (
                "path = \"/admin/login/\"",
                "path = \"admin/login/\"",
                &["`login_page.path`", "starting with `/`"],
            ),
            (
                "accepted = { status = [200] }",
                "accepted = { status = [200, 999] }",
                &["`valid.accepted.status`", "100 to 599", "999"],
            ),
            (
                "cookie = \"sessionid\"",
                "cookie = \"session\"",
                &["`credential.present.cookie`", "credential.cookies"],
            ),
            (
                "location = \"^/admin/login/\"",
                "location = \"^/admin/(login\"",
                &["`valid.refused.location`", "regular expression"],
            ),
            (
                "[sign_in]",
                "[sign_in]\nbogus = 1",
                &["my.toml", "unknown field `bogus`"],
            ),
            (
                "refused = { status = [302], location = \"^/admin/login/\" }",
                "refused = { status = [200] }",
                &["`valid`", "differ in status"],
            ),
        ];
        for (from, to, wanted) in cases {
            let text = django();
            assert!(text.contains(from), "fixture lacks {from:?}");
            let err = Profile::parse(file, &text.replacen(from, to, 1))
                .expect_err(to)
                .to_string();
            for w in wanted {
                assert!(err.contains(w), "{to:?}: {err}");
            }
        }
    }

    /// The richer keys the built-in profiles use are checked as strictly.
    #[test]
    fn mistakes_in_parts_and_plugins_are_named() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/rocketchat.toml"),
        )
        .expect("profiles/rocketchat.toml");
        let cases: [(&str, &str, &[&str]); 5] = [
            (
                "X-User-Id: {user_id}",
                "X-User-Id: {userid}",
                &["`credential.present.headers`", "not {userid}"],
            ),
            (
                "plugin = \"meteor-ddp\"",
                "plugin = \"meteor\"",
                &[
                    "`plugins.realtime.plugin`",
                    "meteor-ddp, actioncable-room, node-red-comms",
                ],
            ),
            (
                "password_proof = \"sha256-hex\"",
                "password_proof = \"md5\"",
                &["`plugins.password_proof`", "sha256-hex"],
            ),
            (
                "page = \"rocketchat-login\"",
                "page = \"rocketchat\"",
                &["`plugins.page`", "rocketchat-login, chatwoot-login"],
            ),
            (
                "\"currentPassword\": \"{old}\"}}",
                "\"currentPassword\": {old}}}",
                &["`password_change.json`", "valid JSON"],
            ),
        ];
        for (from, to, wanted) in cases {
            assert!(text.contains(from), "fixture lacks {from:?}");
            let err = Profile::built_in(Path::new("rc.toml"), &text.replacen(from, to, 1))
                .expect_err(to)
                .to_string();
            for w in wanted {
                assert!(err.contains(w), "{to:?}: {err}");
            }
        }
    }

    /// A header or link pair naming a part the credential lacks is left out, not sent empty.
    #[test]
    fn templates_with_a_missing_part_are_left_out() {
        use crate::model::Credential;
        use crate::secret::Secret;
        let c = Credential::new(Secret::new("tok"), "test");
        assert_eq!(
            client::fill_parts("X-Auth-Token: {token}", &c).as_deref(),
            Some("X-Auth-Token: tok")
        );
        assert_eq!(client::fill_parts("{user_id}", &c), None);
        let c = c.with_part("user_id", Secret::new("u1"));
        assert_eq!(client::fill_parts("{user_id}", &c).as_deref(), Some("u1"));
    }

    #[test]
    fn a_built_in_name_is_refused_for_a_users_profile() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/rocketchat.toml"),
        )
        .expect("profiles/rocketchat.toml");
        let err = Profile::parse(Path::new("rc.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("built-in"), "{err}");
    }

    #[test]
    fn a_missing_file_says_so() {
        let err = Profile::load(Path::new("/nonexistent/app.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/app.toml: cannot read the profile"),
            "{err}"
        );
    }
}
