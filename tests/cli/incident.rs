//! Incident response: break-glass and require-reason policy, capped, notified and audited.

use crate::common::{assert_error, script, shell, stderr_of, unix_lines};
use crate::fixtures::{caller_of, export_json, Chain, ACCOUNT};
use crate::history::history;

#[test]
fn break_glass_refuses_without_a_reason_and_issues_capped_notified_and_audited_with_one() {
    let c = Chain::new();
    let notified = c.env.dir.path().join("notified.env");
    let script = script(
        &c.env,
        "page-oncall",
        &format!("env > {}\necho paged", notified.display()),
        &format!("set > \"{}\"\necho paged", notified.display()),
    );
    c.env.write_broker_config(&format!(
        "[profile.r1]\nbreak_glass = true\ntag_reason = true\nnotify_command = ['{}']\n",
        script.display()
    ));

    let out = c.env.broker().args(["export", "r1"]).output().unwrap();
    assert_error(&out, 1, "profile r1 requires a reason");
    let out = c
        .env
        .broker()
        .args(["export", "--reason", "INC-7", "r1"])
        .output()
        .unwrap();
    assert_error(&out, 1, "break-glass profile r1 needs confirmation");
    assert!(stderr_of(&out).contains("--yes"));
    assert_eq!(c.moto.count("AssumeRole"), 0, "nothing issued on refusal");
    assert!(!notified.exists());

    let before = chrono::Utc::now();
    let out = c
        .env
        .broker()
        .args([
            "export",
            "--format",
            "json",
            "--reason",
            "INC-7:db-down",
            "--yes",
            "--duration",
            "4h",
            "r1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("policy caps r1 at 1h (asked 4h)"),
        "{}",
        stderr_of(&out)
    );
    let creds: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    let expiration =
        chrono::DateTime::parse_from_rfc3339(creds["Expiration"].as_str().unwrap()).unwrap();
    assert!(
        expiration <= before + chrono::TimeDelta::minutes(61),
        "capped at 1h: {expiration}"
    );
    assert!(
        stderr_of(&out).contains("paged"),
        "notify output goes to stderr"
    );

    let sent = c.moto.requests("AssumeRole");
    assert_eq!(sent.last().unwrap()["Tags.member.1.Key"], "BrokerReason");
    assert_eq!(sent.last().unwrap()["Tags.member.1.Value"], "INC-7:db-down");
    assert_eq!(sent.last().unwrap()["DurationSeconds"], "3600");

    let env_text = unix_lines(&std::fs::read_to_string(&notified).unwrap());
    assert!(env_text.contains("BROKER_PROFILE=r1\n"));
    assert!(env_text.contains(&format!("BROKER_ROLE_ARN=arn:aws:iam::{ACCOUNT}:role/r1\n")));
    assert!(env_text.contains("BROKER_REASON=INC-7:db-down\n"));
    assert!(env_text.contains("BROKER_EXPIRATION=20"));
    for secret in [
        creds["SecretAccessKey"].as_str().unwrap(),
        creds["SessionToken"].as_str().unwrap(),
        &c.key.secret_access_key,
    ] {
        assert!(
            !env_text.contains(secret),
            "a secret reached notify_command"
        );
    }

    let records = history(&c.env, &["--profile", "r1"]);
    let outcomes: Vec<_> = records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["refused", "refused", "issued"]);
    let issued = &records[2];
    assert_eq!(issued["profile"], "r1");
    assert_eq!(
        issued["role_arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/r1")
    );
    assert_eq!(issued["reason"], "INC-7:db-down");
    assert_eq!(issued["via"], "export");
    assert_eq!(issued["session_name"], "alice-session");
    assert_eq!(issued["cached"], false);
    assert_eq!(issued["expiration"], creds["Expiration"]);
    assert!(records[0]["error"]
        .as_str()
        .unwrap()
        .contains("requires a reason"));
}

#[test]
fn require_reason_alone_needs_no_confirmation() {
    let c = Chain::new();
    c.env
        .write_broker_config("[profile.r1]\nrequire_reason = true\nmax_duration = \"30m\"\n");
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--"])
        .args(shell("true", "exit 0"))
        .output()
        .unwrap();
    assert_error(&out, 1, "profile r1 requires a reason");
    let creds = export_json(&c.env, &["--reason", "debugging", "r1"]);
    assert!(caller_of(&c.moto, &creds).contains("assumed-role/r1/"));
    assert_eq!(c.moto.requests("AssumeRole")[0]["DurationSeconds"], "1800");
    assert!(!c.moto.requests("AssumeRole")[0].contains_key("Tags.member.1.Key"));
}
