//! Policy that follows the role and a floor the organisation sets: `[[role]]` rules at every hop,
//! the system policy file (trusted, untrusted, broken), the strictest rule winning,
//! `reason_pattern`, `approve_command`, and a break-glass session per reason — against moto
//! with enforcement (alice → r1 → r2 of `fixtures::Chain`, r1 playing the break-glass role).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{assert_error, stderr_of, stdout_of, TestEnv};
use crate::fixtures::{export_json, fixed_process_env, role_arn, Chain};
use crate::history::history;

/// `Chain` with two more profiles: `renamed` (another name for r1's role) and the chain's own
/// `r2`, which chains through r1.
fn chain() -> Chain {
    let c = Chain::new();
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(&format!(
        "{config}\n[profile renamed]\nrole_arn = {}\nsource_profile = alice\n\
         role_session_name = alice-session\n",
        role_arn("r1")
    ));
    c
}

fn broker(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.broker().args(args).output().unwrap()
}

/// An executable script in the test's directory.
fn script(env: &TestEnv, name: &str, body: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn last_record(env: &TestEnv) -> Value {
    history(env, &[]).pop().expect("a record")
}

#[test]
fn a_role_rule_follows_the_role_to_a_renamed_profile_and_through_a_chain() {
    let c = chain();
    // The role's name in another case: IAM role names are unique whatever their case.
    c.env
        .write_broker_config("[[role]]\narn = \"arn:aws:iam::*:role/R1\"\nbreak_glass = true\n");
    for profile in ["renamed", "r2"] {
        assert_error(
            &broker(&c.env, &["export", profile]),
            1,
            &format!("profile {profile} requires a reason"),
        );
        let refused = last_record(&c.env);
        assert_eq!(refused["outcome"], "refused");
        assert_eq!(refused["rules"], serde_json::json!(["user:role[0]"]));
    }
    assert_eq!(c.moto.count("AssumeRole"), 0, "nothing issued on refusal");
    let creds = export_json(
        &c.env,
        &["--reason", "INC-1", "--yes", "--duration", "4h", "renamed"],
    );
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(c.moto.requests("AssumeRole")[0]["DurationSeconds"], "3600");
    export_json(&c.env, &["--reason", "INC-1", "--yes", "r2"]);
    let sent = c.moto.requests("AssumeRole");
    assert_eq!(sent.len(), 3, "r2 chains through its own r1 session");
    assert_eq!(sent[1]["RoleArn"], role_arn("r1"));
    assert_eq!(
        sent[1]["DurationSeconds"], "3600",
        "the break-glass hop is capped"
    );
    let issued = last_record(&c.env);
    assert_eq!(issued["outcome"], "issued");
    assert_eq!(issued["rules"], serde_json::json!(["user:role[0]"]));

    let out = broker(&c.env, &["debug", "resolve", "--json", "r2"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rule = &json["policy"]["rules"][0];
    assert_eq!(rule["rule"], "user:role[0]");
    assert_eq!(rule["arn"], "arn:aws:iam::*:role/R1");
    assert_eq!(rule["matched"]["hop"], 0);
    assert_eq!(rule["matched"]["role_arn"], role_arn("r1"));
    assert_eq!(json["policy"]["break_glass"], true);
    assert_eq!(json["policy"]["per_reason_from_step"], 0);
    let text = stdout_of(&broker(&c.env, &["debug", "resolve", "r2"]));
    assert!(
        text.contains("policy: break-glass, at most 1h\n  user:role[0] ("),
        "{text}"
    );
    let out = broker(&c.env, &["list"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let table = stdout_of(&out);
    for profile in ["renamed", "r1", "r2"] {
        let row = table.lines().find(|l| l.starts_with(profile)).unwrap();
        assert!(
            row.ends_with("break-glass, at most 1h (user:role[0])"),
            "{row}"
        );
    }
    let alice = table.lines().find(|l| l.starts_with("alice")).unwrap();
    assert!(alice.ends_with(" -"), "{alice}");
}

#[test]
fn the_system_floor_cannot_be_loosened_and_every_notify_command_runs() {
    let c = chain();
    let system_log = c.env.dir.path().join("system-notified");
    let user_log = c.env.dir.path().join("user-notified");
    let system_notify = script(
        &c.env,
        "system-notify",
        &format!(
            "echo \"$BROKER_EVENT $BROKER_USER\" >> {}",
            system_log.display()
        ),
    );
    let user_notify = script(
        &c.env,
        "user-notify",
        &format!("echo \"$BROKER_EVENT\" >> {}", user_log.display()),
    );
    c.env.write_system_policy(&format!(
        "[[role]]\narn = \"arn:aws:iam::*:role/r1\"\nbreak_glass = true\nmax_duration = \"30m\"\n\
         notify_command = [\"{system_notify}\"]\n"
    ));
    // The user tries to undo every part of it, and adds a notification of their own.
    c.env.write_broker_config(&format!(
        "[[role]]\narn = \"arn:aws:iam::*:role/r1\"\nbreak_glass = false\nmax_duration = \"12h\"\n\
         [profile.r1]\nmax_duration = \"12h\"\nnotify_command = [\"{user_notify}\"]\n"
    ));
    assert_error(
        &broker(&c.env, &["export", "r1"]),
        1,
        "profile r1 requires a reason",
    );
    let out = broker(&c.env, &["export", "--reason", "INC-2", "r1"]);
    assert_error(&out, 1, "break-glass profile r1 needs confirmation");
    export_json(
        &c.env,
        &["--reason", "INC-2", "--yes", "--duration", "2h", "r1"],
    );
    assert_eq!(c.moto.requests("AssumeRole")[0]["DurationSeconds"], "1800");
    let issued = last_record(&c.env);
    assert_eq!(
        issued["rules"],
        serde_json::json!(["system:role[0]", "user:role[0]", "user:profile.r1"])
    );
    assert_eq!(
        std::fs::read_to_string(&system_log).unwrap(),
        "issued root\n",
        "the system's notify_command ran once"
    );
    assert_eq!(std::fs::read_to_string(&user_log).unwrap(), "issued\n");
    let out = broker(&c.env, &["debug", "resolve", "r1"]);
    let text = stdout_of(&out);
    let system = c.env.system_policy().display().to_string();
    assert!(
        text.contains(&format!(
            "  system:role[0] ({system}): [[role]] arn = \"arn:aws:iam::*:role/r1\" matched"
        )),
        "{text}"
    );
    let doctor = stdout_of(&broker(&c.env, &["doctor"]));
    assert!(
        doctor.contains(&format!(
            "✓ system policy: {system} (1 rule; only the administrator can change it)"
        )),
        "{doctor}"
    );
}

#[test]
fn an_untrusted_or_broken_system_policy_stops_issuing_but_not_reading() {
    let c = chain();
    let path = c.env.system_policy();
    let dir = path.parent().unwrap().to_owned();
    let good = "[[role]]\narn = \"*:role/r9\"\nrequire_reason = true\n";
    let chmod = |p: &std::path::Path, mode| {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap()
    };
    type Spoil<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Spoil, String)> = vec![
        (
            "group-writable",
            Box::new(|| chmod(&path, 0o664)),
            format!("{} is writable by group (mode 664)", path.display()),
        ),
        (
            "owned by another user",
            Box::new(|| std::os::unix::fs::chown(&path, Some(65534), None).unwrap()),
            format!("{} is owned by uid 65534, not root", path.display()),
        ),
        (
            "in a directory others can write",
            Box::new(|| chmod(&dir, 0o757)),
            format!(
                "{} is in {}, which is writable by others (mode 757)",
                path.display(),
                dir.display()
            ),
        ),
        (
            "an unknown key",
            Box::new(|| std::fs::write(&path, format!("{good}brek_glass = true\n")).unwrap()),
            format!(
                "invalid system policy {}: line 4: unknown field `brek_glass`",
                path.display()
            ),
        ),
        (
            "an invalid reason_pattern",
            Box::new(|| {
                std::fs::write(&path, "[profile.x]\n\nreason_pattern = \"^(INC\"\n").unwrap()
            }),
            format!(
                "invalid system policy {}: line 3: invalid reason_pattern `^(INC`",
                path.display()
            ),
        ),
    ];
    for (case, spoil, says) in cases {
        c.env.write_system_policy(good);
        let out = broker(&c.env, &["export", "r1"]);
        assert!(
            out.status.success(),
            "{case}: a trusted file works: {}",
            stderr_of(&out)
        );
        spoil();
        let before = c.moto.count("AssumeRole");
        for profile in ["r1", "alice"] {
            let out = broker(&c.env, &["export", "--refresh", profile]);
            assert_error(&out, 1, &says);
            assert!(
                stderr_of(&out).contains("no credentials are issued until it is fixed"),
                "{case}: {}",
                stderr_of(&out)
            );
            let refused = last_record(&c.env);
            assert_eq!(refused["outcome"], "refused", "{case}");
            assert!(refused["error"].as_str().unwrap().contains(&says), "{case}");
        }
        assert_eq!(c.moto.count("AssumeRole"), before, "{case}: nothing issued");
        let list = broker(&c.env, &["list"]);
        assert!(list.status.success(), "{case}: {}", stderr_of(&list));
        assert!(stdout_of(&list).contains("r1"), "{case}");
        assert!(
            stderr_of(&list).starts_with("broker: warning: ") && stderr_of(&list).contains(&says),
            "{case}: {}",
            stderr_of(&list)
        );
        let debug = broker(&c.env, &["debug", "resolve", "r1"]);
        assert!(debug.status.success(), "{case}: {}", stderr_of(&debug));
        let says_on = |out: &std::process::Output, start: &str| {
            let text = stdout_of(out);
            let line = text.lines().find(|l| l.starts_with(start));
            assert!(line.is_some_and(|l| l.contains(&says)), "{case}: {text}");
        };
        says_on(&debug, "policy: ISSUING REFUSED: ");
        says_on(&broker(&c.env, &["doctor"]), "✗ system policy: ");
        // Put things back for the next case.
        chmod(&dir, 0o755);
        std::os::unix::fs::chown(&path, Some(0), None).unwrap();
    }
}

#[test]
fn every_reason_pattern_must_match() {
    let c = chain();
    c.env.write_system_policy(
        "[[role]]\narn = \"arn:aws:iam::*:role/r1\"\nreason_pattern = \"^(INC|CHG)-\"\n",
    );
    c.env
        .write_broker_config("[profile.r1]\nreason_pattern = \"-[0-9]+$\"\n");
    assert_error(
        &broker(&c.env, &["export", "r1"]),
        1,
        "profile r1 requires a reason",
    );
    assert_error(
        &broker(&c.env, &["export", "--reason", "fix the db", "r1"]),
        1,
        "the reason `fix the db` does not match the reason_pattern `^(INC|CHG)-` of \
         system:role[0]",
    );
    assert_error(
        &broker(&c.env, &["export", "--reason", "INC-x", "r1"]),
        1,
        "the reason `INC-x` does not match the reason_pattern `-[0-9]+$` of user:profile.r1",
    );
    assert_eq!(c.moto.count("AssumeRole"), 0);
    export_json(&c.env, &["--reason", "CHG-42", "r1"]);
    assert_eq!(c.moto.count("AssumeRole"), 1);
    let outcomes: Vec<_> = history(&c.env, &["--profile", "r1"])
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["refused", "refused", "refused", "issued"]);
}

#[test]
fn approve_command_approves_refuses_and_is_bounded() {
    let c = chain();
    let seen = c.env.dir.path().join("approver.env");
    let approve = script(
        &c.env,
        "approve",
        &format!(
            "env > {}\necho\necho 'APPROVED by secops #42'\necho more",
            seen.display()
        ),
    );
    let deny = script(&c.env, "deny", "echo 'denied: not on call' >&2\nexit 3");
    let pid_file = c.env.dir.path().join("hang.pid");
    let hang = script(
        &c.env,
        "hang",
        &format!("sleep 600 &\necho $! > {}\nwait", pid_file.display()),
    );
    let rules = |command: &str| {
        format!(
            "[[role]]\narn = \"*:role/r1\"\nbreak_glass = true\napprove_command = [\"{command}\", \
             \"--team\", \"secops\"]\napprove_timeout = \"1s\"\n"
        )
    };

    c.env.write_system_policy(&rules(&approve));
    let creds = export_json(&c.env, &["--reason", "INC-5", "--yes", "r1"]);
    let issued = last_record(&c.env);
    assert_eq!(issued["outcome"], "issued");
    assert_eq!(issued["approval"], "APPROVED by secops #42");
    let env_text = std::fs::read_to_string(&seen).unwrap();
    for line in [
        "BROKER_EVENT=approve",
        "BROKER_PROFILE=r1",
        "BROKER_REASON=INC-5",
        "BROKER_USER=",
        "BROKER_HOST=",
        &format!("BROKER_ROLE_ARN={}", role_arn("r1")),
    ] {
        assert!(
            env_text.lines().any(|l| l.starts_with(line)),
            "{line}: {env_text}"
        );
    }
    assert!(!env_text.contains("AWS_SECRET_ACCESS_KEY"), "{env_text}");
    assert!(!env_text.contains("BROKER_FILE_PASSPHRASE"), "{env_text}");
    assert!(!env_text.contains(&c.key.secret_access_key));
    assert!(!env_text.contains(creds["SecretAccessKey"].as_str().unwrap()));

    c.env.write_system_policy(&rules(&deny));
    let out = broker(
        &c.env,
        &["export", "--refresh", "--reason", "INC-6", "--yes", "r1"],
    );
    assert_error(
        &out,
        1,
        &format!("approve_command {deny} of system:role[0] refused: denied: not on call"),
    );
    assert_eq!(c.moto.count("AssumeRole"), 1, "nothing issued when refused");
    assert_eq!(last_record(&c.env)["outcome"], "refused");

    c.env.write_system_policy(&rules(&hang));
    let started = Instant::now();
    let out = broker(&c.env, &["export", "--reason", "INC-7", "--yes", "r1"]);
    assert_error(&out, 1, "refused: it did not finish within 1s");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(c.moto.count("AssumeRole"), 1);
    // What it started was stopped with it: gone, or a zombie no one has reaped yet.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = std::path::PathBuf::from(format!("/proc/{}/stat", pid.trim()));
    let gone = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) {
        assert!(
            Instant::now() < gone,
            "what the approver started was not stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_reasons_never_share_a_break_glass_key() {
    let c = chain();
    c.env
        .write_broker_config("[[role]]\narn = \"*:role/r1\"\nbreak_glass = true\n");
    let key = |profile: &str, reason: &str| {
        export_json(&c.env, &["--reason", reason, "--yes", profile])["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = key("r1", "INC-4711");
    assert_eq!(key("r1", "INC-4711"), first, "one reason, one session");
    assert_eq!(last_record(&c.env)["cached"], true);
    let second = key("r1", "INC-4712");
    assert_ne!(second, first);
    assert_eq!(c.moto.count("AssumeRole"), 2);
    // Through the break-glass role: r1's session of each reason serves again, and r2's are
    // made from them, one per reason.
    let via_first = key("r2", "INC-4711");
    let via_second = key("r2", "INC-4712");
    assert_ne!(via_first, via_second);
    assert_eq!(c.moto.count("AssumeRole"), 4);
    let sources: Vec<_> = c.moto.requests("AssumeRole")[2..]
        .iter()
        .map(|r| r["RoleArn"].clone())
        .collect();
    assert_eq!(sources, [role_arn("r2"), role_arn("r2")]);
    let by_key = |id: &str| history(&c.env, &["--key", id]);
    for (id, reason) in [(&first, "INC-4711"), (&second, "INC-4712")] {
        assert!(by_key(id).iter().all(|r| r["reason"] == reason));
    }
    // history finds an incident by a pattern.
    let found = history(&c.env, &["--reason", "^inc-4712$", "--outcome", "issued"]);
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|r| r["reason"] == "INC-4712"));
    let out = broker(&c.env, &["history", "--reason", "(INC"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));

    // Without break-glass, a session serves every reason, as before.
    c.env
        .write_broker_config("[profile.r1]\nrequire_reason = true\n");
    let shared = key("r1", "INC-1");
    assert_eq!(key("r1", "INC-2"), shared);
    assert_eq!(c.moto.count("AssumeRole"), 5);
}

#[test]
fn break_glass_straight_from_a_credential_process_is_refused() {
    let env = fixed_process_env("secret");
    env.write_broker_config("[profile.fixed]\nbreak_glass = true\n");
    let out = broker(&env, &["export", "--reason", "INC-1", "--yes", "fixed"]);
    assert_error(
        &out,
        1,
        "profile fixed is break-glass, and its credentials come straight from its \
         credential_process",
    );
    assert!(stderr_of(&out).contains("hint: give the profile a role to assume"));
    assert_eq!(last_record(&env)["outcome"], "refused");
}
