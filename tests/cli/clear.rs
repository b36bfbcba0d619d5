//! `broker clear`: drops cached sessions, of one profile or all.

use crate::common::{assert_error, stderr_of, TestEnv};
use crate::fixtures::{export_json, Chain};

#[test]
fn clear_drops_one_profiles_sessions_or_all() {
    let c = Chain::new();
    export_json(&c.env, &["r2"]);
    let out = c.env.broker().args(["clear", "r2"]).output().unwrap();
    assert!(stderr_of(&out).contains("dropped 1 cached session(s) of profile r2"));
    export_json(&c.env, &["r2"]);
    assert_eq!(c.moto.count("AssumeRole"), 3, "only r2 was dropped");
    let out = c.env.broker().args(["clear"]).output().unwrap();
    assert!(
        stderr_of(&out).contains("dropped 2 cached session(s)"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn clear_of_a_profile_that_does_not_exist_is_an_error() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile prod-admin]\n[profile prod-read]\n[profile dev]\n");
    let out = env.broker().args(["clear", "prod-amdin"]).output().unwrap();
    assert_error(&out, 1, "profile prod-amdin is not in the AWS config");
    assert!(
        stderr_of(&out).contains("hint: did you mean `prod-admin`?"),
        "{}",
        stderr_of(&out)
    );
    // A profile that exists but has no sessions: nothing to drop is no error.
    let out = env.broker().args(["clear", "dev"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("dropped 0 cached session(s) of profile dev"));
}
