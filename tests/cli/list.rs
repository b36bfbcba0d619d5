//! `broker list`: every profile of the AWS files, its role, where its keys are, its cached
//! sessions and their time left, and the policy rules that apply to it.

use crate::common::{stderr_of, transcribe, transcript, TestEnv};
use crate::fixtures::{export_json, Chain};

/// The `sessions` of `profile` in `broker list --json` output.
fn sessions(rows: &serde_json::Value, profile: &str) -> serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == profile)
        .unwrap()["sessions"]
        .clone()
}

#[test]
fn list_shows_cached_sessions_and_their_time_left() {
    let c = Chain::new();
    export_json(&c.env, &["r2"]);
    let out = c.env.broker().args(["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r2 = sessions(&rows, "r2");
    assert_eq!(r2.as_array().unwrap().len(), 1, "r2's sessions: {r2}");
    assert_eq!(r2[0]["kind"], "role", "r2's session: {r2}");
    assert!(
        r2[0]["seconds_left"].as_i64().unwrap() > 3000,
        "r2's session has less than the hour it was issued for: {r2}"
    );
    let r1 = sessions(&rows, "r1");
    assert_eq!(
        r1.as_array().unwrap().len(),
        1,
        "r1's session, cached as the first hop: {r1}"
    );
    insta::assert_snapshot!(transcript(&c.env, &["list"]));
}

#[test]
fn list_shows_every_profile_with_its_role_and_keys() {
    let env = TestEnv::new();
    env.write_aws_config(
        "[default]\nregion = eu-west-1\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default\n",
    );
    std::fs::write(
        env.home().join(".aws/credentials"),
        "[legacy]\nregion = us-east-1\n",
    )
    .unwrap();
    let added = crate::vault::add(&env, "file", "default");
    assert!(added.status.success(), "add: {}", stderr_of(&added));
    insta::assert_snapshot!(transcript(&env, &["list", "--backend", "file"]));
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "elsewhere the default backend is the OS store, which answers"
)]
fn list_without_a_usable_backend_still_lists_the_profiles_snapshot() {
    // No D-Bus session: no Secret Service, and no backend chosen.
    let env = TestEnv::new();
    env.write_aws_config(
        "[profile alice]\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = alice\n",
    );
    std::fs::write(
        env.home().join(".aws/credentials"),
        "[legacy]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
    )
    .unwrap();
    insta::assert_snapshot!(transcript(&env, &["list"]));
    let (out, json) = transcribe(&env, env.broker().args(["list", "--json"]));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows[0]["keys"],
        serde_json::Value::Null,
        "alice's keys are unknown: {json}"
    );
    assert_eq!(
        rows[0]["keys_error"], "no backend",
        "why alice's keys are unknown: {json}"
    );
    assert_eq!(
        rows[1]["keys_in_aws_files"], true,
        "legacy's keys in the credentials file: {json}"
    );
}

#[test]
fn list_table_snapshot() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config(
        "[profile alice]\nregion = eu-west-1\n\
         [profile analyst]\nrole_arn = arn:aws:iam::123456789012:role/analyst\nsource_profile = alice\n\
         [profile tool]\ncredential_process = cat /dev/null\n",
    );
    std::fs::write(
        env.home().join(".aws/credentials"),
        "[legacy]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
    )
    .unwrap();
    crate::fixtures::store_key(&env, "alice", "AKIAIOSFODNN7EXAMPLE", "alice-secret");
    insta::assert_snapshot!("list_table", transcript(&env, &["list"]));
}
