//! aws-vault's variables and flags, one by one, each with the outcome of its broker form:
//! against moto (with enforcement, and without for MFA), the file vault, and the real clients.

use crate::common::{assert_error, stderr_of, stdout_of, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::{caller_of, export_json, Chain};

/// The sealed environment of `c` without broker's own vault variables.
fn bare(c: &Chain) -> TestEnv {
    TestEnv::new().env("AWS_ENDPOINT_URL", &c.moto.endpoint())
}

/// `c`'s AWS config in `env`, and `env`'s vault dir holding alice's key (written with broker's
/// variables).
fn with_alice(c: &Chain, env: &TestEnv) {
    std::fs::copy(c.env.aws_config(), env.aws_config()).unwrap();
    let mut add = env.broker();
    add.args(["add", "--env", "alice"])
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", &c.key.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &c.key.secret_access_key);
    let out = add.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn aws_vault_backend_and_file_passphrase_alone_open_the_file_vault() {
    let c = Chain::new();
    let env = bare(&c);
    with_alice(&c, &env);
    let out = env
        .broker()
        .args(["-v", "export", "--format", "json", "r1"])
        .env("AWS_VAULT_BACKEND", "file")
        .env("AWS_VAULT_FILE_PASSPHRASE", TEST_PASSPHRASE)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the backend from AWS_VAULT_BACKEND (aws-vault's; BROKER_BACKEND is unset)"),
        "{err}"
    );
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(caller_of(&c.moto, &creds).contains(":assumed-role/r1/"));
}

#[test]
fn brokers_own_variable_wins_and_verbose_says_so() {
    let c = Chain::new();
    let env = bare(&c);
    with_alice(&c, &env);
    let out = env
        .broker()
        .args(["-v", "export", "--format", "json", "r1"])
        .env("BROKER_BACKEND", "file")
        .env("AWS_VAULT_BACKEND", "kwallet")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE)
        .env("AWS_VAULT_FILE_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the backend from BROKER_BACKEND (AWS_VAULT_BACKEND, aws-vault's, is set too and loses)"),
        "{err}"
    );
}

