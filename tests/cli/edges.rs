//! The engine at its edges: sessions die with the keys they came from, a failed refresh inside
//! the advisory window falls back to still-valid credentials, one-time codes are used once, MFA
//! codes and session tags go where STS takes them, and what cannot work is refused up front.

use std::time::Duration;

use crate::common::moto::{venv, Moto};
use crate::common::{normalize, stderr_of, transcribe, transcript, TestEnv, CAT};
use crate::fixtures::{self, caller_of, export_json, file_env, role_arn, store_key, Chain};

fn export(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.broker()
        .args(["export", "--format", "json"])
        .args(args)
        .output()
        .unwrap()
}

/// The transcript of `broker export --format json ARGS`, for what is not credentials.
fn exported(env: &TestEnv, args: &[&str]) -> String {
    transcribe(
        env,
        env.broker().args(["export", "--format", "json"]).args(args),
    )
    .1
}

/// What broker says on stderr, normalised, when stdout holds credentials.
fn said(env: &TestEnv, out: &std::process::Output) -> String {
    normalize(env, &stderr_of(out))
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr_of(out));
    serde_json::from_slice(&out.stdout).expect("stdout is only the JSON")
}

/// moto without enforcement, user `ann` (keys in the file vault) with a role `r` above her.
fn plain(extra: &str) -> (Moto, TestEnv) {
    let moto = Moto::start(None);
    let key = moto.create_user("ann");
    let env = file_env(&moto);
    env.write_aws_config(&format!(
        "[profile ann]\n{extra}\n[profile r]\nrole_arn = {}\nsource_profile = ann\n",
        role_arn("r")
    ));
    store_key(&env, "ann", &key.access_key_id, &key.secret_access_key);
    (moto, env)
}

#[test]
fn sessions_made_from_replaced_or_removed_keys_are_never_served() {
    let c = Chain::new();
    let before = export_json(&c.env, &["r2"]);
    assert_eq!(c.moto.count("AssumeRole"), 2, "one call per hop");
    // The same keys stored again still replace what was made from the old ones, at any depth.
    store_key(
        &c.env,
        "alice",
        &c.key.access_key_id,
        &c.key.secret_access_key,
    );
    let after = export_json(&c.env, &["r2"]);
    assert_ne!(
        before["AccessKeyId"], after["AccessKeyId"],
        "served what the old keys made"
    );
    assert_eq!(c.moto.count("AssumeRole"), 4, "r1 and r2 made anew");

    let removed = transcript(&c.env, &["remove", "-f", "alice"]);
    let refused = exported(&c.env, &["r2"]);
    insta::assert_snapshot!(format!("{removed}\n{refused}"));
    assert_eq!(
        c.moto.count("AssumeRole"),
        4,
        "nothing served, nothing asked"
    );

    // The MFA variant: the role made through the MFA session goes with the keys too.
    let (moto, env) = plain("mfa_serial = arn:aws:iam::123456789012:mfa/ann");
    json(&export(&env, &["-t", "123456", "r"]));
    let removed = transcript(&env, &["remove", "-f", "ann"]);
    let refused = exported(&env, &["r"]);
    insta::assert_snapshot!(
        "mfa_sessions_go_with_the_keys",
        format!("{removed}\n{refused}")
    );
    assert_eq!(moto.count("AssumeRole"), 1, "nothing served, nothing asked");
}

