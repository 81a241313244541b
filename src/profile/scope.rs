//! Which steps a profile application can run. A step on a channel the profile lacks
//! (realtime, long-lived credentials, a framework cookie) is left out wherever it stands,
//! with a note saying why: every other step on that channel goes too, so nothing left
//! rests on it. A missing action (password change, sign-out, token link, lockout) in a
//! `Given` or `When` makes the scenario NOT APPLICABLE, because what follows it would judge
//! something that never happened; in a `Then` it is left out like a channel step.

use super::schema::Profile;

/// Whether a step the profile lacks (see [`lacks`]) is on a channel, so it can be left
/// out even as a `Given` or `When`.
pub fn on_channel(phrase: &str) -> bool {
    ["realtime", "long-lived", "server session cookie"]
        .iter()
        .any(|w| phrase.contains(w))
}

/// Why `profile` cannot run the step written as `phrase`, if it cannot.
pub fn lacks(profile: &Profile, phrase: &str) -> Option<String> {
    let title = &profile.app.title;
    let has =
        |yes: bool, what: &str| (!yes).then(|| format!("{title} has no {what} in its profile"));
    if phrase.contains("realtime") {
        return has(
            profile.plugins.realtime.is_some(),
            "realtime channel (`[plugins.realtime]`)",
        );
    }
    if phrase.contains("long-lived") {
        return has(
            !profile.long_lived.is_empty(),
            "long-lived credentials (`[[long_lived]]`)",
        );
    }
    if phrase.contains("server session cookie") {
        return has(
            profile.plugins.server_session.is_some(),
            "framework session cookie to open (`plugins.server_session`)",
        );
    }
    if phrase.contains("link carrying") {
        return has(profile.token_link.is_some(), "token link (`[token_link]`)");
    }
    if phrase.contains("change the password") {
        return has(
            profile.password_change.is_some(),
            "password change (`[password_change]`)",
        );
    }
    if phrase.contains("deactivates the account") {
        return has(
            profile.deactivation.is_some(),
            "deactivation of an account by an administrator (`[deactivation]`)",
        );
    }
    if phrase.contains("sign out the other sessions") {
        return has(
            profile.sign_out_others.is_some(),
            "sign-out of the other sessions (`[sign_out_others]`)",
        );
    }
    if phrase.contains("sign out through the user interface") {
        return has(
            profile.sign_out.as_ref().is_some_and(|s| !s.ui.is_empty()),
            "sign-out through the page (`sign_out.ui`)",
        );
    }
    if phrase.starts_with("I sign out") && phrase.contains("through the API") {
        return has(
            profile
                .sign_out
                .as_ref()
                .is_some_and(|s| s.request.is_some()),
            "sign-out request (`sign_out.request`)",
        );
    }
    if phrase.contains("until sign-in is blocked")
        || phrase.contains("sign-in was blocked")
        || phrase.contains("lift the block")
        || phrase.contains("once the block has passed")
    {
        return has(
            profile.sign_in.lockout.is_some(),
            "documented sign-in lockout (`sign_in.lockout`)",
        );
    }
    None
}

/// Why the profile skips the check `id`, if it does.
pub fn skipped(profile: &Profile, id: &str) -> Option<String> {
    profile
        .checks
        .skip
        .get(id)
        .map(|why| format!("{}: {why} (profile `[checks.skip]`)", profile.app.title))
}
