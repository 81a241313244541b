//! The self-check's cases: each weakness of a reference target, the features it
//! concerns, and every assertion it must break: the check, the step that must be the
//! failing one, and the failure message as a pattern (`*` stands for anything: times,
//! masked tokens, ports), as hurl keeps the exact output of its failing tests.

use sessiondrill::apps::AppId;

/// One assertion a weakness must break.
pub struct Expect {
    pub check: &'static str,
    /// The failing step's text, as in the feature file.
    pub step: &'static str,
    /// The whole failure message; `*` matches anything.
    pub message: &'static str,
}

/// (weakness, feature tags to run, what must fail).
pub struct Case {
    pub weakness: &'static str,
    pub tags: &'static str,
    pub fails: &'static [Expect],
}

const fn e(check: &'static str, step: &'static str, message: &'static str) -> Expect {
    Expect {
        check,
        step,
        message,
    }
}

const STILL_ACCEPTED: &str = "the * session is still accepted by the API*: accepted at *s (*) … still accepted at *s (*→ 200*)";
const REALTIME_STILL: &str = "the realtime channel still accepts the * session*: accepted at *s (*) … still accepted at *s (*)";

const NO_HOST_PREFIX: &str = "*: no __Host- prefix: nothing stops a sibling subdomain or plain-HTTP page from overwriting it [ASVS 3.4.4]";

const CERT: &str = "certificate";
const MIXED_STEP: &str = "the pages loaded nothing over plain HTTP";
const CERT_STEP: &str = "the certificate is trusted, valid for the host and not about to expire";
const TOKENS: &str = "token-strength";
const TOKENS_STEP: &str = "the tokens show no statistical weakness and at least 128 effective bits";
// Counters and clocks written as base64url use few symbols, so the narrowest alphabet
// holding a sample may be base58 or base62 (judged per character) or base64url (per bit).
const TOKENS_BELOW_64: &str =
    "session tokens: about * effective bits of * (*); at least 64 are required [ASVS 3.2.2]";

/// The regeneration scenarios, but for the fixation one: it is NOT APPLICABLE unless the
/// login page issues a session id (`anonymous-session-cookie`), proven by its own cases.
const REGENERATION: &str = "@regeneration and not @check-issued-id-replaced";
const ISSUED: &str = "issued-id-replaced";

/// Checks an application does not offer: NOT APPLICABLE by design, which the as-shipped run
/// of `tests/output.rs` and the hardened run of `tests/grid.rs` require. Their lines need no
/// weakness here, and no mirror judges them.
pub const NOT_OFFERED: &[(AppId, &str)] = &[
    // Chatwoot 4.9.1 has no "sign out other sessions" (profiles/chatwoot.toml).
    (AppId::Chatwoot, "end-other-sessions"),
    // Chatwoot has no deactivation of a user (removing an agent from an account is not one).
    (AppId::Chatwoot, "deactivation-ends-sessions"),
];