#[test]
fn a_failed_refresh_in_the_advisory_window_hands_out_the_cached_credentials() {
    let (moto, env) = plain("");
    moto.set_lifetime(3600);
    let first = json(&export(&env, &["r"]));
    // Credentials of an hour, two minutes later, with min_ttl 59m: inside the advisory window
    // (the last 59 minutes), far from the mandatory one (the last 39 min 20 s).
    env.advance_clock(Duration::from_secs(120));
    env.write_broker_config("[session]\nmin_ttl = \"59m\"\n");
    moto.fail_next("AssumeRole", "500", 3);
    let out = export(&env, &["r"]);
    assert_eq!(json(&out), first, "the cached credentials");
    insta::assert_snapshot!(said(&env, &out));
    assert_eq!(moto.count("AssumeRole"), 4, "1 + 3 attempts at the refresh");

    // The credential server's child gets them too, from the AWS CLI's own request. (The test
    // venv's AWS CLI runs on Unix only; on Windows exec.rs checks the server without it.)
    if cfg!(windows) {
        return;
    }
    moto.fail_next("AssumeRole", "500", 6);
    let aws = venv().join("bin/aws");
    let out = env
        .broker()
        .args(["exec", "--server", "r", "--"])
        .arg(&aws)
        .args([
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "exec --server: {}", stderr_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(":assumed-role/r/"),
        "the CLI's identity: {}",
        stderr_of(&out)
    );
}

#[test]
fn an_unreachable_sts_in_the_advisory_window_hands_out_the_cached_credentials() {
    let (moto, env) = plain("");
    moto.set_lifetime(3600);
    let first = json(&export(&env, &["r"]));
    env.advance_clock(Duration::from_secs(120));
    env.write_broker_config("[session]\nmin_ttl = \"59m\"\n");
    drop(moto);
    let out = export(&env, &["r"]);
    assert_eq!(json(&out), first, "the cached credentials");
    insta::assert_snapshot!(said(&env, &out));
}

#[test]
fn past_the_mandatory_window_a_refresh_must_succeed() {
    // Credentials of an hour, 59 min 50 s later: inside the mandatory window (the last 10
    // minutes, two thirds of the default min_ttl).
    let (moto, env) = plain("");
    moto.set_lifetime(3600);
    json(&export(&env, &["r"]));
    env.advance_clock(Duration::from_secs(3590));
    moto.fail_next("AssumeRole", "500", 3);
    insta::assert_snapshot!(exported(&env, &["r"]));
}

#[test]
fn a_failed_mfa_refresh_in_the_advisory_window_needs_no_code() {
    let (moto, env) = plain("mfa_serial = arn:aws:iam::123456789012:mfa/ann");
    moto.set_lifetime(3600);
    let first = json(&export(&env, &["-t", "123456", "ann"]));
    env.advance_clock(Duration::from_secs(120));
    env.write_broker_config("[session]\nmin_ttl = \"59m\"\n");
    let out = export(&env, &["ann"]);
    assert_eq!(json(&out), first, "the cached session");
    insta::assert_snapshot!(said(&env, &out));
    assert_eq!(moto.count("GetSessionToken"), 1, "no second session");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "the server's child is the test venv's Python, which this suite runs on Unix only"
)]
fn a_code_given_on_the_command_line_is_sent_once() {
    let (moto, env) = plain("");
    let config = std::fs::read_to_string(env.aws_config()).unwrap();
    env.write_aws_config(&format!(
        "{config}mfa_serial = arn:aws:iam::123456789012:mfa/ann\nmfa_process = echo 654321\n"
    ));
    // Role credentials of an hour: the child's second request, 59 min 10 s after the first by
    // the clock it moves (broker's test clock), needs new ones.
    let python = venv().join("bin/python");
    let child = r#"
import os, urllib.request
def fetch():
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    return urllib.request.urlopen(req).status
def advance(ms):
    clock = os.environ["BROKER_TEST_CLOCK"]
    now = int(open(clock).read()) if os.path.exists(clock) else 0
    open(clock + ".moving", "w").write(str(now + ms))
    os.replace(clock + ".moving", clock)
print(fetch()); advance(3550000); print(fetch())
"#;
    let out = env
        .broker()
        .args([
            "exec",
            "--server",
            "--no-session",
            "-t",
            "123456",
            "r",
            "--",
        ])
        .arg(&python)
        .args(["-c", child])
        .output()
        .unwrap();
    assert!(out.status.success(), "exec --server: {}", stderr_of(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200\n200\n",
        "both of the child's requests served"
    );
    let codes: Vec<String> = moto
        .requests("AssumeRole")
        .iter()
        .map(|r| r.get("TokenCode").cloned().unwrap_or_default())
        .collect();
    assert_eq!(codes[0], "123456", "the given code first: {codes:?}");
    assert!(codes.len() >= 2, "a second call: {codes:?}");
    assert!(
        codes[1..].iter().all(|c| c == "654321"),
        "the given code went to STS more than once: {codes:?}"
    );
}

#[test]
fn mfa_codes_go_with_the_calls_that_take_them() {
    let moto = Moto::start(None);
    let key = moto.create_user("pam");
    let env = file_env(&moto);
    let process = env.dir.path().join("process.json");
    std::fs::write(
        &process,
        serde_json::json!({"Version": 1, "AccessKeyId": key.access_key_id,
            "SecretAccessKey": key.secret_access_key})
        .to_string(),
    )
    .unwrap();
    let device = |name: &str| format!("arn:aws:iam::{}:mfa/{name}", fixtures::ACCOUNT);
    env.write_aws_config(&format!(
        "[profile proc]\ncredential_process = {} {}\nmfa_serial = {}\n\
         [profile via-proc]\nrole_arn = {}\nsource_profile = proc\n\
         [profile pam]\nmfa_serial = {}\nmfa_process = echo 111111\n\
         [profile r1]\nrole_arn = {}\nsource_profile = pam\n\
         [profile r2]\nrole_arn = {}\nsource_profile = r1\nmfa_serial = {}\n",
        CAT,
        process.display(),
        device("proc"),
        role_arn("from-process"),
        device("pam"),
        role_arn("r1"),
        role_arn("r2"),
        device("r2"),
    ));
    store_key(&env, "pam", &key.access_key_id, &key.secret_access_key);
    // A credential_process source: the code goes with the first AssumeRole.
    json(&export(&env, &["-t", "123456", "via-proc"]));
    let sent = moto.requests("AssumeRole");
    assert_eq!(sent[0]["SerialNumber"], device("proc"), "{:?}", sent[0]);
    assert_eq!(sent[0]["TokenCode"], "123456", "{:?}", sent[0]);
    // Without a session, each role carries its own device.
    json(&export(&env, &["--no-session", "r2"]));
    let sent = moto.requests("AssumeRole");
    assert_eq!(sent[1]["RoleArn"], role_arn("r1"), "{:?}", sent[1]);
    assert_eq!(
        sent[1]["SerialNumber"],
        device("pam"),
        "r1's: {:?}",
        sent[1]
    );
    assert_eq!(sent[2]["RoleArn"], role_arn("r2"), "{:?}", sent[2]);
    assert_eq!(sent[2]["SerialNumber"], device("r2"), "r2's: {:?}", sent[2]);
    // A credential_process profile with no role: no call could carry the code.
    insta::assert_snapshot!(exported(&env, &["proc"]));
}

#[test]
fn a_reason_pasted_from_a_ticket_becomes_a_valid_tag() {
    // moto without enforcement: with it, moto's signature check fails on a tag with a space.
    let (moto, env) = plain("");
    env.write_broker_config("[profile.r]\nrequire_reason = true\ntag_reason = true\n");
    json(&export(
        &env,
        &["--reason", "INC-7\tdb\r\ndown; see #ops", "r"],
    ));
    let sent = &moto.requests("AssumeRole")[0];
    assert_eq!(sent["Tags.member.1.Key"], "BrokerReason", "{sent:?}");
    assert_eq!(
        sent["Tags.member.1.Value"], "INC-7_db__down_ see _ops",
        "{sent:?}"
    );
}

#[test]
fn tags_go_where_sts_takes_them() {
    let (moto, env) = plain("");
    env.write_broker_config(
        "[profile.ann]\nrequire_reason = true\ntag_reason = true\n\
         [profile.r]\nrequire_reason = true\ntag_reason = true\n",
    );
    // GetSessionToken takes no tags: said, and the credentials are issued.
    let out = export(&env, &["--reason", "INC-9", "ann"]);
    json(&out);
    insta::assert_snapshot!(said(&env, &out));
    // A plain user's console session takes them.
    let fed = fixtures::Federation::start();
    let out = env
        .broker()
        .args(["login", "--stdout", "--reason", "INC-9", "ann"])
        .env("BROKER_FEDERATION_URL", &fed.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "login: {}", stderr_of(&out));
    let sent = &moto.requests("GetFederationToken")[0];
    assert_eq!(sent["Tags.member.1.Key"], "BrokerReason", "{sent:?}");
    assert_eq!(sent["Tags.member.1.Value"], "INC-9", "{sent:?}");
}

#[test]
fn an_out_of_range_session_duration_breaks_only_what_uses_it() {
    let c = Chain::new();
    c.env
        .write_broker_config("[session]\nsession_token_duration = \"48h\"\n");
    json(&export(&c.env, &["r2"]));
    insta::assert_snapshot!(exported(&c.env, &["alice"]));
}

#[test]
fn break_glass_refuses_to_hand_out_long_term_keys() {
    let (_moto, env) = plain("");
    env.write_broker_config("[profile.ann]\nbreak_glass = true\n");
    insta::assert_snapshot!(exported(
        &env,
        &["--no-session", "--reason", "INC-1", "--yes", "ann"]
    ));
    let history = env.broker().args(["history", "--json"]).output().unwrap();
    let last: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&history.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["outcome"], "refused", "the refusal audited: {last}");
}

