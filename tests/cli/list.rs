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
    let out = env.broker().args(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    insta::assert_snapshot!(format!("{}[stderr]\n{}", stdout_of(&out), stderr_of(&out)), @r"
    PROFILE  ROLE                                KEYS            SESSIONS
    alice    -                                   ? (no backend)  -
    legacy   -                                   ? (no backend)  -
    ops      arn:aws:iam::123456789012:role/ops  ? (no backend)  -
    [stderr]
    broker: warning: no usable vault backend found: the secret-service backend is not available on this system: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)
    hint: use `--backend file` (an encrypted file vault; see the README for its passphrase), or start a Secret Service such as gnome-keyring
    ");
    let out = env.broker().args(["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["keys"], serde_json::Value::Null);
    assert_eq!(rows[0]["keys_error"], "no backend");
    assert_eq!(rows[1]["keys_in_aws_files"], true);
}

#[test]
fn list_table_snapshot() {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
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
    let out = env.broker().args(["list"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    insta::assert_snapshot!("list_table", stdout_of(&out));
}
