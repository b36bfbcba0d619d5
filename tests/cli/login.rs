//! `broker login`: console sign-in against a local stand-in for the federation endpoint, the
//! private page handed to the browser, and the one-time local link no other user may take.

use crate::common::{stderr_of, stdout_of, transcribe};
use crate::fixtures::{caller_of, Chain, Federation, ACCOUNT};
use crate::history::history;

/// The sign-in URL `broker login --stdout PROFILE` prints, and its transcript.
fn login_url(c: &Chain, fed: &Federation, profile: &str) -> (url::Url, String) {
    c.env
        .name_as(&fed.url, "http://127.0.0.1:[federation port]/federation");
    let (out, transcript) = transcribe(
        &c.env,
        c.env
            .broker()
            .args(["login", "--stdout", profile])
            .env("BROKER_FEDERATION_URL", &fed.url),
    );
    assert!(
        out.status.success(),
        "login --stdout {profile}: {transcript}"
    );
    (url::Url::parse(stdout_of(&out).trim()).unwrap(), transcript)
}

#[test]
fn login_signs_in_a_role_and_a_plain_user() {
    let c = Chain::new();
    let fed = Federation::start();

    let (url, role) = login_url(&c, &fed, "r1");
    assert!(
        url.as_str().starts_with(&fed.url),
        "the federation endpoint's URL: {url}"
    );
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["Action"], "login", "{url}");
    assert_eq!(q["SigninToken"], "signin-token-123", "{url}");
    assert_eq!(
        q["Destination"], "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        "the console of the profile's region: {url}"
    );
    let session = fed.sessions.lock().unwrap()[0].clone();
    let creds = serde_json::json!({
        "AccessKeyId": session["sessionId"], "SecretAccessKey": session["sessionKey"],
        "SessionToken": session["sessionToken"],
    });
    assert_eq!(
        caller_of(&c.moto, &creds),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r1/alice-session"),
        "the console session is r1's"
    );

    // A plain IAM user goes through GetFederationToken, made with the stored keys.
    let (url, user) = login_url(&c, &fed, "alice");
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "Action" && v == "login"),
        "{url}"
    );
    insta::assert_snapshot!(format!("{role}\n{user}"));
    assert_eq!(
        c.moto.count("GetFederationToken"),
        1,
        "a plain user's session"
    );
    let sent = &c.moto.requests("GetFederationToken")[0];
    assert_eq!(sent["DurationSeconds"], "3600", "{sent:?}");
    assert!(
        fed.sessions.lock().unwrap()[1]["sessionToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "the federation endpoint got a session token for the user"
    );

    let vias: Vec<_> = history(&c.env, &["--outcome", "issued"])
        .iter()
        .map(|r| r["via"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(vias, ["login", "login"], "both logins audited");
}

#[test]
fn login_reports_a_dead_federation_endpoint() {
    let c = Chain::new();
    let refused = crate::common::RefusedPort::new();
    let url = format!("{}/federation", refused.url());
    c.env
        .name_as(&refused.url(), "http://127.0.0.1:[refused port]");
    let (_, transcript) = transcribe(
        &c.env,
        c.env
            .broker()
            .args(["login", "--stdout", "r1"])
            .env("BROKER_FEDERATION_URL", &url),
    );
    insta::assert_snapshot!(transcript);
}

/// A test browser (`$BROWSER`): records its argv, the page's permissions and what a second
/// local user (nobody, through setpriv) can read, finds the local link in the page, then does
/// what `then` says. Its findings are files in `dir`. Linux only: the second user comes from
/// setpriv, and only Linux tells broker who owns a connection.
#[cfg(target_os = "linux")]
struct TestBrowser {
    dir: std::path::PathBuf,
    script: std::path::PathBuf,
}

#[cfg(target_os = "linux")]
const BROWSER_PRELUDE: &str = r#"#!/bin/bash
out=$TEST_BROWSER_OUT
printf '%s\n' "$#" "$@" > "$out/argv"
page=${1#file://}
echo "$page" > "$out/page-path"
stat -c '%a' "$page" "$(dirname "$page")" > "$out/modes"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody cat "$page" > "$out/nobody-read" 2>&1
echo "exit=$?" >> "$out/nobody-read"
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/[0-9a-f]*' "$page" | head -n 1)
echo "$url" > "$out/local-url"
base=${url%/*}
port=${base##*:}
"#;

#[cfg(target_os = "linux")]
impl TestBrowser {
    fn new(c: &Chain, then: &str) -> TestBrowser {
        assert!(
            // SAFETY: geteuid only reads the process's credentials.
            unsafe { libc::geteuid() } == 0,
            "the console login tests need root: they act as a second local user (nobody) with \
             setpriv; run them as root (CI does)"
        );
        for (tool, package) in [("setpriv", "util-linux"), ("curl", "curl")] {
            let found = std::process::Command::new(tool).arg("--version").output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "the console login tests need {tool}: apt-get install {package}"
            );
        }
        // Only broker's own directories may keep the second user out of the page.
        let root = c.env.dir.path();
        std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let dir = root.join("browser");
        std::fs::create_dir(&dir).unwrap();
        let script = root.join("test-browser");
        std::fs::write(&script, format!("{BROWSER_PRELUDE}{then}\n")).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        TestBrowser { dir, script }
    }

    fn login(&self, c: &Chain, fed: &Federation, profile: &str) -> std::process::Output {
        c.env
            .broker()
            .args(["login", profile])
            .env("BROKER_FEDERATION_URL", &fed.url)
            .env("BROWSER", &self.script)
            .env("TEST_BROWSER_OUT", &self.dir)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name))
            .unwrap_or_else(|e| panic!("the test browser left no {name}: {e}"))
    }

    /// The page file the browser was given; it must be gone once broker has returned.
    fn assert_page_deleted(&self) {
        let page = std::path::PathBuf::from(self.read("page-path").trim());
        assert!(!page.exists(), "{} outlived the login", page.display());
        assert!(!page.parent().unwrap().exists(), "its directory too");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn login_hands_the_browser_a_private_page_and_no_other_user_the_sign_in() {
    let c = Chain::new();
    let fed = Federation::start();
    let browser = TestBrowser::new(
        &c,
        r#"for probe in / /favicon.ico /00112233445566778899aabbccddeeff; do
  as_nobody curl -s -m 5 -w " status=%{http_code}\n" "$base$probe" >> "$out/nobody-probes" 2>&1
done
curl -s -m 10 "$url" > "$out/page-body""#,
    );
    let out = browser.login(&c, &fed, "r1");
    assert!(out.status.success(), "login: {}", stderr_of(&out));
    insta::assert_snapshot!(crate::common::normalize(&c.env, &stderr_of(&out)));

    // The opener's argv: one file:// URL, nothing that signs anyone in.
    let argv = browser.read("argv");
    let args: Vec<&str> = argv.lines().collect();
    assert_eq!(args[0], "1", "one argument: {argv}");
    assert!(
        args[1].starts_with("file:///") && args[1].ends_with("/signin.html"),
        "{argv}"
    );
    let local = browser.read("local-url").trim().to_string();
    let secret = local.rsplit('/').next().unwrap();
    assert_eq!(secret.len(), 32, "a 128-bit one-time path: {local}");
    for leak in [secret, "signin-token", "127.0.0.1"] {
        assert!(!argv.contains(leak), "{leak} in the opener's argv: {argv}");
    }

    // The page: 0600 in a 0700 directory, unreadable to another user, deleted afterwards.
    assert_eq!(
        browser.read("modes"),
        "600\n700\n",
        "the page's and its directory's modes"
    );
    let page_path = browser.read("page-path");
    assert!(
        page_path.starts_with(&c.env.dir.path().join("cache/broker/").display().to_string()),
        "{page_path}"
    );
    let nobody = browser.read("nobody-read");
    assert!(
        nobody.contains("Permission denied") && !nobody.contains(secret),
        "{nobody}"
    );
    browser.assert_page_deleted();

    // Another user probing the port gets nothing; the browser got the sign-in.
    let probes = browser.read("nobody-probes");
    assert_eq!(
        probes.matches("status=404").count(),
        3,
        "every probe refused: {probes}"
    );
    assert!(!probes.contains("signin-token"), "{probes}");
    let page = browser.read("page-body");
    assert!(page.contains("SigninToken=signin-token-123"), "{page}");
    assert!(
        page.contains("http-equiv=\"refresh\""),
        "the page sends the browser on: {page}"
    );
    assert!(
        !stderr_of(&out).contains("signin-token"),
        "the sign-in token on stderr"
    );
    let records = history(&c.env, &["--profile", "r1"]);
    assert_eq!(records.len(), 1, "one record: {records:?}");
    assert_eq!(records[0]["via"], "login", "{records:?}");
    assert_eq!(records[0]["outcome"], "issued", "{records:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn login_fails_when_another_user_asks_for_the_sign_in_link_first() {
    let c = Chain::new();
    let fed = Federation::start();
    // The second user somehow has the link (the test browser hands it over) and is first.
    let browser = TestBrowser::new(
        &c,
        r#"as_nobody curl -s -m 5 -w " status=%{http_code}\n" "$url" > "$out/nobody-took" 2>&1
curl -s -m 5 -w " status=%{http_code}\n" "$url" > "$out/page-body" 2>&1"#,
    );
    let out = browser.login(&c, &fed, "r1");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    insta::assert_snapshot!(crate::common::normalize(&c.env, &stderr_of(&out)));
    // A 403, or nothing at all when broker stopped before answering.
    let took = browser.read("nobody-took");
    assert!(
        took.contains("status=403") || took.contains("status=000"),
        "{took}"
    );
    assert!(!took.contains("signin-token"), "{took}");
    let page = browser.read("page-body");
    assert!(
        !page.contains("signin-token"),
        "nobody gets the sign-in after a theft attempt: {page}"
    );
    browser.assert_page_deleted();
    let outcomes: Vec<_> = history(&c.env, &["--profile", "r1"])
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["outcome"].as_str().unwrap(),
                r["error"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes[1].starts_with("error another local user (uid 65534)"),
        "{outcomes:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_slow_connection_to_the_login_redirect_does_not_block_the_browser() {
    let c = Chain::new();
    let fed = Federation::start();
    let browser = TestBrowser::new(
        &c,
        r#"exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&3
exec 4<>"/dev/tcp/127.0.0.1/$port"
start=$(date +%s%N)
curl -s -m 3 "$url" > "$out/page-body"
echo "exit=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))" > "$out/curl""#,
    );
    let out = browser.login(&c, &fed, "r1");
    assert!(out.status.success(), "login: {}", stderr_of(&out));
    let curl = browser.read("curl");
    assert!(curl.starts_with("exit=0 "), "the browser's request: {curl}");
    let ms: u64 = curl.trim().rsplit('=').next().unwrap().parse().unwrap();
    // Behind a one-at-a-time server it would wait for the idle connections' 5 s timeout.
    assert!(
        ms < 2500,
        "the browser waited {ms} ms behind idle connections"
    );
    assert!(
        browser
            .read("page-body")
            .contains("SigninToken=signin-token-123"),
        "the browser got the sign-in: {}",
        browser.read("page-body")
    );
}