#[test]
fn exec_server_refuses_credentials_it_could_never_serve() {
    let env = TestEnv::new();
    let file = env.dir.path().join("creds.json");
    std::fs::write(
        &file,
        r#"{"Version":1,"AccessKeyId":"ASIANOEXPIRY00000001","SecretAccessKey":"s","SessionToken":"t"}"#,
    )
    .unwrap();
    env.write_aws_config(&format!(
        "[profile noexp]\ncredential_process = {CAT} {}\n",
        file.display()
    ));
    let marker = env.dir.path().join("child-ran");
    let (_, refused) = transcribe(
        &env,
        env.broker()
            .args(["exec", "--server", "noexp", "--", "touch"])
            .arg(&marker),
    );
    insta::assert_snapshot!(refused);
    assert!(!marker.exists(), "the child ran");
}

#[test]
fn refresh_keeps_a_fresh_mfa_session() {
    let (moto, env) = plain("mfa_serial = arn:aws:iam::123456789012:mfa/ann");
    let first = json(&export(&env, &["-t", "123456", "r"]));
    // No code at hand now: --refresh makes the role anew from the MFA session.
    let second = json(&export(&env, &["--refresh", "r"]));
    assert_ne!(
        first["AccessKeyId"], second["AccessKeyId"],
        "--refresh served the cached role"
    );
    assert_eq!(moto.count("GetSessionToken"), 1, "the MFA session kept");
    assert_eq!(moto.count("AssumeRole"), 2, "the role made anew");
}

