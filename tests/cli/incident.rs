//! Incident response: break-glass and require-reason policy, capped, notified and audited.

use crate::common::{normalize, script, stderr_of, transcript, transcripts, unix_lines};
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

    insta::assert_snapshot!(transcripts(
        &c.env,
        &[&["export", "r1"], &["export", "--reason", "INC-7", "r1"]]
    ));
    assert_eq!(c.moto.count("AssumeRole"), 0, "nothing issued on refusal");
    assert!(!notified.exists(), "notified of a refusal");

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
    assert!(out.status.success(), "export: {}", stderr_of(&out));
    // The cap's notice and notify_command's output ("paged"), on stderr; stdout is the JSON.
    insta::assert_snapshot!(
        "break_glass_issue_stderr",
        normalize(&c.env, &stderr_of(&out))
    );
    let creds: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    let expiration =
        chrono::DateTime::parse_from_rfc3339(creds["Expiration"].as_str().unwrap()).unwrap();
    assert!(
        expiration <= before + chrono::TimeDelta::minutes(61),
        "capped at 1h: {expiration}"
    );

    let sent = c.moto.requests("AssumeRole");
    let sent = sent.last().unwrap();
    assert_eq!(sent["Tags.member.1.Key"], "BrokerReason", "{sent:?}");
    assert_eq!(sent["Tags.member.1.Value"], "INC-7:db-down", "{sent:?}");
    assert_eq!(sent["DurationSeconds"], "3600", "capped: {sent:?}");

    let env_text = unix_lines(&std::fs::read_to_string(&notified).unwrap());
    for line in [
        "BROKER_PROFILE=r1\n".to_string(),
        format!("BROKER_ROLE_ARN=arn:aws:iam::{ACCOUNT}:role/r1\n"),
        "BROKER_REASON=INC-7:db-down\n".to_string(),
        "BROKER_EXPIRATION=20".to_string(),
    ] {
        assert!(
            env_text.contains(&line),
            "notify_command's environment lacks {line:?}: {env_text}"
        );
    }
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
    assert_eq!(
        outcomes,
        ["refused", "refused", "issued"],
        "the audit trail"
    );
    let issued = &records[2];
    assert_eq!(issued["profile"], "r1", "{issued}");
    assert_eq!(
        issued["role_arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/r1"),
        "{issued}"
    );
    assert_eq!(issued["reason"], "INC-7:db-down", "{issued}");
    assert_eq!(issued["via"], "export", "{issued}");
    assert_eq!(issued["session_name"], "alice-session", "{issued}");
    assert_eq!(issued["cached"], false, "{issued}");
    assert_eq!(issued["expiration"], creds["Expiration"], "{issued}");
    assert!(
        records[0]["error"]
            .as_str()
            .unwrap()
            .contains("requires a reason"),
        "the first refusal's reason: {}",
        records[0]
    );
}

#[test]
fn require_reason_alone_needs_no_confirmation() {
    let c = Chain::new();
    c.env
        .write_broker_config("[profile.r1]\nrequire_reason = true\nmax_duration = \"30m\"\n");
    insta::assert_snapshot!(transcript(&c.env, &["exec", "r1", "--", "true"]));
    let creds = export_json(&c.env, &["--reason", "debugging", "r1"]);
    assert!(
        caller_of(&c.moto, &creds).contains("assumed-role/r1/"),
        "r1's credentials"
    );
    let sent = &c.moto.requests("AssumeRole")[0];
    assert_eq!(sent["DurationSeconds"], "1800", "max_duration: {sent:?}");
    assert!(
        !sent.contains_key("Tags.member.1.Key"),
        "a reason tag without tag_reason: {sent:?}"
    );
}
