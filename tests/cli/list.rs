//! `broker list`: every profile of the AWS files, its role, where its keys are, its cached
//! sessions and their time left.

use crate::common::{stderr_of, stdout_of, TestEnv};
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
    assert_eq!(sessions(&rows, "r2").as_array().unwrap().len(), 1);
    assert_eq!(sessions(&rows, "r2")[0]["kind"], "role");
    assert!(sessions(&rows, "r2")[0]["seconds_left"].as_i64().unwrap() > 3000);
    assert_eq!(sessions(&rows, "r1").as_array().unwrap().len(), 1);
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
    assert!(crate::vault::add(&env, "file", "default").status.success());
    let out = env
        .broker()
        .args(["list", "--backend", "file"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    insta::assert_snapshot!(stdout_of(&out), @r"
    PROFILE  ROLE                                KEYS  SESSIONS
    default  -                                   file  -
    legacy   -                                   -     -
    ops      arn:aws:iam::123456789012:role/ops  -     -
    ");
}
