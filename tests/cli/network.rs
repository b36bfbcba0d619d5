//! Corporate networks: every call through a real CONNECT proxy (with credentials, `NO_PROXY`),
//! to endpoints whose TLS certificate is signed by a CA the test makes (`AWS_CA_BUNDLE`,
//! `ca_bundle`, `SSL_CERT_FILE`), retried as `AWS_MAX_ATTEMPTS`/`max_attempts` and
//! `AWS_RETRY_MODE` say, on one HTTPS client per process, for STS, SSO and console sign-in. The proxy alone resolves
//! `*.broker-test.invalid`, so a call that reached such a host went through it.

use std::time::Duration;

use crate::common::moto::Moto;
use crate::common::net::{Proxy, TlsFront};
use crate::common::sso::{Sso, TestBrowser};
use crate::common::{assert_error, stderr_of, stdout_of, RefusedPort, TestEnv};
use crate::fixtures::{caller_of, export_json, Chain, Federation};

/// The proxy's user and password; the password has an `@`, percent-encoded in the URL.
const USER_PASS: &str = "user:p@ss-w0rd";
const USER_PASS_URL: &str = "user:p%40ss-w0rd";

/// Asserts that `needle` is nowhere in the test's files (HOME, cache, audit log, vault) nor in
/// the outputs given.
fn assert_never_written(env: &TestEnv, needle: &str, outputs: &[&std::process::Output]) {
    assert_eq!(
        env.files_containing(needle),
        Vec::<std::path::PathBuf>::new()
    );
    for out in outputs {
        let text = format!("{}{}", stdout_of(out), stderr_of(out));
        assert!(!text.contains(needle), "{needle} printed: {text}");
    }
}

