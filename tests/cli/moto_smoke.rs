//! The moto harness itself: with auth enforcement on, moto accepts the key it issued, rejects a
//! made-up one, and counts requests. Later tests build on exactly these properties.

use crate::common::moto::Moto;

#[test]
fn moto_enforces_sigv4_after_setup() {
    // Setup takes exactly 2 unauthenticated requests: CreateUser and CreateAccessKey.
    let moto = Moto::start(Some(2));
    let key = moto.create_user("alice");
    assert!(
        key.access_key_id.starts_with("AKIA"),
        "{}",
        key.access_key_id
    );

    let arn = moto
        .caller_arn(&key.access_key_id, &key.secret_access_key, None)
        .expect("the issued key works");
    assert_eq!(arn, key.user_arn);

    let err = moto
        .caller_arn("AKIAIOSFODNN7EXAMPLE", "made-up-secret", None)
        .expect_err("an unknown key is rejected");
    assert!(err.contains("InvalidClientTokenId"), "{err}");

    let err = moto
        .caller_arn(&key.access_key_id, "wrong-secret", None)
        .expect_err("a bad signature is rejected");
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");

    let counts = moto.counts();
    assert_eq!(counts.get("CreateUser"), Some(&1));
    assert_eq!(counts.get("GetCallerIdentity"), Some(&3));
}
