//! IAM Identity Center: sign-in (authorization code with PKCE, device code), tokens kept in the
//! vault and refreshed without a browser, role credentials cached like STS steps, logout, and
//! SSO profiles everywhere a profile works — against the strict local stand-in of the SSO OIDC
//! and portal APIs (tests/sso_server.py), with the test browser of `$BROWSER`.

use std::time::{Duration, Instant};

use crate::common::moto::{venv, Moto};
use crate::common::sso::{Sso, TestBrowser};
use crate::common::{
    assert_error, broker_bin, normalize, stderr_of, stdout_of, transcribe, transcript, transcripts,
    TestEnv,
};

const CONFIG: &str = "[sso-session corp]
sso_start_url = https://corp.example.awsapps.com/start
sso_region = eu-west-1

[profile dev-analyst]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Analyst
region = eu-central-1

[profile dev-admin]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = AdministratorAccess

[profile prod-admin]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = AdministratorAccess

[profile legacy]
sso_start_url = https://legacy.example.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 333333333333
sso_role_name = SecurityAudit

[profile ghost]
sso_session = missing
sso_account_id = 111111111111
sso_role_name = Analyst

[sso-session half]
sso_start_url = https://half.example.awsapps.com/start

[profile half]
sso_session = half
sso_account_id = 111111111111
sso_role_name = Analyst
";

/// The stand-in, a sealed environment on the file vault whose `$BROWSER` is the test browser,
/// and the AWS config above.
struct Corp {
    sso: Sso,
    env: TestEnv,
    browser: TestBrowser,
}

impl Corp {
    fn new() -> Corp {
        Corp::with_browser(TestBrowser::new)
    }

    fn with_browser(make: fn(&std::path::Path) -> TestBrowser) -> Corp {
        let mut env = TestEnv::with_file_backend().env("BROKER_STS_TIMEOUT", "5s");
        let sso = Sso::sharing_clock(&env);
        for (key, value) in sso.endpoint_env() {
            env = env.env(key, &value);
        }
        env.name_as(&sso.endpoint(), "http://127.0.0.1:[stand-in port]");
        let browser = make(env.dir.path());
        for (key, value) in browser.env() {
            env = env.env(key, &value);
        }
        env.write_aws_config(CONFIG);
        Corp { sso, env, browser }
    }

    fn broker(&self, args: &[&str]) -> std::process::Output {
        self.env
            .broker()
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    }

    /// The transcript of `broker ARGS`, bounded as [`Corp::broker`] is.
    fn transcript(&self, args: &[&str]) -> String {
        transcribe(
            &self.env,
            self.env
                .broker()
                .args(args)
                .timeout(Duration::from_secs(60)),
        )
        .1
    }

    /// The credentials `broker export` prints for `profile` (as `env`: without a terminal, a
    /// `credential_process` caller, `--format json`, may not sign in).
    fn export(&self, profile: &str) -> serde_json::Value {
        let out = self.broker(&["export", "--format", "env", profile]);
        assert!(
            out.status.success(),
            "export {profile}: {}",
            stderr_of(&out)
        );
        credentials_of(&out)
    }

    /// CreateToken calls by grant type.
    fn grants(&self, grant: &str) -> usize {
        self.sso
            .requests("CreateToken")
            .iter()
            .filter(|r| r.get("grantType").and_then(|g| g.as_str()) == Some(grant))
            .count()
    }
}

/// The credentials of `export --format env`'s output, by their `credential_process` names.
fn credentials_of(out: &std::process::Output) -> serde_json::Value {
    let mut credentials = serde_json::Map::new();
    for line in stdout_of(out).lines() {
        let (key, value) = line
            .split_once('=')
            .expect("only KEY=value lines on stdout");
        let name = match key {
            "AWS_ACCESS_KEY_ID" => "AccessKeyId",
            "AWS_SECRET_ACCESS_KEY" => "SecretAccessKey",
            "AWS_SESSION_TOKEN" => "SessionToken",
            "AWS_CREDENTIAL_EXPIRATION" => "Expiration",
            _ => continue,
        };
        credentials.insert(name.into(), value.into());
    }
    credentials.into()
}

