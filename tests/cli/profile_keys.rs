//! The profile keys broker takes from aws-vault (`session_tags`, `transitive_session_tags`,
//! `include_profile`) and the AWS CLI's self-referencing `source_profile`, end to end against
//! moto with enforcement: what reaches STS, and that the credentials work.

use crate::common::stderr_of;
use crate::fixtures::{caller_of, export_json, role_arn, store_key, Chain, ACCOUNT};

/// The fixture's config with `extra` lines added to the `[profile NAME]` sections named.
fn with_lines(c: &Chain, lines: &[(&str, &str)]) {
    let mut config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    for (profile, extra) in lines {
        let header = format!("[profile {profile}]\n");
        assert!(config.contains(&header), "{profile}");
        config = config.replace(&header, &format!("{header}{extra}\n"));
    }
    c.env.write_aws_config(&config);
}

#[test]
fn session_tags_go_with_their_own_profiles_assume_role_and_merge_with_the_reason() {
    let c = Chain::new();
    with_lines(
        &c,
        &[
            (
                "r1",
                "session_tags = team = ops , cost-center=42\ntransitive_session_tags = team",
            ),
            ("r2", "session_tags = env=prod,BrokerReason=from-config"),
        ],
    );
    c.env
        .write_broker_config("[profile.r2]\ntag_reason = true\n");
    let out = c
        .env
        .broker()
        .args(["export", "--format", "json", "--reason", "INC-1", "r2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        caller_of(&c.moto, &creds),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r2/alice-session")
    );
    let sent = c.moto.requests("AssumeRole");
    assert_eq!(sent.len(), 2);
    let tags = |request: &std::collections::BTreeMap<String, String>| {
        let mut tags = Vec::new();
        for n in 1.. {
            let Some(key) = request.get(&format!("Tags.member.{n}.Key")) else {
                break;
            };
            tags.push(format!(
                "{key}={}",
                request[&format!("Tags.member.{n}.Value")]
            ));
        }
        tags
    };
    let transitive = |request: &std::collections::BTreeMap<String, String>| {
        (1..)
            .map_while(|n| {
                request
                    .get(&format!("TransitiveTagKeys.member.{n}"))
                    .cloned()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(sent[0]["RoleArn"], role_arn("r1"));
    assert_eq!(tags(&sent[0]), ["team=ops", "cost-center=42"]);
    assert_eq!(transitive(&sent[0]), ["team"]);
    assert_eq!(sent[1]["RoleArn"], role_arn("r2"));
    // The reason replaces the profile's tag of the same key; r1's tags stay with r1.
    assert_eq!(tags(&sent[1]), ["env=prod", "BrokerReason=INC-1"]);
    assert!(transitive(&sent[1]).is_empty());

    // Cached: the same tags ask nothing of STS...
    export_json(&c.env, &["--reason", "INC-1", "r2"]);
    assert_eq!(c.moto.count("AssumeRole"), 2);
    // ...other tags make new sessions, from the hop whose tags changed.
    with_lines(&c, &[("r1", "session_tags = team=sec")]);
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env
        .write_aws_config(&config.replacen("session_tags = team = ops , cost-center=42\n", "", 1));
    export_json(&c.env, &["--reason", "INC-1", "r2"]);
    let sent = c.moto.requests("AssumeRole");
    assert_eq!(sent.len(), 4, "both hops made anew");
    assert_eq!(tags(&sent[2]), ["team=sec"]);
}

#[test]
fn a_malformed_session_tags_value_is_a_one_line_error_naming_the_profile() {
    let c = Chain::new();
    with_lines(&c, &[("r1", "session_tags = team=ops,oops")]);
    let out = c.env.broker().args(["export", "r2"]).output().unwrap();
    crate::common::assert_error(
        &out,
        1,
        "profile r1: session_tags `team=ops,oops` is not key1=value1,key2=value2",
    );
    assert_eq!(c.moto.count("AssumeRole"), 0);
}

#[test]
fn include_profile_and_a_self_referencing_source_profile_work_end_to_end() {
    let c = Chain::new();
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(&format!(
        "{config}\n\
         [profile hub]\nsource_profile = alice\nrole_session_name = alice-session\n\
         [profile via-include]\ninclude_profile = hub\nrole_arn = {}\n\
         [profile me]\nrole_arn = {}\nsource_profile = me\nrole_session_name = alice-session\n\
         [profile loop]\ninclude_profile = loop\n",
        role_arn("r1"),
        role_arn("r1"),
    ));
    let r1 = format!("arn:aws:sts::{ACCOUNT}:assumed-role/r1/alice-session");
    assert_eq!(
        caller_of(&c.moto, &export_json(&c.env, &["via-include"])),
        r1
    );
    // `me` keeps its role and the keys to assume it with under one name.
    store_key(&c.env, "me", &c.key.access_key_id, &c.key.secret_access_key);
    assert_eq!(caller_of(&c.moto, &export_json(&c.env, &["me"])), r1);
    assert_eq!(c.moto.count("GetSessionToken"), 0);
    let out = c.env.broker().args(["export", "loop"]).output().unwrap();
    crate::common::assert_error(&out, 1, "include_profile cycle: loop -> loop");
}
