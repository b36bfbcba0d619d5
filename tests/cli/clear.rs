//! `broker clear`: drops cached sessions, of one profile or all.

use crate::common::{transcript, transcripts, TestEnv};
use crate::fixtures::{export_json, Chain};

#[test]
fn clear_drops_one_profiles_sessions_or_all() {
    let c = Chain::new();
    export_json(&c.env, &["r2"]);
    let one = transcript(&c.env, &["clear", "r2"]);
    export_json(&c.env, &["r2"]);
    assert_eq!(c.moto.count("AssumeRole"), 3, "only r2 was dropped");
    let all = transcript(&c.env, &["clear"]);
    insta::assert_snapshot!(format!("{one}\n{all}"));
}

#[test]
fn clear_of_a_profile_that_does_not_exist_is_an_error() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile prod-admin]\n[profile prod-read]\n[profile dev]\n");
    // A profile that exists but has no sessions: nothing to drop is no error.
    insta::assert_snapshot!(transcripts(
        &env,
        &[&["clear", "prod-amdin"], &["clear", "dev"]]
    ));
}