#[test]
fn one_sign_in_serves_every_role_of_the_session_and_credentials_are_cached() {
    let c = Corp::new();
    let first = c.export("dev-analyst");
    assert!(
        first["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "role credentials: {first}"
    );
    assert_eq!(c.sso.count("RegisterClient"), 1, "one client registration");
    assert_eq!(c.sso.count("Authorize"), 1, "one sign-in");
    assert_eq!(c.grants("authorization_code"), 1, "one code exchanged");
    assert_eq!(
        c.sso.count("GetRoleCredentials"),
        1,
        "one role's credentials"
    );
    let sent = &c.sso.requests("GetRoleCredentials")[0];
    assert_eq!(sent["accountId"], "111111111111", "{sent:?}");
    assert_eq!(sent["roleName"], "Analyst", "{sent:?}");

    // The same role again: from the cache.
    assert_eq!(c.export("dev-analyst"), first, "the cached credentials");
    assert_eq!(
        c.sso.count("GetRoleCredentials"),
        1,
        "the same role again: from the cache"
    );
    // A second role of the same session: no sign-in.
    let admin = c.export("dev-admin");
    assert_ne!(
        admin["AccessKeyId"], first["AccessKeyId"],
        "the second role's own credentials"
    );
    assert_eq!(c.sso.count("GetRoleCredentials"), 2, "the second role's");
    assert_eq!(c.sso.count("Authorize"), 1, "no second sign-in");
    assert_eq!(c.sso.count("RegisterClient"), 1, "no second registration");
    assert_eq!(
        c.browser.invocations().len(),
        1,
        "one browser for one sign-in"
    );

    // What the browser was given: a private page, and in it the authorize URL.
    let given = &c.browser.urls()[0];
    assert!(
        given.starts_with("file:///") && given.ends_with("/signin.html"),
        "{given}"
    );
    // (A mode is Unix's; on Windows the page's directory has broker's private ACL.)
    if cfg!(unix) {
        assert_eq!(c.browser.pages()[0]["mode"], "0o600", "the page's mode");
    }
    let url = &c.browser.targets()[0];
    assert!(
        url.starts_with(&format!("{}/authorize?", c.sso.endpoint())),
        "{url}"
    );
    assert!(url.contains("&state="), "{url}");
    assert!(!given.contains("state"), "{given}");
    for needed in [
        "response_type=code",
        "code_challenge_method=S256",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "scopes=sso%3Aaccount%3Aaccess",
    ] {
        assert!(url.contains(needed), "{needed} in {url}");
    }
    for secret in c.sso.secrets() {
        assert!(!url.contains(&secret), "a secret in the browser's argv");
    }
}

#[test]
fn sso_login_and_logout_say_what_they_did() {
    let c = Corp::new();
    insta::assert_snapshot!(transcripts(
        &c.env,
        &[
            &["sso", "login", "--sso-session", "corp"],
            &["sso", "login", "dev-admin"],
            &["sso", "logout", "corp"],
            &["sso", "logout", "corp"],
            &["sso", "login", "--sso-session", "nowhere"],
        ]
    ));
    assert_eq!(c.sso.count("Authorize"), 2, "a sign-in for each login");
}

#[test]
fn an_access_token_near_expiry_is_refreshed_without_a_browser() {
    let c = Corp::new();
    // Tokens of 2 minutes: within min_ttl (15m) at once, so the next use refreshes.
    c.sso.set_token_lifetime(120);
    c.export("dev-analyst");
    c.export("dev-admin");
    assert_eq!(c.grants("authorization_code"), 1, "one code exchanged");
    assert_eq!(c.grants("refresh_token"), 1, "one refresh");
    assert_eq!(c.sso.count("Authorize"), 1, "no second sign-in");
    assert_eq!(c.browser.invocations().len(), 1, "no second browser");
}

#[test]
fn a_refused_refresh_leads_to_one_new_sign_in() {
    let c = Corp::new();
    c.export("dev-analyst");
    c.sso.revoke_refresh();
    c.sso.expire_access();
    let out = c.broker(&["export", "--format", "env", "dev-admin"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    // What broker says, whole (stdout is the credentials).
    insta::assert_snapshot!(normalize(&c.env, &stderr_of(&out)));
    assert_eq!(c.grants("refresh_token"), 1, "one refresh, refused");
    assert_eq!(c.sso.count("Authorize"), 2, "one new sign-in");
    assert_eq!(c.grants("authorization_code"), 2, "one new code exchanged");
}

#[test]
fn a_token_the_portal_refuses_is_replaced_once() {
    let c = Corp::new();
    c.export("dev-analyst");
    // The portal forgets the token (logged out elsewhere); the vault still holds it.
    c.sso.expire_access();
    c.sso.revoke_refresh();
    let out = c.broker(&["export", "--format", "env", "--refresh", "dev-analyst"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    assert_eq!(c.sso.count("Authorize"), 2, "one new sign-in");
}

#[test]
fn eight_concurrent_cold_processes_sign_in_once() {
    let c = Corp::new();
    let children: Vec<_> = (0..8)
        .map(|_| {
            c.env
                .std_command(broker_bin())
                .args(["export", "--format", "env", "dev-analyst"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let keys: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a process: {}", stderr_of(&out));
            credentials_of(&out)["AccessKeyId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        keys.iter().all(|k| k == &keys[0]),
        "one credential: {keys:?}"
    );
    assert_eq!(c.sso.count("RegisterClient"), 1, "one registration");
    assert_eq!(c.sso.count("Authorize"), 1, "one sign-in");
    assert_eq!(c.sso.count("GetRoleCredentials"), 1, "one role call");
}

#[test]
fn device_code_sign_in_honours_the_interval_pending_and_slow_down() {
    let c = Corp::new();
    c.sso.set_device_timing(1, 600, 2);
    c.sso.pending_next(2);
    c.sso.slow_down_next(1);
    let out = c.broker(&["sso", "login", "--use-device-code", "--sso-session", "corp"]);
    assert!(out.status.success(), "sso login: {}", stderr_of(&out));
    let polls = c.sso.poll_times();
    let answers: Vec<&str> = polls.iter().map(|p| p.answer.as_str()).collect();
    assert_eq!(answers.last(), Some(&"token"), "{answers:?}");
    assert!(answers.contains(&"slow_down"), "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|a| **a == "authorization_pending")
            .count()
            >= 2,
        "{answers:?}"
    );
    for poll in &polls {
        if let Some(gap) = poll.since_previous {
            assert!(gap >= poll.required - 0.05, "polled too fast: {polls:?}");
        }
    }
    // The user code was shown; the browser opened the verification page.
    let code = &polls[0].user_code;
    c.env.name_as(code, "[user code]");
    insta::assert_snapshot!(normalize(&c.env, &stderr_of(&out)));
    assert!(
        c.browser.urls()[0].starts_with("file:///"),
        "a page for the browser: {:?}",
        c.browser.urls()
    );
    let target = &c.browser.targets()[0];
    assert!(target.contains("/device?user_code="), "{target}");
    assert!(
        !c.browser.urls()[0].contains(code.as_str()),
        "the user code in the browser's argv"
    );
    // Signed in: a profile of the session needs no other sign-in.
    c.export("dev-analyst");
    assert_eq!(
        c.sso.count("StartDeviceAuthorization"),
        1,
        "one device authorization"
    );
    assert_eq!(c.sso.count("Authorize"), 0, "no browser sign-in");
}

#[test]
fn a_device_code_nobody_confirms_times_out() {
    let c = Corp::with_browser(TestBrowser::inert);
    c.sso.set_device_timing(1, 3, 5);
    let started = Instant::now();
    let (out, transcript) = transcribe(
        &c.env,
        c.env
            .broker()
            .args(["sso", "login", "--use-device-code", "--sso-session", "corp"])
            .timeout(Duration::from_secs(60)),
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{transcript}");
    c.env
        .name_as(&c.sso.poll_times()[0].user_code, "[user code]");
    insta::assert_snapshot!(normalize(&c.env, &transcript));
}

#[test]
fn a_callback_with_a_wrong_state_is_refused_and_the_sign_in_waits_for_the_right_one() {
    let c = Corp::with_browser(TestBrowser::inert);
    c.sso.tamper_state_next(1);
    let child = c
        .env
        .std_command(broker_bin())
        .args(["export", "--format", "env", "dev-analyst"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while c.browser.targets().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no browser");
        std::thread::sleep(Duration::from_millis(50));
    }
    let authorize = c.browser.targets()[0].clone();
    // The user's browser, once with a state that is not broker's (as a forged callback, or a
    // page probing loopback ports, would bring), then as it should.
    let forged = c.sso.visit(&authorize);
    let location = forged.header("Location").unwrap().to_string();
    assert!(location.contains("state=tampered-"), "{location}");
    let refused = local_get(&location);
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    let right = c.sso.visit(&authorize);
    let answer = local_get(right.header("Location").unwrap());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    insta::assert_snapshot!(normalize(&c.env, &stderr_of(&out)));
    // Only the right code was exchanged.
    let codes: Vec<String> = c
        .sso
        .requests("CreateToken")
        .iter()
        .filter_map(|r| r.get("code").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(
        !location.contains(&codes[0]),
        "the forged code was exchanged"
    );
    assert_eq!(c.sso.count("GetRoleCredentials"), 1, "one role call");
}

/// One GET of a loopback URL (the client's callback), as a browser sends it; the raw answer.
fn local_get(url: &str) -> String {
    use std::io::{Read, Write};
    let url = url::Url::parse(url).unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", url.port().unwrap())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_denied_sign_in_is_an_error_with_a_hint() {
    let c = Corp::new();
    c.sso.deny_next(1);
    insta::assert_snapshot!(c.transcript(&["export", "dev-analyst"]));
}

#[test]
fn logout_signs_out_at_the_portal_and_forgets_everything() {
    let c = Corp::new();
    c.export("dev-analyst");
    insta::assert_snapshot!(transcripts(
        &c.env,
        &[&["list"], &["sso", "logout", "corp"], &["list"]]
    ));
    assert_eq!(c.sso.count("Logout"), 1, "the portal's Logout");
    // The next use signs in again and gets new credentials.
    c.export("dev-analyst");
    assert_eq!(c.sso.count("Authorize"), 2, "a new sign-in");
    assert_eq!(c.sso.count("GetRoleCredentials"), 2, "new credentials");
}

#[test]
fn sso_profiles_prints_every_account_and_role_as_profiles() {
    let c = Corp::new();
    let (out, transcript) = transcribe(
        &c.env,
        c.env
            .broker()
            .args(["sso", "profiles", "--sso-session", "corp"]),
    );
    assert!(out.status.success(), "{transcript}");
    let text = stdout_of(&out);
    insta::assert_snapshot!("sso_profiles", transcript);
    // Pages of two: every page was followed.
    assert!(
        c.sso.count("ListAccounts") >= 2,
        "every page: {:?}",
        c.sso.counts()
    );
    // They parse as the AWS config does.
    let aws = broker::profiles::AwsProfiles::from_texts(&format!("{CONFIG}\n{text}"), "").unwrap();
    assert_eq!(
        aws.get("security-audit-securityaudit", "sso_account_id"),
        Some("333333333333"),
        "the printed profiles parse as the AWS config does"
    );
}

#[test]
fn sso_profiles_lists_many_accounts_under_the_portals_quota() {
    let c = Corp::new();
    c.export("dev-analyst"); // signed in
    c.sso.generate(40, 2);
    c.sso.set_page_size(100);
    c.sso.set_quota(8);
    c.sso.fail_next("ListAccountRoles", "throttle", 3);
    let out = c.broker(&["sso", "profiles", "--sso-session", "corp"]);
    assert!(out.status.success(), "sso profiles: {}", stderr_of(&out));
    let text = stdout_of(&out);
    assert_eq!(
        text.matches("[profile ").count(),
        80,
        "every role of every account: {text}"
    );
    let counts = c.sso.counts();
    assert!(
        counts.get("Throttled").copied().unwrap_or(0) >= 1,
        "the quota was reached, so the pace was tried: {counts:?}"
    );
    let throttled = counts.get("Throttled").copied().unwrap_or(0);
    let calls = counts["ListAccountRoles"];
    assert!(
        (43..=43 + throttled).contains(&calls),
        "one call per account, and one more per throttle: {counts:?}"
    );
}

#[test]
#[cfg_attr(
    windows,
    ignore = "needs the test venv's Python (configparser, botocore), which this suite runs on Unix only"
)]
fn sso_profiles_names_are_unique_and_safe_in_strict_ini_parsers() {
    let c = Corp::new();
    c.export("dev-analyst"); // signed in
    let hostile = "Evil\n[profile x]\ncredential_process = touch /tmp/pwned";
    for (account, role, name) in [
        ("444444444444", "c", "a-b"),
        ("555555555555", "b-c", "a"),
        ("666666666666", "Admin", hostile),
        ("777777777777", "Admin", "日本"),
        ("777777777778", "Admin", "中国"),
        ("888888888888", "Admin_Access", "x"),
        ("888888888888", "Admin-Access", "x"),
        ("999999999999", "Bad\nRole", "y"),
        ("111111111111", "Analyst", "Dev Analyst"),
    ] {
        c.sso.assign(account, role, name);
    }
    let out = c.broker(&["sso", "profiles", "--sso-session", "corp", "--prefix", "-"]);
    assert!(out.status.success(), "sso profiles: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("warning: left out account 999999999999 role Bad\\nRole"),
        "the role name AWS would not give is left out: {}",
        stderr_of(&out)
    );
    let config = c.env.dir.path().join("appended");
    std::fs::write(&config, format!("{CONFIG}\n{}", stdout_of(&out))).unwrap();
    // No [profile x], no name with '-' first, no key but the SSO ones.
    let profiles = strict_ini_profiles(&config);
    assert!(!profiles.contains_key("x"), "{profiles:?}");
    for (name, keys) in &profiles {
        assert!(!name.starts_with('-'), "{name}");
        assert!(keys.get("credential_process").is_none(), "{name}: {keys}");
    }
    let names: Vec<&str> = profiles.keys().map(String::as_str).collect();
    insta::assert_snapshot!(names.join("\n"));
}

/// The profiles of the AWS config file `path` as botocore's own loader reads them (name → keys),
/// after Python's configparser in strict mode (duplicate sections or keys are errors) read it.
fn strict_ini_profiles(path: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let check = std::process::Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg(
            "import configparser, json, sys, botocore.configloader as l\n\
             text = open(sys.argv[1]).read()\n\
             configparser.ConfigParser(strict=True, interpolation=None).read_string(text)\n\
             print(json.dumps(l.load_config(sys.argv[1])['profiles'], sort_keys=True))",
        )
        .arg(path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "strict INI parsers refuse it: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    serde_json::from_slice(&check.stdout).expect("JSON")
}

#[test]
fn sso_profiles_write_keeps_a_block_that_a_rerun_refreshes_and_every_other_byte() {
    let c = Corp::new();
    c.export("dev-analyst"); // signed in
    c.sso.generate(3, 2);
    let path = c.env.aws_config();
    let mine = format!("{CONFIG}\n; the user's own\r\n[profile mine]\nregion = eu-west-1");
    c.env.write_aws_config(&mine);
    let write = |dry: bool| {
        let mut args = vec!["sso", "profiles", "--sso-session", "corp", "--write"];
        if dry {
            args.push("--dry-run");
        }
        let out = c.broker(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        (stdout_of(&out), normalize(&c.env, &stderr_of(&out)))
    };
    let (diff, said) = write(true);
    let added = diff
        .lines()
        .filter(|l| l.starts_with("+ [profile account-"));
    assert_eq!(added.count(), 6, "{diff}");
    assert!(
        said.contains("would write 6 profile(s) of SSO session corp"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        mine,
        "--dry-run writes nothing"
    );
    let (_, said) = write(false);
    assert!(said.contains("(6 added, 0 removed, 0 changed)"), "{said}");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with(&mine),
        "every byte before the block kept"
    );
    // Something of the user's after the block, and the accounts change at the portal.
    let edited = format!("{written}\n[profile later]\nregion = us-east-1\n");
    c.env.write_aws_config(&edited);
    c.sso.unassign("100000000000", "Role0");
    c.sso.assign("100000000009", "Role0", "Account 9");
    let (diff, _) = write(true);
    assert_eq!(
        diff,
        "+ [profile account-9-role0]  sso_session = corp  sso_account_id = 100000000009  \
         sso_role_name = Role0\n- [profile account-0-role0]\n"
    );
    let (_, said) = write(false);
    assert!(said.contains("(1 added, 1 removed, 0 changed)"), "{said}");
    let rewritten = std::fs::read_to_string(&path).unwrap();
    assert!(
        rewritten.starts_with(&mine)
            && rewritten.ends_with("\n[profile later]\nregion = us-east-1\n")
    );
    let (_, said) = write(false);
    assert!(said.contains("are up to date"), "{said}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), rewritten);
    // Strict INI parsers and botocore read it all; the vanished role is gone. (The test venv's
    // Python is Unix's.)
    if cfg!(windows) {
        return;
    }
    let profiles = strict_ini_profiles(&path);
    for name in [
        "account-9-role0",
        "account-0-role1",
        "mine",
        "later",
        "dev-analyst",
    ] {
        assert!(profiles.contains_key(name), "{name} in {profiles:?}");
    }
    assert!(!profiles.contains_key("account-0-role0"), "{profiles:?}");
}

#[test]
fn sso_profiles_lists_a_legacy_only_config_by_its_start_url() {
    let c = Corp::new();
    c.env.write_aws_config(
        "[profile legacy]\nsso_start_url = https://legacy.example.awsapps.com/start\n\
         sso_region = eu-west-1\nsso_account_id = 333333333333\nsso_role_name = SecurityAudit\n",
    );
    let out = c.broker(&["sso", "profiles"]);
    assert!(out.status.success(), "sso profiles: {}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(
        text.contains(
            "sso_start_url = https://legacy.example.awsapps.com/start\nsso_region = eu-west-1\n"
        ),
        "legacy sections: {text}"
    );
    let out = c.broker(&[
        "sso",
        "profiles",
        "--sso-session",
        "https://legacy.example.awsapps.com/start",
    ]);
    assert_eq!(
        stdout_of(&out),
        text,
        "named by its start URL: {}",
        stderr_of(&out)
    );
}

#[test]
fn a_registration_the_service_rejects_is_made_anew_once() {
    let c = Corp::new();
    c.export("dev-analyst");
    assert_eq!(c.sso.count("RegisterClient"), 1);
    c.sso.revoke_clients();
    c.sso.expire_access();
    let out = c.broker(&["export", "--format", "env", "dev-admin"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("InvalidClientException"),
        "the refresh was refused for the client: {}",
        stderr_of(&out)
    );
    assert_eq!(c.sso.count("RegisterClient"), 2, "registered anew, once");
    assert_eq!(
        c.sso.count("Authorize"),
        2,
        "and signed in with the new registration"
    );
    // The next sign-in keeps the new registration.
    let again = c.broker(&["sso", "login", "--sso-session", "corp"]);
    assert!(again.status.success(), "sso login: {}", stderr_of(&again));
    assert_eq!(c.sso.count("RegisterClient"), 2, "{:?}", c.sso.counts());
}

#[test]
fn logout_forgets_a_session_the_config_no_longer_has() {
    let c = Corp::new();
    c.export("dev-analyst");
    assert!(c.env.file_vault_dir().join("sso%3Acorp.age").exists());
    c.env.write_aws_config(&CONFIG.replace("corp", "renamed"));
    let out = c.broker(&["sso", "logout", "corp"]);
    assert!(out.status.success(), "logout: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("SSO session corp is not in the AWS config: removed its sign-in and 1 cached credential(s)"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        !c.env.file_vault_dir().join("sso%3Acorp.age").exists(),
        "the tokens are gone from the vault"
    );
    assert_eq!(
        c.sso.count("Logout"),
        0,
        "the portal cannot be reached without its section"
    );
    let again = c.broker(&["sso", "logout", "corp"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "nothing left: {}",
        stderr_of(&again)
    );
}

#[test]
fn logout_all_forgets_every_session_signed_in_to_on_this_machine() {
    let c = Corp::new();
    c.export("dev-analyst");
    c.export("legacy");
    // corp is renamed in the config; the legacy session stays.
    c.env
        .write_aws_config(&CONFIG.replace("sso-session corp", "sso-session renamed"));
    let out = c.broker(&["sso", "logout", "--all"]);
    assert!(out.status.success(), "logout --all: {}", stderr_of(&out));
    let said = stderr_of(&out);
    assert!(
        said.contains("SSO session corp is not in the AWS config: removed its sign-in")
            && said.contains("signed out of SSO session https://legacy.example.awsapps.com/start"),
        "{said}"
    );
    let left: Vec<_> = std::fs::read_dir(c.env.file_vault_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sso"))
        .collect();
    assert_eq!(
        left,
        Vec::<String>::new(),
        "no SSO token is left in the vault"
    );
    assert_eq!(
        c.sso.count("Logout"),
        1,
        "the session still in the config, at its portal"
    );
}

#[test]
fn errors_name_the_cause_and_the_next_step() {
    let c = Corp::new();
    let mut transcripts = vec![
        c.transcript(&["export", "ghost"]),
        c.transcript(&["export", "half"]),
        c.transcript(&["export", "prod-admin"]),
    ];
    // The portal does not answer: bounded by BROKER_STS_TIMEOUT.
    c.sso.fail_next("GetRoleCredentials", "hang", 3);
    let started = Instant::now();
    transcripts.push(c.transcript(&["export", "dev-admin"]));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    insta::assert_snapshot!(transcripts.join("\n"));
}

#[test]
fn a_legacy_profile_signs_in_with_its_own_start_url() {
    let c = Corp::new();
    let creds = c.export("legacy");
    assert!(creds["SessionToken"].is_string(), "credentials: {creds}");
    let register = &c.sso.requests("RegisterClient")[0];
    assert_eq!(
        register["issuerUrl"], "https://legacy.example.awsapps.com/start",
        "the profile's own start URL"
    );
}

#[test]
fn a_role_chained_from_an_sso_profile() {
    let c = Corp::new();
    let moto = Moto::start(None);
    let config = format!(
        "{CONFIG}\n[profile hub]\nrole_arn = arn:aws:iam::123456789012:role/hub\n\
         source_profile = dev-analyst\nrole_session_name = jane\n"
    );
    c.env.write_aws_config(&config);
    let out = c
        .env
        .broker()
        .args(["export", "--format", "env", "hub"])
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .output()
        .unwrap();
    assert!(out.status.success(), "export hub: {}", stderr_of(&out));
    let sent = &moto.requests("AssumeRole")[0];
    assert_eq!(
        sent["RoleArn"], "arn:aws:iam::123456789012:role/hub",
        "{sent:?}"
    );
    assert_eq!(c.sso.count("GetRoleCredentials"), 1, "the SSO hop");
    // Signed with the SSO role's credentials.
    let sso_key = c.sso.secrets();
    assert!(!sso_key.is_empty(), "the stand-in issued secrets");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "needs the test venv's AWS CLI, which this suite runs on Unix only"
)]
fn a_credential_process_without_a_terminal_fails_fast_then_the_aws_cli_uses_the_sign_in() {
    let c = Corp::new();
    let moto = Moto::start(None);
    let config = format!(
        "{CONFIG}\n[profile cli]\ncredential_process = {} export --format json dev-analyst\n\
         region = eu-west-1\n",
        broker_bin().display()
    );
    c.env.write_aws_config(&config);
    let aws = venv().join("bin/aws");
    let cli = || {
        c.env
            .command(&aws)
            .args(["sts", "get-caller-identity", "--profile", "cli"])
            .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    // Not signed in, and no terminal: no browser, no wait, an error saying what to run.
    let out = cli();
    assert!(!out.status.success(), "the CLI: {}", stdout_of(&out));
    for part in [
        "SSO session corp needs a sign-in, which a credential_process caller without a \
         terminal cannot show",
        "`broker sso login --sso-session corp`",
    ] {
        assert!(stderr_of(&out).contains(part), "{}", stderr_of(&out));
    }
    assert_eq!(c.sso.count("Authorize"), 0, "no sign-in started");
    assert!(c.browser.invocations().is_empty(), "no browser");
    // Signed in ahead, as it says: the CLI gets credentials.
    let login = c.broker(&["sso", "login", "--sso-session", "corp"]);
    assert!(login.status.success(), "sso login: {}", stderr_of(&login));
    let out = cli();
    assert!(out.status.success(), "the CLI: {}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("Account"),
        "the CLI's identity: {}",
        stdout_of(&out)
    );
    let out = c
        .env
        .broker()
        .args(["exec", "--server", "dev-analyst", "--"])
        .arg(&aws)
        .args(["sts", "get-caller-identity"])
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .output()
        .unwrap();
    assert!(out.status.success(), "exec --server: {}", stderr_of(&out));
    assert_eq!(c.sso.count("Authorize"), 1, "one sign-in for both");
    assert_eq!(
        c.sso.count("GetRoleCredentials"),
        1,
        "the server used the cache"
    );
}

#[test]
fn a_still_valid_access_token_is_used_when_its_refresh_fails() {
    let c = Corp::new();
    // 14 minutes: inside min_ttl (15m) from the start, so every use tries a refresh.
    c.sso.set_token_lifetime(14 * 60);
    c.export("dev-analyst");
    c.sso.revoke_refresh();
    let out = c.broker(&["export", "--format", "json", "dev-admin"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(
            "warning: could not refresh the sign-in to SSO session corp (CreateToken failed: \
             InvalidGrantException: Invalid refresh token provided)"
        ) && stderr_of(&out).contains("using its access token, which expires in 1"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(c.grants("refresh_token"), 1, "one refresh, refused");
    assert_eq!(c.sso.count("Authorize"), 1, "no new sign-in");
    assert_eq!(c.browser.invocations().len(), 1, "no second browser");
    let history = stdout_of(&c.broker(&["history", "--json"]));
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["outcome"], "issued", "{last}");
    assert!(
        last["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("could not refresh the sign-in to SSO session corp")),
        "the audit record says what was used and why: {last}"
    );
}

#[test]
fn cached_role_credentials_are_used_when_no_sign_in_is_left_and_no_browser_opens() {
    let c = Corp::new();
    let first = c.export("dev-analyst");
    // 12 minutes left of the role credentials' hour: in their advisory window (15m), before
    // the mandatory one (10m). The portal then refuses everything the session holds.
    c.env.advance_clock(Duration::from_secs(48 * 60));
    c.sso.revoke_refresh();
    c.sso.expire_access();
    let out = c.broker(&["export", "--format", "json", "dev-analyst"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    let used: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(used["AccessKeyId"], first["AccessKeyId"], "the cached ones");
    assert!(
        stderr_of(&out).contains(
            "could not refresh the sso credentials of dev-analyst (SSO session corp needs a \
             sign-in); using the cached ones, which expire in 1"
        ),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(c.sso.count("Authorize"), 1, "no new sign-in");
    assert_eq!(c.browser.invocations().len(), 1, "no second browser");
    let history = stdout_of(&c.broker(&["history", "--json"]));
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert!(
        last["note"]
            .as_str()
            .is_some_and(|n| n.contains("using the cached ones")),
        "{last}"
    );
    // In the mandatory window nothing valid enough is left: a sign-in.
    c.env.advance_clock(Duration::from_secs(3 * 60));
    let out = c.broker(&["export", "--format", "env", "dev-analyst"]);
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    assert_eq!(c.sso.count("Authorize"), 2, "signed in again");
}

#[test]
fn policy_and_audit_apply_to_sso_profiles() {
    let c = Corp::new();
    c.env
        .write_broker_config("[profile.dev-admin]\nrequire_reason = true\n");
    insta::assert_snapshot!(c.transcript(&["export", "dev-admin"]));
    let out = c.broker(&["export", "--reason", "INC-9", "dev-admin"]);
    assert!(
        out.status.success(),
        "export with a reason: {}",
        stderr_of(&out)
    );
    let history = stdout_of(&c.broker(&["history", "--json"]));
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["profile"], "dev-admin", "{last}");
    assert_eq!(last["outcome"], "issued", "{last}");
    assert_eq!(last["reason"], "INC-9", "{last}");
}

#[test]
fn a_role_rule_matches_an_sso_role_by_its_account_and_name() {
    let c = Corp::new();
    // Written for the ARN IAM Identity Center gives the role (…/AWSReservedSSO_NAME_HASH).
    c.env.write_broker_config(
        "[[role]]\narn = \"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\
         AWSReservedSSO_AdministratorAccess_*\"\nbreak_glass = true\n",
    );
    assert_error(
        &c.broker(&["export", "dev-admin"]),
        1,
        "profile dev-admin requires a reason",
    );
    // Another permission set of the same session is not matched.
    c.export("dev-analyst");
    let key = |reason: &str| {
        let out = c.broker(&[
            "export",
            "--format",
            "env",
            "--reason",
            reason,
            "--yes",
            "dev-admin",
        ]);
        assert!(out.status.success(), "{}", stderr_of(&out));
        credentials_of(&out)["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = key("INC-1");
    assert_eq!(key("INC-1"), first);
    assert_ne!(key("INC-2"), first, "a new reason, new role credentials");
    assert_eq!(c.sso.count("GetRoleCredentials"), 3);
}

#[test]
fn no_token_code_or_client_secret_is_on_disk_in_plaintext() {
    let c = Corp::new();
    c.export("dev-analyst");
    c.sso.set_token_lifetime(120);
    c.broker(&["sso", "login", "--sso-session", "corp"]);
    c.export("dev-admin");
    let secrets = c.sso.secrets();
    assert!(secrets.len() >= 4, "{secrets:?}");
    // The test browser's own logs (what it visited) are the test's, not broker's.
    let browser_logs = c.env.dir.path().join("test-browser");
    for secret in &secrets {
        let found: Vec<_> = c
            .env
            .files_containing(secret)
            .into_iter()
            .filter(|p| !p.starts_with(&browser_logs))
            .collect();
        assert_eq!(found, Vec::<std::path::PathBuf>::new(), "a secret on disk");
        for argv in c.browser.invocations() {
            assert!(
                !argv.iter().any(|a| a.contains(secret.as_str())),
                "a secret in the browser's argv: {argv:?}"
            );
        }
    }
}

#[test]
fn console_login_and_clear_work_with_an_sso_profile() {
    let c = Corp::new();
    let fed = crate::fixtures::Federation::start();
    let out = c
        .env
        .broker()
        .args(["login", "--stdout", "dev-analyst"])
        .env("BROKER_FEDERATION_URL", &fed.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "login: {}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("SigninToken=signin-token-123"),
        "the sign-in URL: {}",
        stdout_of(&out)
    );
    let session = &fed.sessions.lock().unwrap()[0];
    assert!(
        session["sessionId"].as_str().unwrap().starts_with("ASIA"),
        "the role's credentials went to the federation endpoint: {session}"
    );
    assert_eq!(c.sso.count("GetRoleCredentials"), 1, "one role call");
    insta::assert_snapshot!(transcript(&c.env, &["clear", "dev-analyst"]));
    c.export("dev-analyst");
    assert_eq!(
        c.sso.count("GetRoleCredentials"),
        2,
        "clear dropped the role's credentials"
    );
    assert_eq!(c.sso.count("Authorize"), 1, "clear keeps the sign-in");
}

/// On Linux the kernel keyring, through the same OS-store code as the Keychain; on Windows the
/// Credential Manager itself.
#[cfg(any(target_os = "linux", windows))]
#[test]
fn the_tokens_fit_an_os_store_split_over_several_items() {
    // The session's registration and tokens are longer than one item takes (the Credential
    // Manager's hold 1280 characters), so they are split and joined again.
    let c = Corp::new();
    let name = crate::common::unique("corp");
    c.env.write_aws_config(&CONFIG.replace("corp", &name));
    let backend = if cfg!(windows) { "wincred" } else { "keyutils" };
    let os_store = |args: &[&str]| {
        c.env
            .broker()
            .args(args)
            .env("BROKER_BACKEND", backend)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = os_store(&["export", "--format", "env", "dev-analyst"]);
    assert!(
        out.status.success(),
        "export dev-analyst: {}",
        stderr_of(&out)
    );
    let out = os_store(&["export", "--format", "env", "dev-admin"]);
    assert!(
        out.status.success(),
        "export dev-admin: {}",
        stderr_of(&out)
    );
    assert_eq!(
        c.sso.count("Authorize"),
        1,
        "the tokens were read back whole"
    );
    let out = os_store(&["sso", "logout", &name]);
    assert!(out.status.success(), "sso logout: {}", stderr_of(&out));
    assert_eq!(
        c.sso.count("Logout"),
        1,
        "the access token was read back whole"
    );
    let listed = stdout_of(&os_store(&["list"]));
    assert!(
        listed.contains(&format!("sso {name} (signed out)")),
        "{listed}"
    );
}

/// Another local user (nobody, through setpriv) who has the authorize URL (here handed over by
/// the test: broker no longer puts it where another user can read it) does its own /authorize
/// with broker's client id, challenge and redirect, and brings its code back to broker's
/// callback with the right state: plainly, then resetting the connection, then closing it at
/// once. Every one is refused, the sign-in goes on, and only the user's own code is exchanged.
/// (Linux: setpriv, and only Linux tells broker who owns a connection.)
#[cfg(target_os = "linux")]
#[test]
fn another_users_callback_is_refused_however_its_connection_ends() {
    assert_eq!(
        // SAFETY: geteuid only reads the process's credentials.
        unsafe { libc::geteuid() },
        0,
        "this test acts as a second local user (nobody) with setpriv, which needs root"
    );
    let c = Corp::with_browser(TestBrowser::inert);
    let stderr = c.env.dir.path().join("broker.stderr");
    let child = c
        .env
        .std_command(broker_bin())
        .args(["export", "--format", "env", "dev-analyst"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while c.browser.targets().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no browser");
        std::thread::sleep(Duration::from_millis(50));
    }
    let authorize = c.browser.targets()[0].clone();
    let refusals = || {
        std::fs::read_to_string(&stderr)
            .unwrap_or_default()
            .matches("warning: refused a sign-in callback from")
            .count()
    };
    let as_nobody = |script: &str, url: &str| {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            // The system's Python: one under root's home (pyenv) is closed to nobody.
            .args(["/usr/bin/python3", "-c", script, url])
            .output()
            .expect("setpriv (util-linux) and /usr/bin/python3 (python3) are needed");
        String::from_utf8_lossy(&out.stdout).into_owned() + &stderr_of(&out)
    };
    let mut forged = Vec::new();
    for how in ["plain", "reset", "close"] {
        let theirs = c.sso.visit(&authorize);
        let location = theirs.header("Location").unwrap().to_string();
        forged.push(location.clone());
        let said = as_nobody(&format!("{NOBODY_CALLBACK}\ncall({how:?})"), &location);
        if how == "plain" {
            assert!(
                said.contains("HTTP/1.1 403"),
                "the plain callback was answered: {said}"
            );
        }
        // Done with when broker holds no connection on its callback port any more. A reset
        // one may be gone before broker reads it (the kernel drops what it had not read): then
        // it was refused without a word, and nothing of it was used either.
        let waiting = Instant::now();
        while holds_connections(callback_port(&location)) {
            assert!(
                waiting.elapsed() < Duration::from_secs(20),
                "broker still holds the {how} callback's connection: {said} {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{how}: {} refusal(s) told so far", refusals());
    }
    assert!(
        refusals() >= 1,
        "at least the plain callback was refused aloud: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    // The user's own browser finishes the sign-in.
    let mine = c.sso.visit(&authorize);
    let answer = local_get(mine.header("Location").unwrap());
    let err = || std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?} {}", err());
    let out = child.wait_with_output().unwrap();
    let err = err();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("refused a sign-in callback from another local user (uid 65534)"),
        "{err}"
    );
    let codes: Vec<String> = c
        .sso
        .requests("CreateToken")
        .iter()
        .filter_map(|r| r.get("code").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), 1, "{codes:?}");
    for location in &forged {
        assert!(!location.contains(&codes[0]), "nobody's code was exchanged");
    }
    assert!(mine.header("Location").unwrap().contains(&codes[0]));
}

#[cfg(target_os = "linux")]
/// The port of the loopback callback a redirect goes to.
fn callback_port(location: &str) -> u16 {
    url::Url::parse(location)
        .ok()
        .and_then(|u| u.port())
        .unwrap_or_else(|| panic!("a redirect to a loopback port: {location}"))
}

#[cfg(target_os = "linux")]
/// Whether a connection to 127.0.0.1:`port` is still open on broker's side (established,
/// half-open or closed by the client but not yet by broker), from the kernel's socket table.
fn holds_connections(port: u16) -> bool {
    let local = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some((*fields.get(1)?, *fields.get(3)?))
        })
        // ESTABLISHED, SYN_RECV, CLOSE_WAIT.
        .any(|(address, state)| address == local && ["01", "03", "08"].contains(&state))
}

#[cfg(target_os = "linux")]
/// What nobody runs: `call(how)` sends a GET of sys.argv[1] and then reads the answer
/// ("plain"), resets the connection (RST, "reset"), or closes it without reading ("close").
const NOBODY_CALLBACK: &str = r#"
import socket, struct, sys
from urllib.parse import urlsplit
def call(how):
    url = urlsplit(sys.argv[1])
    s = socket.create_connection(("127.0.0.1", url.port))
    s.sendall(f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    if how == "plain":
        s.settimeout(20)
        print(s.recv(4096).decode(errors="replace"))
    elif how == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
"#;