/// Weaknesses both reference targets have.
pub const SHARED: &[Case] = &[
    Case {
        weakness: "legacy-tls",
        tags: "@tls",
        fails: &[e(
            "tls-versions",
            "only TLS 1.2 or newer is accepted",
            "*: TLS 1.0 accepted (ServerHello 0x0301, cipher suite 0x*) [ASVS 9.1.2]\n*: TLS 1.1 accepted (ServerHello 0x0302, cipher suite 0x*) [ASVS 9.1.2]",
        )],
    },
    Case {
        weakness: "expired-certificate",
        tags: "@tls",
        fails: &[e(
            CERT,
            CERT_STEP,
            "*: the certificate expired * [ASVS 9.1.2]",
        )],
    },
    Case {
        weakness: "certificate-expiring-soon",
        tags: "@tls",
        fails: &[e(
            CERT,
            CERT_STEP,
            "*: the certificate expires *, within the 30-day warning window [ASVS 5.0 12.2.2]",
        )],
    },
    Case {
        weakness: "certificate-wrong-host",
        tags: "@tls",
        fails: &[e(
            CERT,
            CERT_STEP,
            "*: the certificate is not valid for *.test (it names *elsewhere.test*) [ASVS 9.1.2]",
        )],
    },
    Case {
        weakness: "untrusted-certificate",
        tags: "@tls",
        fails: &[e(
            CERT,
            CERT_STEP,
            "*: the certificate chain does not lead to a trusted root * [ASVS 5.0 12.2.2]",
        )],
    },
    Case {
        weakness: "open-session-store",
        tags: "@store",
        fails: &[e(
            "session-store",
            "the session stores refuse clients without credentials",
            "*: answers a client without credentials: * [ASVS 5.0 13.2.1]",
        )],
    },
    Case {
        weakness: "counter-tokens",
        tags: "@check-token-strength",
        fails: &[e(TOKENS, TOKENS_STEP, TOKENS_BELOW_64)],
    },
    Case {
        weakness: "timestamp-tokens",
        tags: "@check-token-strength",
        fails: &[e(TOKENS, TOKENS_STEP, TOKENS_BELOW_64)],
    },
    Case {
        weakness: "short-random-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of * (6* of * bit positions pass the FIPS 140-2 tests over * tokens); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "cacheable-session-data",
        tags: "@check-not-cacheable",
        fails: &[e(
            "not-cacheable",
            "answers carrying the API session's data are not cacheable",
            "GET * (the signed-in user's data): Cache-Control: max-age=0, private, must-revalidate: browsers and proxies may keep this answer; send Cache-Control: no-store [ASVS 8.2.1]",
        )],
    },
    Case {
        weakness: "mixed-content",
        tags: "@traffic",
        fails: &[e(
            "no-mixed-content",
            MIXED_STEP,
            "http://*/assets/logo.png: an HTTPS page requests it over plain HTTP (the browser reports mixed content: upgraded to HTTPS this time) [ASVS 9.1.1]",
        )],
    },
    Case {
        weakness: "credentials-over-http",
        tags: "@traffic",
        fails: &[
            // The beacon is also a plain-HTTP request from an HTTPS page.
            e(
                "no-mixed-content",
                MIXED_STEP,
                "POST http://*/analytics/login: an HTTPS page requests a plain-HTTP resource (mixed content, blockable) [ASVS 9.1.1]",
            ),
            e(
                "credentials-over-tls",
                "the credentials were sent only over HTTPS",
                "POST http://*/analytics/login: the credentials are sent over plain HTTP [ASVS 9.1.1]",
            ),
        ],
    },
    Case {
        weakness: "token-in-url",
        tags: "@traffic",
        fails: &[e(
            "token-not-in-url",
            "no address, Referer or redirect carried the session token",
            "address https://*/avatar/me?token=*: the session token is in the URL [ASVS 3.1.1]",
        )],
    },
    Case {
        weakness: "token-prefix-match",
        tags: "@check-forged-tokens",
        fails: &[e(
            "forged-tokens",
            "forged and random variants of the API session's token are refused by the API",
            "forged token (last character changed): the API accepted it: *",
        )],
    },
    Case {
        weakness: "no-login-throttle",
        tags: "@bruteforce",
        fails: &[e(
            "login-throttle",
            "sign-in was blocked within the expected number of failures",
            "* wrong passwords in a row were each answered as a wrong password: no throttle or lockout within * failures (*'s documented bound, or SESSIONDRILL_<APP>_LOCKOUT) [ASVS 2.2.1]",
        )],
    },
    Case {
        weakness: "throttle-trusts-forwarded-for",
        tags: "@bruteforce",
        fails: &[e(
            "login-throttle",
            "a forged X-Forwarded-For or X-Real-IP does not lift the block",
            "a sign-in claiming X-Forwarded-For and X-Real-IP: 203.0.113.* was judged as a fresh wrong password, not blocked (*): the block is keyed by an address the client chooses [ASVS 2.2.1]",
        )],
    },
    Case {
        weakness: "permanent-lockout",
        tags: "@bruteforce",
        fails: &[e(
            "login-throttle",
            "the account signs in again once the block has passed",
            "* is still blocked * after the last failed attempt (block * + grace *): *; a block that does not end lets anyone lock a user out [ASVS 2.2.1]",
        )],
    },
    Case {
        weakness: "logout-keeps-token",
        tags: "@logout",
        fails: &[
            e(
                "logout-ui",
                "the browser session is rejected by the API",
                STILL_ACCEPTED,
            ),
            e(
                "logout-api",
                "the API session is rejected by the API",
                STILL_ACCEPTED,
            ),
        ],
    },
    Case {
        weakness: "keeps-cookies-after-logout",
        tags: "@logout",
        fails: &[e(
            "logout-ui",
            "the browser no longer holds the session token",
            "after signing out the browser still holds the session token in cookie * [ASVS 5.0 14.3.1]",
        )],
    },
    Case {
        weakness: "realtime-outlives-session",
        // Chatwoot offers no sign-out of the other sessions nor a deactivation (NOT_OFFERED).
        tags: "@logout or @idle or @password or ((@others or @deactivation) and @rocketchat)",
        fails: &[
            e(
                "logout-ui",
                "resuming the browser session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "logout-api",
                "resuming the API session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "idle-expiry",
                "resuming the API session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "password-change",
                "resuming the second session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "end-other-sessions",
                "resuming the second session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "deactivation-ends-sessions",
                "resuming the second session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
        ],
    },
    Case {
        weakness: "realtime-keeps-connections",
        tags: "@password",
        fails: &[e(
            "password-change",
            "the realtime connection of the second session is closed",
            "the realtime connection of the second session is still open * later: it keeps receiving events",
        )],
    },
    Case {
        weakness: "no-session-limit",
        tags: "@check-session-limit",
        fails: &[e(
            "session-limit",
            "the account never held more sessions than its limit",
            "* sessions signed in one after another are accepted at once (the first still is): the declared limit of * sessions per account is not enforced [ASVS 5.0 7.1.2]",
        )],
    },
    Case {
        weakness: "password-change-without-current",
        tags: "@check-password-change-needs-current",
        fails: &[e(
            "password-change-needs-current",
            "the password change was refused and the password still signs in",
            "* changed the password with a wrong current password: * [ASVS 5.0 6.2.3]",
        )],
    },
    Case {
        weakness: "password-change-keeps-sessions",
        tags: "@password",
        fails: &[e(
            "password-change",
            "the second session is rejected by the API",
            STILL_ACCEPTED,
        )],
    },
    Case {
        weakness: "no-rotation-at-login",
        // Every sign-in shares one token here, so other scenarios' sign-outs would end it.
        tags: "@check-new-token-per-sign-in",
        fails: &[e(
            "new-token-per-sign-in",
            "the two sign-ins yielded different session tokens",
            "both sign-ins returned the same session token *: the token is not regenerated at authentication",
        )],
    },
    Case {
        weakness: "adopts-planted-token",
        tags: REGENERATION,
        fails: &[e(
            "planted-token",
            "the browser session is not the planted token",
            "after sign-in the session token is the planted one (*): a token chosen before sign-in was adopted",
        )],
    },
    Case {
        weakness: "planted-token-also-valid",
        tags: REGENERATION,
        fails: &[e(
            "planted-token",
            "the planted token is rejected by the API",
            "the planted token * is accepted by the API after the victim signed in: *→ 200*",
        )],
    },
    Case {
        weakness: "no-httponly",
        tags: "@cookies",
        fails: &[
            e(
                "cookie-httponly",
                "every session cookie is HttpOnly",
                "*: no HttpOnly attribute: page script can read it [ASVS 3.4.2]",
            ),
            e(
                "token-not-scriptable",
                "page script cannot read the session token",
                "document.cookie (*): the session token is readable by page script through a cookie without HttpOnly [ASVS 3.4.2]",
            ),
        ],
    },
    Case {
        weakness: "no-secure",
        tags: "@cookies",
        fails: &[
            e(
                "cookie-secure",
                "every session cookie is Secure",
                "*: no Secure attribute: it is sent over plain HTTP [ASVS 3.4.1]",
            ),
            e(
                "cookie-host-prefix",
                "every session cookie has the __Host- prefix",
                NO_HOST_PREFIX,
            ),
        ],
    },
    Case {
        weakness: "no-samesite",
        tags: "@cookies",
        fails: &[e(
            "cookie-samesite",
            "every session cookie has SameSite Lax or Strict",
            "*: no SameSite attribute: the browser's default decides, and differs between browsers [ASVS 3.4.3]",
        )],
    },
    Case {
        weakness: "no-host-prefix",
        tags: "@cookies",
        fails: &[e(
            "cookie-host-prefix",
            "every session cookie has the __Host- prefix",
            NO_HOST_PREFIX,
        )],
    },
    Case {
        weakness: "broad-cookie-scope",
        tags: "@cookies",
        fails: &[
            e(
                "cookie-scope",
                "every session cookie is host-only and scoped to the application's path",
                "*: Domain=* is set: the cookie is also sent to every subdomain of * [ASVS 3.4.5]",
            ),
            e(
                "cookie-host-prefix",
                "every session cookie has the __Host- prefix",
                NO_HOST_PREFIX,
            ),
        ],
    },
    Case {
        weakness: "token-in-web-storage",
        tags: "@cookies",
        fails: &[e(
            "token-not-scriptable",
            "page script cannot read the session token",
            "localStorage *: the session token is stored where any script on the origin can read it [ASVS 3.2.3]",
        )],
    },
    Case {
        weakness: "no-idle-timeout",
        tags: "@idle",
        fails: &[e(
            "idle-expiry",
            "the API session is rejected by the API",
            "the API session is still accepted by the API after * untouched (expected idle timeout 5s, grace 2s): accepted at *s (*) … still accepted at *s (*→ 200*)",
        )],
    },
    Case {
        weakness: "idle-ignores-activity",
        tags: "@idle",
        fails: &[e(
            "idle-activity",
            "the session was never rejected while in use",
            "active session: rejected after *s although it was used every *s: activity does not reset the idle timeout, or sessions end sooner than the expected idle timeout 5s [ASVS 7.3.1]",
        )],
    },
    Case {
        weakness: "no-absolute-timeout",
        tags: "@lifetime",
        fails: &[
            e(
                "lifetime-advertised",
                "the advertised session lifetime is within the expected maximum",
                "*: advertised lifetime * exceeds the expected maximum 30s [ASVS 3.3.2]",
            ),
            e(
                "lifetime-enforced",
                "the session was rejected before the maximum lifetime plus grace ended",
                "session in continuous use: still accepted after * of continuous use; expected it to end by * (maximum lifetime 30s) [ASVS 3.3.2]",
            ),
        ],
    },
    Case {
        weakness: "no-hsts",
        tags: "@transport",
        fails: &[e(
            "hsts",
            "HTTPS responses carry HSTS with a max-age of at least one year",
            "GET / → 200: no Strict-Transport-Security header [ASVS 5.0 3.4.1]*",
        )],
    },
    Case {
        weakness: "no-https-redirect",
        tags: "@transport",
        fails: &[e(
            "https-redirect",
            "plain HTTP requests are redirected to HTTPS",
            "GET http://*: answered 200 over plain HTTP instead of redirecting to HTTPS [ASVS 9.1.1]*",
        )],
    },
    Case {
        weakness: "accepts-wrong-password",
        tags: "@login",
        fails: &[e(
            "login-wrong-password",
            "the browser holds no session credential",
            "a sign-in with a wrong password left a session the application accepts in the browser: *",
        )],
    },
    Case {
        weakness: "silent-login-error",
        tags: "@login",
        fails: &[e(
            "login-wrong-password",
            "the login page shows an error",
            "the login page refused the wrong password without saying so: the form stayed, with no error, for 10s [WSTG-ATHN-04]",
        )],
    },
    Case {
        weakness: "login-stores-nothing",
        tags: "@login",
        fails: &[e(
            "login-valid-session",
            "the browser holds a session credential",
            "after signing in the browser holds no session credential (cookies [*]; localStorage []; sessionStorage [])",
        )],
    },
    Case {
        weakness: "login-issues-dead-token",
        tags: "@login",
        fails: &[e(
            "login-valid-session",
            "the browser session is accepted by the API",
            "the browser session is rejected by the API: *",
        )],
    },
];

/// Cases for the reference console (`console.toml`: the Rails session cookie is the
/// credential) on the Chatwoot stand-in. Nothing may fail: what the suite does as the user
/// must follow the cookie the console re-issues. Requests made with the cookie as it was
/// at sign-in fail CSRF verification under `csrf-in-session` (sign-out by request and the
/// password change would end in ERROR, the restore would leave the password changed) and
/// look idle under `sliding-session` (`idle-activity` would be a false finding).
pub const CONSOLE: &[Case] = &[
    Case {
        weakness: "csrf-in-session",
        tags: "@check-logout-api or @check-password-change or @check-logout-ui",
        fails: &[],
    },
    Case {
        weakness: "sliding-session",
        tags: "@check-idle-activity or @check-idle-expiry",
        fails: &[],
    },
];

pub const ROCKETCHAT_ONLY: &[Case] = &[
    Case {
        weakness: "deactivation-keeps-sessions",
        tags: "@deactivation",
        fails: &[e(
            "deactivation-ends-sessions",
            "the browser session is rejected by the API",
            STILL_ACCEPTED,
        )],
    },
    Case {
        weakness: "deactivation-keeps-api-logins",
        tags: "@deactivation",
        fails: &[e(
            "deactivation-ends-sessions",
            "the second session is rejected by the API",
            STILL_ACCEPTED,
        )],
    },
    Case {
        weakness: "deactivation-keeps-realtime",
        tags: "@deactivation",
        fails: &[e(
            "deactivation-ends-sessions",
            "the realtime connection of the second session is closed",
            "the realtime connection of the second session is still open * later: it keeps receiving events",
        )],
    },
    Case {
        weakness: "end-others-keeps-sessions",
        tags: "@others",
        fails: &[e(
            "end-other-sessions",
            "the second session is rejected by the API",
            STILL_ACCEPTED,
        )],
    },
    Case {
        weakness: "end-others-keeps-realtime",
        tags: "@others",
        fails: &[e(
            "end-other-sessions",
            "the realtime connection of the second session is closed",
            "the realtime connection of the second session is still open * later: it keeps receiving events",
        )],
    },
    Case {
        weakness: "end-others-kills-current",
        tags: "@others",
        fails: &[e(
            "end-other-sessions",
            "the browser session is accepted by the API",
            "the browser session is rejected by the API after signing out the other sessions: *",
        )],
    },
    // A session cookie for every visitor, as PHP and Rails give: nothing may fail. A
    // cookie named like the session is not a session unless the application accepts it.
    Case {
        weakness: "anonymous-session-cookie",
        tags: "@check-issued-id-replaced or @check-login-wrong-password or @check-logout-ui",
        fails: &[],
    },
    Case {
        weakness: "logout-signs-in-again",
        tags: "@check-logout-ui",
        fails: &[e(
            "logout-ui",
            "the browser no longer holds the session token",
            "after signing out the browser holds another session the application accepts: * (*→ 200*): the sign-out signed the browser in again [ASVS 5.0 7.4.1]",
        )],
    },
    Case {
        weakness: "adopts-issued-id",
        tags: "@check-issued-id-replaced",
        fails: &[e(
            ISSUED,
            "the browser session is not the id issued before sign-in",
            "the session id * the login page issued before sign-in is still the session after it: an id handed to a victim before sign-in stays the id of the victim's signed-in session [ASVS 3.2.1, WSTG-SESS-03]",
        )],
    },
    Case {
        weakness: "anonymous-session-cookie,planted-token-also-valid",
        tags: "@check-issued-id-replaced",
        fails: &[e(
            ISSUED,
            "the id issued before sign-in is rejected by the API",
            "the id * issued before sign-in is accepted by the API after the victim signed in: *→ 200*",
        )],
    },
    Case {
        weakness: "login-via-url-token",
        tags: REGENERATION,
        fails: &[e(
            "token-link",
            "the browser is not signed in with the API session",
            "a link carrying another session's token signed this browser in* [ASVS 3.1.1, WSTG-SESS-03]",
        )],
    },
    // Short-random generators in other alphabets: the token-strength line must fail on
    // the bits each alphabet carries, decoded by it. Both targets mint tokens with one
    // function (`refapp::tokens`), so one application proves the decoding.
    Case {
        weakness: "short-random-base32-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 160 (6* of 160 bit positions pass the FIPS 140-2 tests over * tokens); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "short-random-php5-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 160 (6* of 160 bit positions pass the FIPS 140-2 tests over * tokens); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "short-random-base36-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 165 (1* of * character positions uniform over the base36 alphabet and independent of the previous token over * tokens, *; judged per character, as the alphabet's size is not a power of two); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "short-random-base58-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 140 (1* of * character positions uniform over the base58 alphabet and independent of the previous token over * tokens, *; judged per character, as the alphabet's size is not a power of two); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "short-random-base62-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 190 (1* of * character positions uniform over the base62 alphabet and independent of the previous token over * tokens, *; judged per character, as the alphabet's size is not a power of two); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "short-random-php6-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 6* effective bits of 156 (6* of 156 bit positions pass the FIPS 140-2 tests over * tokens); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
    Case {
        weakness: "uuid-tokens",
        tags: "@check-token-strength",
        fails: &[e(
            TOKENS,
            TOKENS_STEP,
            "session tokens: about 12* effective bits of 122 (12* of 122 bit positions pass the FIPS 140-2 tests over * tokens); at least 128 are required [ASVS 5.0 7.2.3]",
        )],
    },
];

pub const CHATWOOT_ONLY: &[Case] = &[
    Case {
        weakness: "no-session-renewal",
        tags: REGENERATION,
        fails: &[e(
            "session-renewed",
            "the server session cookie was replaced at sign-in",
            "the server session * keeps its id across sign-in and now holds the signed-in user: *",
        )],
    },
    Case {
        weakness: "known-secret-key-base",
        tags: "@check-secret-key-base",
        fails: &[e(
            "secret-key-base",
            "the server session cookie is not sealed with a publicly known secret",
            "*_chatwoot_session: opens with the publicly known SECRET_KEY_BASE from Chatwoot .env.example * key derivation; *): anyone can read and forge this application's cookies [ASVS 3.5.3]*",
        )],
    },
    // The CBC format of apps that never called `load_defaults 5.2`, with a known secret:
    // "cannot open this format" must never read as "no known secret opens it".
    Case {
        weakness: "legacy-rails-cookie,known-secret-key-base",
        tags: "@check-secret-key-base",
        fails: &[e(
            "secret-key-base",
            "the server session cookie is not sealed with a publicly known secret",
            "*_chatwoot_session: opens with the publicly known SECRET_KEY_BASE from Chatwoot .env.example * (AES-256-CBC with HMAC, Sha1 key derivation; session keys: *): anyone can read and forge this application's cookies [ASVS 3.5.3]*",
        )],
    },
    Case {
        weakness: "api-token-survives",
        tags: "@chatwoot-own",
        fails: &[
            e(
                "long-lived-after-sign-out",
                "the API session's long-lived credentials are rejected by the API",
                "the long-lived credentials handed out with the API session outlive it after signing out: api_access_token * is still accepted: *→ 200*",
            ),
            e(
                "long-lived-after-password-change",
                "the API session's long-lived credentials are rejected by the API",
                "the long-lived credentials handed out with the API session outlive it after the password change: api_access_token * is still accepted: *→ 200*",
            ),
        ],
    },
    Case {
        weakness: "pubsub-survives",
        tags: "@logout or @chatwoot-own or @idle or @password",
        fails: &[
            e(
                "logout-ui",
                "resuming the browser session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "logout-api",
                "resuming the API session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "long-lived-after-sign-out",
                "resuming the API session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "idle-expiry",
                "resuming the API session over the realtime channel is rejected",
                REALTIME_STILL,
            ),
            e(
                "password-change",
                "the realtime connection of the second session is closed",
                "the realtime connection of the second session is still open * later: it keeps receiving events",
            ),
        ],
    },
];

/// Every weakness case for `app`.
pub fn matrix(app: AppId) -> Vec<&'static Case> {
    let own = match app {
        AppId::RocketChat => ROCKETCHAT_ONLY,
        AppId::Chatwoot => CHATWOOT_ONLY,
        // Profile applications have no reference target; tests/realapps.rs covers them.
        AppId::Profile(_) => return Vec::new(),
    };
    SHARED.iter().chain(own).collect()
}

/// The mirror weaknesses: under each, the listed kind of check must end in ERROR, never PASS.
pub const MIRRORS: &[(&str, Mirror)] = &[
    ("refuses-every-replay", Mirror::EveryRefusal),
    ("realtime-silent", Mirror::RealtimeRefusals),
];

#[derive(Clone, Copy, Debug)]
pub enum Mirror {
    /// Every check whose verdict rests on a refusal.
    EveryRefusal,
    /// Every check that judges the realtime channel.
    RealtimeRefusals,
}

/// A weakness under which one check must end in ERROR at one step, with one message:
/// what the suite cannot tell apart it must not pass. Every other check of the run passes.
pub struct ErrorCase {
    pub weakness: &'static str,
    pub tags: &'static str,
    pub check: &'static str,
    pub step: &'static str,
    pub message: &'static str,
}

const IDLE_STEP: &str = "I leave the API session untouched for the idle timeout plus grace";

/// The causes the idle wait rules out before a refusal may count as idleness.
pub const ROCKETCHAT_ERRORS: &[ErrorCase] = &[
    ErrorCase {
        weakness: "session-cap",
        tags: "@check-idle-expiry",
        check: "idle-expiry",
        step: IDLE_STEP,
        message: "the API session, kept in use, was refused * (*): the application keeps fewer sessions per account than the suite signs in at once (a session cap), so a refusal after the idle wait could not be told from an eviction",
    },
    ErrorCase {
        weakness: "short-idle-timeout",
        tags: "@check-idle-expiry",
        check: "idle-expiry",
        step: IDLE_STEP,
        message: "a sibling session signed in beside the API one and left untouched was refused after *s, before the idle timeout (*) minus the grace could end it: *; something else ends the account's sessions (a session cap, another sign-out, a shorter lifetime or idle timeout than expected?), so a refusal after the idle wait would prove nothing",
    },
];

pub fn errors(app: AppId) -> &'static [ErrorCase] {
    match app {
        AppId::RocketChat => ROCKETCHAT_ERRORS,
        _ => &[],
    }
}

/// The weaknesses of a mirror run: the fixation check needs an id issued before
/// sign-in to have a refusal to turn into ERROR.
pub fn mirror_weakness(app: AppId, name: &str, mirror: Mirror) -> String {
    match (app, mirror) {
        (AppId::RocketChat, Mirror::EveryRefusal) => format!("{name},anonymous-session-cookie"),
        _ => name.to_string(),
    }
}

/// `*` matches any run of characters; everything else literally; the whole text must match.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut left) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part) {
            Some(i) => left = &left[i + part.len()..],
            None => return false,
        }
    }
    left.ends_with(last)
}
