//! `broker rotate` against moto with enforcement: a new key everywhere, or nothing changed.

use crate::common::{stderr_of, transcript_of};
use crate::fixtures::{caller_of, export_json, Chain, ACCOUNT};

#[test]
fn rotate_replaces_the_key_everywhere() {
    let c = Chain::new();
    let old_id = c.key.access_key_id.clone();
    export_json(&c.env, &["r2"]);
    let out = c.env.broker().args(["rotate", "alice"]).output().unwrap();
    assert!(out.status.success(), "rotate failed: {}", stderr_of(&out));
    let stored = export_json(&c.env, &["--no-session", "alice"]);
    let new_id = stored["AccessKeyId"].as_str().unwrap().to_string();
    let new_secret = stored["SecretAccessKey"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id, "the vault still holds the old key");
    c.env.name_as(&new_id, "[alice's new key id]");
    insta::assert_snapshot!(transcript_of(&c.env, "broker rotate alice", &out));
    assert_eq!(
        c.moto.list_access_keys(&new_id, &new_secret).unwrap(),
        vec![new_id.clone()],
        "IAM holds only the new key"
    );
    let rejected = c
        .moto
        .caller_arn(&old_id, &c.key.secret_access_key, None)
        .unwrap_err();
    assert!(
        rejected.contains("InvalidClientTokenId"),
        "the old key still works: {rejected}"
    );

    // Role assumption works with the new key.
    let creds = export_json(&c.env, &["--refresh", "r1"]);
    assert!(
        caller_of(&c.moto, &creds).contains("assumed-role/r1/"),
        "r1 with the new key"
    );
    let last = c.moto.requests("AssumeRole").pop().unwrap();
    assert_eq!(
        last["RoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/r1"),
        "the role asked for"
    );
    assert!(
        c.env.files_containing(&new_secret).is_empty(),
        "new secret only in the encrypted vault"
    );
}

#[test]
fn rotate_that_cannot_create_a_key_changes_nothing() {
    let c = Chain::new();
    // IAM allows two keys per user: with two already, CreateAccessKey fails.
    let stored = export_json(&c.env, &["--no-session", "alice"]);
    let out = c.env.broker().args(["rotate", "alice"]).output().unwrap();
    assert!(
        out.status.success(),
        "the first rotate failed: {}",
        stderr_of(&out)
    );
    let second = export_json(&c.env, &["--no-session", "alice"]);
    c.env.name_as(
        second["AccessKeyId"].as_str().unwrap(),
        "[alice's second key id]",
    );
    let rotated = transcript_of(&c.env, "broker rotate alice", &out);
    c.moto.fail_next("CreateAccessKey", "500", 5);
    let out = c.env.broker().args(["rotate", "alice"]).output().unwrap();
    let failed = transcript_of(&c.env, "broker rotate alice", &out);
    insta::assert_snapshot!(format!("{rotated}\n{failed}"));
    assert_eq!(
        export_json(&c.env, &["--no-session", "alice"]),
        second,
        "the failed rotation changed the vault"
    );
    assert_ne!(stored, second, "the first rotation changed nothing");
}
