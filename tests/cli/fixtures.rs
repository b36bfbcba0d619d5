//! Shared set-ups on a real moto: an IAM user whose key is in the file vault, and roles.

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::common::moto::{Moto, UserKey};
use crate::common::{stderr_of, TestEnv};

pub const ACCOUNT: &str = "123456789012";

pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// moto with enforcement (moto checks both the caller's policies and the role's trust policy):
/// user `alice` may assume `r1`, whose sessions may assume `r2`; `locked` is allowed by
/// alice's own policy but its trust policy names someone else. alice's key is in the file vault.
pub struct Chain {
    pub moto: Moto,
    pub env: TestEnv,
    pub key: UserKey,
}

/// The number of unauthenticated requests `Chain::new` makes before moto starts enforcing.
const SETUP_REQUESTS: u32 = 7;

impl Chain {
    pub fn new() -> Chain {
        let moto = Moto::start(Some(SETUP_REQUESTS));
        let key = moto.create_user("alice");
        let allow = |resource: String| {
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]})
        };
        moto.put_user_policy(
            "alice",
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Resource": format!("arn:aws:iam::{ACCOUNT}:role/*")},
                {"Effect": "Allow", "Resource": "*", "Action": [
                    "sts:GetFederationToken", "iam:CreateAccessKey", "iam:DeleteAccessKey",
                    "iam:ListAccessKeys"]}]}),
        );
        moto.create_role("r1", &key.user_arn);
        moto.put_role_policy("r1", &allow(role_arn("r2")));
        // moto matches trust principals exactly, so r2 trusts r1's session by its ARN.
        moto.create_role(
            "r2",
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/r1/alice-session"),
        );
        moto.create_role("locked", &format!("arn:aws:iam::{ACCOUNT}:user/nobody"));
        let env = file_env(&moto);
        env.write_aws_config(&format!(
            "[profile alice]\nregion = eu-west-1\n\n\
             [profile r1]\nrole_arn = {}\nsource_profile = alice\nrole_session_name = alice-session\nregion = eu-west-1\n\n\
             [profile r2]\nrole_arn = {}\nsource_profile = r1\nrole_session_name = alice-session\n\n\
             [profile locked]\nrole_arn = {}\nsource_profile = alice\n",
            role_arn("r1"),
            role_arn("r2"),
            role_arn("locked"),
        ));
        store_key(&env, "alice", &key.access_key_id, &key.secret_access_key);
        env.name_as(&key.access_key_id, "[alice's key id]");
        env.name_as(&key.secret_access_key, "[alice's secret]");
        Chain { moto, env, key }
    }
}

/// moto without enforcement (its GetSessionToken credentials are not accepted while it
/// enforces): user `bob`, whose profile has an MFA device, `plain` on bob's keys, and `role`,
/// a role assumed with them. bob's key is in the file vault.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn mfa_user() -> (Moto, TestEnv) {
    let moto = Moto::start(None);
    let key = moto.create_user("bob");
    let env = file_env(&moto);
    env.write_aws_config(&format!(
        "[profile bob]\nmfa_serial = arn:aws:iam::{ACCOUNT}:mfa/profile-device\n\n\
         [profile plain]\nsource_profile = bob\n\n\
         [profile role]\nrole_arn = {}\nsource_profile = bob\nregion = eu-west-1\n",
        role_arn("any")
    ));
    store_key(&env, "bob", &key.access_key_id, &key.secret_access_key);
    (moto, env)
}

/// A sealed environment on `moto`, with the file backend and the test passphrase.
pub fn file_env(moto: &Moto) -> TestEnv {
    let env = TestEnv::with_file_backend().env("AWS_ENDPOINT_URL", &moto.endpoint());
    env.name_as(&moto.endpoint(), "http://127.0.0.1:[moto port]");
    env
}

/// A file holding the test passphrase, private to the user, for `BROKER_FILE_PASSPHRASE_FILE`:
/// unlike `BROKER_FILE_PASSPHRASE`, which broker keeps from its children, a broker run by
/// `broker exec` gets it. (On Linux a nested broker finds the cache key in the kernel keyring;
/// elsewhere the key is in the vault, which it must open.)
pub fn passphrase_file(env: &TestEnv) -> std::path::PathBuf {
    let path = env.dir.path().join("passphrase");
    std::fs::write(&path, crate::common::TEST_PASSPHRASE).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

pub fn store_key(env: &TestEnv, profile: &str, id: &str, secret: &str) {
    let out = env
        .broker()
        .args(["add", "--env", profile])
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// A sealed environment whose profile `fixed` gets fixed temporary credentials (with `secret`)
/// from a `credential_process`: no STS needed.
pub fn fixed_process_env(secret: &str) -> TestEnv {
    let env = TestEnv::new();
    let json = json!({
        "Version": 1,
        "AccessKeyId": "ASIAFIXEDEXAMPLE0001",
        "SecretAccessKey": secret,
        "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN",
        "Expiration": "2030-01-02T03:04:05Z",
    });
    // Fixed, so the transcripts show it as it is.
    env.name_as("2030-01-02T03:04:05Z", "2030-01-02T03:04:05Z");
    let file = env.dir.path().join("creds.json");
    std::fs::write(&file, json.to_string()).unwrap();
    // The shell broker runs it with: sh on Unix, cmd on Windows.
    let print = if cfg!(windows) { "type" } else { "cat" };
    env.write_aws_config(&format!(
        "[profile fixed]\ncredential_process = {print} {}\nregion = eu-central-1\n",
        file.display()
    ));
    env
}

/// Runs `broker export --format json PROFILE` and returns the parsed credential_process JSON.
pub fn export_json(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let out = env
        .broker()
        .args(["export", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).expect("stdout is only the JSON")
}

/// The caller ARN that moto sees for exported credentials.
pub fn caller_of(moto: &Moto, creds: &serde_json::Value) -> String {
    moto.caller_arn(
        creds["AccessKeyId"].as_str().unwrap(),
        creds["SecretAccessKey"].as_str().unwrap(),
        creds["SessionToken"].as_str(),
    )
    .unwrap()
}

/// A stand-in for the AWS federation endpoint: answers getSigninToken with a token and keeps
/// the Session it was given. (No public mock implements this endpoint.) Only the Linux-only
/// modules use it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub struct Federation {
    pub url: String,
    pub sessions: Arc<Mutex<Vec<serde_json::Value>>>,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl Federation {
    pub fn start() -> Federation {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/federation", listener.local_addr().unwrap());
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let seen = sessions.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                let target = line.split(' ').nth(1).unwrap_or_default().to_string();
                let query = url::Url::parse(&format!("http://x{target}")).unwrap();
                let pairs: std::collections::HashMap<_, _> =
                    query.query_pairs().into_owned().collect();
                let body = if pairs.get("Action").map(String::as_str) == Some("getSigninToken") {
                    seen.lock()
                        .unwrap()
                        .push(serde_json::from_str(&pairs["Session"]).unwrap());
                    r#"{"SigninToken":"signin-token-123"}"#.to_string()
                } else {
                    "{}".to_string()
                };
                write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
            }
        });
        Federation { url, sessions }
    }
}