#[test]
fn a_role_chain_and_a_console_sign_in_go_through_the_proxy_on_one_connection() {
    let chain = Chain::new();
    let proxy = Proxy::start(Some(USER_PASS));
    let sts = TlsFront::start(chain.moto.port, chain.env.dir.path());
    let federation = Federation::start();
    let federation_port = url::Url::parse(&federation.url).unwrap().port().unwrap();
    let signin = TlsFront::start(federation_port, chain.env.dir.path());
    // Both fronts' CAs in one bundle, as a company's bundle holds several.
    let bundle = chain.env.dir.path().join("corp-bundle.pem");
    let pems = [&sts.ca, &signin.ca].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&bundle, pems.concat()).unwrap();
    let env = chain
        .env
        .env("HTTPS_PROXY", &proxy.url(Some(USER_PASS_URL)))
        .env("AWS_CA_BUNDLE", bundle.to_str().unwrap())
        .env("AWS_ENDPOINT_URL", &sts.invalid_url("sts"))
        .env(
            "BROKER_FEDERATION_URL",
            &format!("{}/federation", signin.invalid_url("signin")),
        );

    let out = env
        .broker()
        .args(["-v", "export", "--format", "json", "r2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(caller_of(&chain.moto, &creds).contains(":assumed-role/r2/"));
    assert_eq!(chain.moto.count("AssumeRole"), 2);
    // Two AssumeRole calls, one CONNECT: the one client kept its connection.
    let sts_host = format!("sts.broker-test.invalid:{}", sts.port);
    assert_eq!(proxy.destinations(), std::slice::from_ref(&sts_host));
    let verbose = stderr_of(&out);
    assert!(
        verbose.contains(&format!(
            "via 127.0.0.1:{} (HTTPS_PROXY, with credentials)",
            proxy.port
        )),
        "{verbose}"
    );
    assert!(verbose.contains("(2 certificates)"), "{verbose}");

    let login = env
        .broker()
        .args(["login", "--stdout", "r2"])
        .output()
        .unwrap();
    assert!(login.status.success(), "{}", stderr_of(&login));
    assert!(stdout_of(&login).contains("SigninToken=signin-token-123"));
    assert_eq!(federation.sessions.lock().unwrap().len(), 1);
    assert_eq!(
        proxy.destinations(),
        [
            sts_host,
            format!("signin.broker-test.invalid:{}", signin.port)
        ],
        "the cached role needed no STS call; the federation endpoint went through the proxy"
    );
    assert_never_written(&env, "p@ss-w0rd", &[&out, &login]);
    assert_never_written(&env, "p%40ss-w0rd", &[&out, &login]);
}

#[test]
fn the_lower_case_variable_wins_and_no_proxy_sends_hosts_direct() {
    let chain = Chain::new();
    let proxy = Proxy::start(None);
    let front = TlsFront::start(chain.moto.port, chain.env.dir.path());
    let refused = RefusedPort::new();
    let env = chain
        .env
        .env("https_proxy", &proxy.url(None))
        .env("HTTPS_PROXY", &refused.url())
        .env("AWS_CA_BUNDLE", front.ca.to_str().unwrap());
    let export = |endpoint: &str, no_proxy: &str| {
        env.broker()
            .args(["export", "--refresh", "--format", "json", "r1"])
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("NO_PROXY", no_proxy)
            .output()
            .unwrap()
    };
    let through = export(&front.invalid_url("sts"), "localhost");
    assert!(through.status.success(), "{}", stderr_of(&through));
    assert_eq!(proxy.destinations().len(), 1);

    // Sent direct, the name resolves nowhere: the call could not have used the proxy.
    let direct = export(&front.invalid_url("sts"), "*.broker-test.invalid");
    assert_error(
        &direct,
        1,
        &format!("cannot reach {}: ", front.invalid_url("sts")),
    );
    assert!(!stderr_of(&direct).contains("through proxy"));
    // A range: 127.0.0.1 goes direct, and works.
    let range = export(&front.url("127.0.0.1"), "10.0.0.0/8, 127.0.0.0/8");
    assert!(range.status.success(), "{}", stderr_of(&range));
    assert_eq!(
        proxy.destinations().len(),
        1,
        "neither went through the proxy"
    );
}

#[test]
fn a_wrong_proxy_password_is_one_line_naming_the_proxy_and_never_printed() {
    let chain = Chain::new();
    let proxy = Proxy::start(Some(USER_PASS));
    let front = TlsFront::start(chain.moto.port, chain.env.dir.path());
    let env = chain
        .env
        .env("HTTPS_PROXY", &proxy.url(Some("user:wr%40ng-pw")))
        .env("AWS_CA_BUNDLE", front.ca.to_str().unwrap())
        .env("AWS_ENDPOINT_URL", &front.invalid_url("sts"));
    let out = env
        .broker()
        .args(["export", "--format", "json", "r1"])
        .output()
        .unwrap();
    assert_error(
        &out,
        1,
        &format!(
            "AssumeRole failed: cannot reach {} through proxy 127.0.0.1:{}: the proxy refused \
             the credentials (407 Proxy Authentication Required)",
            front.invalid_url("sts"),
            proxy.port
        ),
    );
    assert!(stderr_of(&out).contains("hint: check the user and password in HTTPS_PROXY"));
    let verbose = env
        .broker()
        .args(["-v", "export", "--format", "json", "r1"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&verbose).contains("caused by: "),
        "{}",
        stderr_of(&verbose)
    );
    let audit = std::fs::read_to_string(env.dir.path().join("state/broker/audit.jsonl")).unwrap();
    assert!(audit.contains("refused the credentials"), "{audit}");
    assert_never_written(&env, "wr@ng-pw", &[&out, &verbose]);
    assert_never_written(&env, "wr%40ng-pw", &[&out, &verbose]);
    let doctor = env.broker().arg("doctor").output().unwrap();
    assert!(
        stdout_of(&doctor).contains(&format!(
            "✓ proxy: {} via 127.0.0.1:{} (HTTPS_PROXY, with credentials)",
            front.invalid_url("sts"),
            proxy.port
        )),
        "{}",
        stdout_of(&doctor)
    );
    assert_never_written(&env, "wr%40ng-pw", &[&doctor]);
}

#[test]
fn trust_is_the_system_roots_plus_aws_ca_bundle_or_the_profiles_ca_bundle() {
    let moto = Moto::start(None);
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
    let front = TlsFront::start(moto.port, env.dir.path());
    let user = moto.create_user("tls");
    let env = env.env("AWS_ENDPOINT_URL", &front.url("localhost"));
    crate::fixtures::store_key(&env, "tls", &user.access_key_id, &user.secret_access_key);
    let ca = front.ca.to_str().unwrap();
    let config = |extra: &str| env.write_aws_config(&format!("[profile tls]\n{extra}"));
    let export = |vars: &[(&str, &str)]| {
        let mut cmd = env.broker();
        cmd.args(["export", "--refresh", "--format", "json", "tls"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };

    config("");
    let untrusted = export(&[]);
    assert_error(
        &untrusted,
        1,
        "TLS: its certificate is not accepted (invalid peer certificate: UnknownIssuer); \
         trusting system roots",
    );
    assert!(stderr_of(&untrusted).contains("hint: if your network inspects TLS, set AWS_CA_BUNDLE"));

    assert!(export(&[("AWS_CA_BUNDLE", ca)]).status.success());
    config(&format!("ca_bundle = {ca}\n"));
    assert!(export(&[]).status.success(), "the profile's ca_bundle");
    // The variable beats the profile, even when only the profile's is right.
    let other = TlsFront::start(moto.port, &env.dir.path().join("tmp"));
    let wrong = export(&[("AWS_CA_BUNDLE", other.ca.to_str().unwrap())]);
    assert_error(
        &wrong,
        1,
        "UnknownIssuer); trusting system roots + AWS_CA_BUNDLE",
    );
    config("");
    // SSL_CERT_FILE replaces the system roots, as for every program that reads it.
    assert!(export(&[("SSL_CERT_FILE", ca)]).status.success());

    let dir = env.dir.path();
    std::fs::write(
        dir.join("key.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("junk.pem"),
        "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for (file, says) in [
        ("missing.pem", "cannot read the CA bundle"),
        ("tmp", "not a regular file"),
        ("key.pem", "holds no PEM certificate"),
        ("junk.pem", "is not valid PEM at certificate 1"),
    ] {
        let path = dir.join(file);
        let out = export(&[("AWS_CA_BUNDLE", path.to_str().unwrap())]);
        assert_error(&out, 1, &format!("{} (AWS_CA_BUNDLE)", path.display()));
        assert_error(&out, 1, says);
        assert_eq!(stderr_of(&out).lines().count(), 2, "{}", stderr_of(&out));
    }
}

#[test]
fn retries_count_every_attempt_as_botocore_does() {
    let chain = Chain::new();
    let moto = &chain.moto;
    let export = |vars: &[(&str, &str)]| {
        let mut cmd = chain.env.broker();
        cmd.args(["export", "--refresh", "--format", "json", "r1"])
            .timeout(Duration::from_secs(60));
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let attempts = |vars: &[(&str, &str)], mode: &str, failures: u32| {
        moto.fail_next("AssumeRole", mode, failures);
        let before = moto.count("AssumeRole");
        let out = export(vars);
        (out, moto.count("AssumeRole") - before)
    };

    let (out, made) = attempts(&[], "500", 3);
    assert_error(&out, 1, "AssumeRole failed: HTTP 500");
    assert_eq!(made, 3, "the default: 3 attempts, the first included");
    let (out, made) = attempts(&[("AWS_MAX_ATTEMPTS", "5")], "500", 3);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(made, 4);
    let config = std::fs::read_to_string(chain.env.aws_config()).unwrap();
    chain.env.write_aws_config(&config.replace(
        "[profile r1]\n",
        "[profile r1]\nmax_attempts = 5\nretry_mode = adaptive\n",
    ));
    let (out, made) = attempts(&[], "500", 3);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(made, 4, "the profile's max_attempts");
    let (out, made) = attempts(&[("AWS_MAX_ATTEMPTS", "2")], "500", 3);
    assert!(!out.status.success());
    assert_eq!(made, 2, "the variable beats the profile");
    chain.env.write_aws_config(&config);

    for mode in ["throttle", "429"] {
        let (out, made) = attempts(&[], mode, 2);
        assert!(out.status.success(), "{mode}: {}", stderr_of(&out));
        assert_eq!(made, 3, "{mode}");
    }
    assert!(export(&[("AWS_RETRY_MODE", "legacy")]).status.success());
    assert_error(
        &export(&[("AWS_RETRY_MODE", "bogus")]),
        1,
        "AWS_RETRY_MODE `bogus` is not a retry mode (standard, adaptive or legacy)",
    );
    assert_error(
        &export(&[("AWS_MAX_ATTEMPTS", "many")]),
        1,
        "AWS_MAX_ATTEMPTS `many` is not a number of attempts",
    );
}

#[test]
fn a_cached_profile_builds_no_network_stack_even_with_broken_network_settings() {
    let chain = Chain::new();
    assert!(export_json(&chain.env, &["r1"])["AccessKeyId"].is_string());
    let out = chain
        .env
        .broker()
        .args(["-v", "export", "--format", "json", "r1"])
        .env("AWS_CA_BUNDLE", "/nonexistent/bundle.pem")
        .env("HTTPS_PROXY", "socks5://nowhere:1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("network:"), "{}", stderr_of(&out));
}

#[test]
fn doctor_reports_the_proxy_the_trust_and_sts_through_them() {
    let moto = Moto::start(None);
    let proxy = Proxy::start(Some(USER_PASS));
    let env = TestEnv::new();
    let front = TlsFront::start(moto.port, env.dir.path());
    let env = env
        .env("HTTPS_PROXY", &proxy.url(Some(USER_PASS_URL)))
        .env("AWS_ENDPOINT_URL", &front.invalid_url("sts"));
    let doctor = |bundle: &str| {
        let out = env
            .broker()
            .arg("doctor")
            .env("AWS_CA_BUNDLE", bundle)
            .output()
            .unwrap();
        assert_never_written(&env, "p%40ss-w0rd", &[&out]);
        stdout_of(&out)
    };
    let report = doctor(front.ca.to_str().unwrap());
    let url = front.invalid_url("sts");
    for line in [
        format!(
            "✓ proxy: {url} via 127.0.0.1:{} (HTTPS_PROXY, with credentials)",
            proxy.port
        ),
        format!(
            "✓ trust: system roots + AWS_CA_BUNDLE {} (1 certificate)",
            front.ca.display()
        ),
        format!("✓ STS endpoint: {url} answers"),
        "✓ clock: within a minute of STS's".to_string(),
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "no {line:?} in\n{report}"
        );
    }
    let broken = env.dir.path().join("home/.aws/config");
    let report = doctor(broken.to_str().unwrap());
    assert!(
        report.contains(&format!(
            "✗ trust: cannot read the CA bundle {}",
            broken.display()
        )),
        "{report}"
    );
    assert!(report.contains("✗ STS endpoint: not checked: "), "{report}");
    assert!(
        report.contains("✓ proxy: "),
        "the other checks ran: {report}"
    );
}

#[test]
fn an_sso_sign_in_and_its_role_credentials_go_through_the_proxy() {
    let proxy = Proxy::start(Some(USER_PASS));
    let mut env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
    let sso = Sso::sharing_clock(&env);
    let front = TlsFront::start(sso.port, env.dir.path());
    let browser = TestBrowser::new(env.dir.path());
    let ca = front.ca.to_str().unwrap();
    env = env
        .env("BROWSER", browser.command.to_str().unwrap())
        .env("HTTPS_PROXY", &proxy.url(Some(USER_PASS_URL)))
        .env("AWS_CA_BUNDLE", ca)
        // For the test browser (Python), which goes to the authorize page direct.
        .env("SSL_CERT_FILE", ca)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &front.url("localhost"))
        .env("AWS_ENDPOINT_URL_SSO", &front.url("localhost"));
    env.write_aws_config(
        "[sso-session corp]\nsso_start_url = https://corp.example.awsapps.com/start\n\
         sso_region = eu-west-1\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\n\
         sso_role_name = Analyst\n",
    );
    let out = env
        .broker()
        .args(["export", "--format", "env", "dev"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    for op in ["RegisterClient", "CreateToken", "GetRoleCredentials"] {
        assert_eq!(sso.count(op), 1, "{op}");
    }
    let visits = browser.visits();
    assert!(
        visits[0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/authorize?", front.url("localhost"))),
        "the authorize page is on the OIDC endpoint: {visits:?}"
    );
    let destinations = proxy.destinations();
    assert!(!destinations.is_empty());
    assert!(
        destinations
            .iter()
            .all(|d| *d == format!("localhost:{}", front.port)),
        "{destinations:?}"
    );
    assert_never_written(&env, "p%40ss-w0rd", &[&out]);
}
