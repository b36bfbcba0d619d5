//! `broker rotate` against moto with enforcement: a new key everywhere, or nothing changed.

use crate::common::{assert_error, stderr_of};
use crate::fixtures::{caller_of, export_json, Chain, ACCOUNT};

#[test]
fn rotate_replaces_the_key_everywhere() {
    let c = Chain::new();
    let old_id = c.key.access_key_id.clone();
    export_json(&c.env, &["r2"]);
    let out = c.env.broker().args(["rotate", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("deleted the old key {old_id}")),
        "{err}"
    );

    let stored = export_json(&c.env, &["--no-session", "alice"]);
    let new_id = stored["AccessKeyId"].as_str().unwrap().to_string();
    let new_secret = stored["SecretAccessKey"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    assert_eq!(
        c.moto.list_access_keys(&new_id, &new_secret).unwrap(),
        vec![new_id.clone()]
    );
    let rejected = c
        .moto
        .caller_arn(&old_id, &c.key.secret_access_key, None)
        .unwrap_err();
    assert!(rejected.contains("InvalidClientTokenId"), "{rejected}");

    // Role assumption works with the new key.
    let creds = export_json(&c.env, &["--refresh", "r1"]);
    assert!(caller_of(&c.moto, &creds).contains("assumed-role/r1/"));
    let last = c.moto.requests("AssumeRole").pop().unwrap();
    assert_eq!(last["RoleArn"], format!("arn:aws:iam::{ACCOUNT}:role/r1"));
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
    assert!(out.status.success(), "{}", stderr_of(&out));
    let second = export_json(&c.env, &["--no-session", "alice"]);
    c.moto.fail_next("CreateAccessKey", "500", 5);
    let out = c.env.broker().args(["rotate", "alice"]).output().unwrap();
    assert_error(&out, 1, "could not create a new access key");
    assert!(stderr_of(&out).contains(&format!(
        "the vault still holds {}",
        second["AccessKeyId"].as_str().unwrap()
    )));
    assert_eq!(export_json(&c.env, &["--no-session", "alice"]), second);
    assert_ne!(stored, second);
}