#[test]
fn aws_vault_file_dir_is_where_the_file_vault_lives() {
    let c = Chain::new();
    let env = bare(&c);
    std::fs::copy(c.env.aws_config(), env.aws_config()).unwrap();
    let dir = env.dir.path().join("awsvault-keys");
    let aws_vault = |cmd: &mut assert_cmd::Command| {
        cmd.env("AWS_VAULT_BACKEND", "file")
            .env("AWS_VAULT_FILE_DIR", &dir)
            .env("AWS_VAULT_FILE_PASSPHRASE", TEST_PASSPHRASE);
    };
    let mut add = env.broker();
    aws_vault(&mut add);
    let out = add
        .args(["add", "--env", "alice"])
        .env("AWS_ACCESS_KEY_ID", &c.key.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &c.key.secret_access_key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(dir.join("keys%3Aalice.age").is_file());
    // The same as BROKER_FILE_DIR.
    let mut export = env.broker_file();
    export
        .env("BROKER_FILE_DIR", &dir)
        .args(["export", "--format", "json", "r1"]);
    let out = export.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn unmappable_values_are_errors_naming_the_variable() {
    let env = TestEnv::new();
    env.write_aws_config("[profile p]\n");
    for (name, value, says) in [
        (
            "AWS_VAULT_BACKEND",
            "kwallet",
            "AWS_VAULT_BACKEND=kwallet: broker has no kwallet backend",
        ),
        (
            "AWS_VAULT_BACKEND",
            "op",
            "AWS_VAULT_BACKEND=op: broker has no op backend",
        ),
        (
            "AWS_VAULT_PROMPT",
            "ykman",
            "AWS_VAULT_PROMPT ykman: broker has no ykman prompt",
        ),
        (
            "AWS_ASSUME_ROLE_TTL",
            "1x",
            "invalid duration `1x` for AWS_ASSUME_ROLE_TTL",
        ),
        (
            "AWS_SESSION_TOKEN_TTL",
            "3600",
            "invalid duration `3600` for AWS_SESSION_TOKEN_TTL",
        ),
        (
            "AWS_MIN_TTL",
            "soon",
            "invalid duration `soon` for AWS_MIN_TTL",
        ),
    ] {
        let out = env
            .broker()
            .args(["export", "p"])
            .env(name, value)
            .output()
            .unwrap();
        assert_error(&out, 1, says);
    }
    let out = env
        .broker()
        .args(["--prompt", "wincredui", "export", "p"])
        .output()
        .unwrap();
    assert_error(
        &out,
        2,
        "--prompt wincredui: broker has no wincredui prompt",
    );
}

#[test]
fn assume_role_ttl_beats_duration_seconds_and_loses_to_the_flag() {
    let c = Chain::new();
    let mut config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    config = config.replace(
        "role_session_name = alice-session\nregion = eu-west-1\n",
        "role_session_name = alice-session\nregion = eu-west-1\nduration_seconds = 1800\n",
    );
    c.env.write_aws_config(&config);
    let export = |args: &[&str], ttl: Option<&str>| {
        let mut cmd = c.env.broker();
        cmd.args(["export", "--format", "json", "--refresh"])
            .args(args);
        if let Some(ttl) = ttl {
            cmd.env("AWS_ASSUME_ROLE_TTL", ttl);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    };
    let last = || c.moto.requests("AssumeRole").last().unwrap()["DurationSeconds"].clone();
    export(&["r1"], None);
    assert_eq!(last(), "1800", "duration_seconds");
    export(&["r1"], Some("2h"));
    assert_eq!(last(), "7200", "AWS_ASSUME_ROLE_TTL beats duration_seconds");
    export(&["r1"], Some("1.5h"));
    assert_eq!(last(), "5400", "Go's syntax");
    export(&["-d", "20m", "r1"], Some("2h"));
    assert_eq!(last(), "1200", "--duration beats AWS_ASSUME_ROLE_TTL");
    let out = c
        .env
        .broker()
        .args(["export", "r1"])
        .env("AWS_ASSUME_ROLE_TTL", "13h")
        .output()
        .unwrap();
    assert_error(
        &out,
        1,
        "invalid duration `13h` for AWS_ASSUME_ROLE_TTL: AWS allows 15m to 12h for a role",
    );
}

#[test]
fn session_token_ttls_and_mfa_serial_reach_sts() {
    let (moto, env) = crate::fixtures::mfa_user();
    let device = "arn:aws:iam::123456789012:mfa/from-the-variable";
    let out = env
        .broker()
        .args(["export", "--format", "json", "-t", "123456", "bob"])
        .env("AWS_SESSION_TOKEN_TTL", "2h")
        .env("AWS_MFA_SERIAL", device)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let sent = moto.requests("GetSessionToken");
    assert_eq!(sent[0]["DurationSeconds"], "7200", "AWS_SESSION_TOKEN_TTL");
    assert_eq!(
        sent[0]["SerialNumber"], device,
        "AWS_MFA_SERIAL beats the profile's mfa_serial"
    );
    // Under a role, the MFA session's duration is AWS_CHAINED_SESSION_TOKEN_TTL's.
    let out = env
        .broker()
        .args([
            "export",
            "--format",
            "json",
            "-t",
            "123456",
            "--refresh",
            "role",
        ])
        .env("AWS_SESSION_TOKEN_TTL", "2h")
        .env("AWS_CHAINED_SESSION_TOKEN_TTL", "3h")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let sent = moto.requests("GetSessionToken");
    assert_eq!(sent.last().unwrap()["DurationSeconds"], "10800");
    // It is the mfa_serial of the profile asked for only, as in aws-vault: the source's own
    // device still signs the source's session.
    let out = env
        .broker()
        .args(["export", "-v", "-t", "123456", "--refresh", "role"])
        .env("AWS_MFA_SERIAL", device)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("AWS_MFA_SERIAL=arn:aws:iam::123456789012:mfa/from-the-variable (aws-vault's) is honoured"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        moto.requests("GetSessionToken").last().unwrap()["SerialNumber"],
        format!(
            "arn:aws:iam::{}:mfa/profile-device",
            crate::fixtures::ACCOUNT
        ),
        "the source bob's own device"
    );
}

#[test]
fn federation_token_ttl_is_logins_duration() {
    let c = Chain::new();
    let federation = crate::fixtures::Federation::start();
    let out = c
        .env
        .broker()
        .args(["login", "-s", "alice"])
        .env("BROKER_FEDERATION_URL", &federation.url)
        .env("AWS_FEDERATION_TOKEN_TTL", "2h")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("signin-token-123"),
        "login -s prints the URL"
    );
    assert_eq!(
        c.moto.requests("GetFederationToken")[0]["DurationSeconds"],
        "7200"
    );
}

#[test]
fn the_file_passphrase_of_aws_vault_never_reaches_a_child() {
    let c = Chain::new();
    let env = bare(&c);
    with_alice(&c, &env);
    let out = env
        .broker()
        .args(["exec", "r1", "--", "env"])
        .env("AWS_VAULT_BACKEND", "file")
        .env("AWS_VAULT_FILE_PASSPHRASE", TEST_PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let child_env = stdout_of(&out);
    assert!(child_env.contains("AWS_VAULT=r1"), "{child_env}");
    assert!(!child_env.contains("AWS_VAULT_FILE_PASSPHRASE"));
    assert!(!child_env.contains(TEST_PASSPHRASE));
}

#[test]
fn exec_json_is_export_format_json() {
    let c = Chain::new();
    for flag in ["--json", "-j"] {
        let out = c.env.broker().args(["exec", flag, "r1"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(creds, export_json(&c.env, &["r1"]), "{flag}");
    }
}

#[test]
fn exec_s_and_ecs_server_serve_the_ecs_protocol() {
    let c = Chain::new();
    let aws = crate::common::moto::venv().join("bin/aws");
    for flag in ["-s", "--ecs-server", "--server"] {
        let out = c
            .env
            .broker()
            .args(["exec", flag, "r1", "--"])
            .arg(&aws)
            .args([
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag}: {}", stderr_of(&out));
        assert!(stdout_of(&out).contains(":assumed-role/r1/"), "{flag}");
    }
}

#[test]
fn export_env_evals_like_sh() {
    let c = Chain::new();
    let out = c
        .env
        .broker()
        .args(["export", "--format", "export-env", "r1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let sh = c
        .env
        .broker()
        .args(["export", "--format", "sh", "r1"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), stdout_of(&sh));
    let script = format!("{}\necho \"$AWS_SESSION_TOKEN\"", stdout_of(&out));
    let shell = c.env.command("sh").args(["-c", &script]).output().unwrap();
    assert!(!stdout_of(&shell).trim().is_empty());
}

#[test]
fn remove_sessions_only_drops_sessions_and_keeps_keys() {
    let c = Chain::new();
    for flag in ["--sessions-only", "-s"] {
        export_json(&c.env, &["r1"]);
        let out = c
            .env
            .broker()
            .args(["remove", flag, "r1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("dropped 1 cached session(s) of profile r1"),
            "{}",
            stderr_of(&out)
        );
    }
    let list = c.env.broker().args(["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let alice = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == "alice")
        .unwrap();
    assert_eq!(alice["keys"], "file", "keys kept");
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["sessions"].as_array().unwrap().is_empty()),
        "{rows}"
    );
}

#[test]
fn list_modes_of_aws_vault() {
    let c = Chain::new();
    export_json(&c.env, &["r1"]);
    let list = |flag: &str| {
        let out = c.env.broker().args(["list", flag]).output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    assert_eq!(list("--profiles"), "alice\nlocked\nr1\nr2\n");
    let sessions = list("--sessions");
    assert!(
        sessions.contains("r1") && !sessions.contains("locked"),
        "{sessions}"
    );
    let credentials = list("--credentials");
    assert!(
        credentials.contains("alice") && !credentials.contains("r2"),
        "{credentials}"
    );
}

#[test]
fn rotate_no_session_makes_no_mfa_session() {
    let c = Chain::new();
    let mut config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    config = config.replace(
        "[profile alice]\n",
        "[profile alice]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n",
    );
    c.env.write_aws_config(&config);
    let out = c
        .env
        .broker()
        .args(["rotate", "-n", "alice"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(c.moto.count("GetSessionToken"), 0);
    assert_eq!(
        c.moto.count("CreateAccessKey"),
        2,
        "set-up's and the rotation's"
    );
}

#[test]
fn debug_is_verbose() {
    let env = TestEnv::new();
    env.write_aws_config("[profile p]\n");
    let out = env
        .broker()
        .args(["--debug", "list"])
        .env("AWS_VAULT_BACKEND", "file")
        .env("AWS_VAULT_FILE_PASSPHRASE", "x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("from AWS_VAULT_BACKEND"));
}

#[test]
fn help_aws_vault_snapshot() {
    let out = TestEnv::new()
        .broker()
        .args(["help", "aws-vault"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    insta::assert_snapshot!("help_aws_vault", stdout_of(&out));
}

#[test]
fn aws_vault_flags_where_broker_has_none_name_the_broker_form() {
    let env = TestEnv::new();
    for (args, says, hint) in [
        (
            &["clear", "--sessions-only", "p"][..],
            "`aws-vault remove --sessions-only` is `broker clear PROFILE`",
            "broker help aws-vault",
        ),
        (
            &["export", "--json", "p"][..],
            "`aws-vault exec --json` is `broker export --format json`",
            "broker help aws-vault",
        ),
        (
            &["exec", "--ecs-srver", "p"][..],
            "unexpected argument '--ecs-srver'",
            "`aws-vault exec --ecs-server` is `exec --server`",
        ),
    ] {
        let out = env.broker().args(args).output().unwrap();
        assert_error(&out, 2, says);
        assert!(stderr_of(&out).contains(hint), "{}", stderr_of(&out));
    }
}