#[test]
fn expired_credentials_are_refused_or_warned_about() {
    let env = TestEnv::new();
    let file = env.dir.path().join("creds.json");
    std::fs::write(
        &file,
        r#"{"Version":1,"AccessKeyId":"ASIAEXPIRED000000001","SecretAccessKey":"s","SessionToken":"t","Expiration":"2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    env.write_aws_config(&format!(
        "[profile old]\ncredential_process = {CAT} {}\n",
        file.display()
    ));
    // Fixed, so the transcript shows it as it is.
    env.name_as("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z");
    let refused = exported(&env, &["old"]);

    // STS answers with credentials already expired by the local clock: handed out, with one
    // warning about the clock.
    let (moto, env) = plain("");
    moto.set_lifetime(0);
    let out = export(&env, &["r"]);
    json(&out);
    let err = stderr_of(&out);
    assert_eq!(
        err.matches("the clock seems to be off").count(),
        1,
        "one warning about the clock: {err}"
    );
    insta::assert_snapshot!(format!("{refused}\n{}", said(&env, &out)));
}

#[test]
fn caller_of_a_role_made_with_mfa_is_the_role() {
    // The role made with a direct MFA code works against STS.
    let (moto, env) = plain("mfa_serial = arn:aws:iam::123456789012:mfa/ann");
    let creds = json(&export(&env, &["--no-session", "-t", "123456", "r"]));
    assert!(
        caller_of(&moto, &creds).contains(":assumed-role/r/"),
        "r's credentials"
    );
    assert_eq!(
        moto.requests("AssumeRole")[0]["TokenCode"],
        "123456",
        "the code with the AssumeRole"
    );
    assert_eq!(moto.count("GetSessionToken"), 0, "no session");
}
