//! `broker remove`: deletes stored keys and the sessions made from them, after asking.

use crate::common::{assert_error, stderr_of, TestEnv};
use crate::fixtures::{export_json, store_key};

#[test]
fn remove_off_a_terminal_names_force_and_unknown_profiles_get_suggestions() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile alice]\n");
    store_key(&env, "alice", "AKIAIOSFODNN7EXAMPLE", "alice-secret");
    let out = env.broker().args(["remove", "alice"]).output().unwrap();
    assert_error(&out, 1, "no terminal to ask on");
    assert!(
        stderr_of(&out).contains(
            "hint: run it from a terminal, or delete without asking with `broker remove -f alice`"
        ),
        "{}",
        stderr_of(&out)
    );
    export_json(&env, &["--no-session", "alice"]);

    let out = env
        .broker()
        .args(["remove", "-f", "alcie"])
        .output()
        .unwrap();
    assert_error(&out, 1, "profile alcie is not in the AWS config");
    assert!(
        stderr_of(&out).contains("hint: did you mean `alice`?"),
        "{}",
        stderr_of(&out)
    );
    let out = env
        .broker()
        .args(["remove", "-f", "alice"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
