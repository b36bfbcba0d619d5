//! The credentials engine through `broker export`: role chains against moto with SigV4, IAM
//! and trust enforcement, the cache, concurrency, STS errors, and every output format.

use crate::common::moto::Moto;
use crate::common::{rig_test, stderr_of, transcript, transcripts, TestEnv};
use crate::fixtures::{self, caller_of, export_json, file_env, role_arn, store_key, Chain};

rig_test!(
    fn two_hop_chain_gives_the_last_role_and_is_cached() {
        let c = Chain::new();
        let creds = export_json(&c.env, &["r2"]);
        assert_eq!(creds["Version"], 1, "credential_process JSON: {creds}");
        assert!(
            creds["Expiration"].as_str().unwrap().ends_with('Z'),
            "an Expiration in UTC: {creds}"
        );
        assert_eq!(
            caller_of(&c.moto, &creds),
            format!(
                "arn:aws:sts::{}:assumed-role/r2/alice-session",
                fixtures::ACCOUNT
            ),
            "the credentials are r2's"
        );
        assert_eq!(c.moto.count("AssumeRole"), 2, "one call per hop");
        assert_eq!(
            c.moto.count("GetSessionToken"),
            0,
            "no MFA: roles assumed with the keys"
        );

        // Served from the cache: same credentials, no new STS call.
        let again = export_json(&c.env, &["r2"]);
        assert_eq!(again, creds, "the cached credentials");
        // The same, as the default format shows them.
        let secret = creds["SecretAccessKey"].as_str().unwrap();
        c.env.name_as(secret, "[r2's secret]");
        c.env.name_as(
            creds["SessionToken"].as_str().unwrap(),
            "[r2's session token]",
        );
        insta::assert_snapshot!(transcript(&c.env, &["export", "r2"]));
        let first_hop = export_json(&c.env, &["r1"]);
        assert_eq!(
            c.moto.count("AssumeRole"),
            2,
            "r1 was cached as the first hop"
        );
        assert!(
            caller_of(&c.moto, &first_hop).contains(":assumed-role/r1/"),
            "the first hop's credentials are r1's"
        );

        // --refresh replaces the entries.
        let fresh = export_json(&c.env, &["--refresh", "r2"]);
        assert_ne!(
            fresh["AccessKeyId"], creds["AccessKeyId"],
            "--refresh gave the cached credentials"
        );
        assert_eq!(c.moto.count("AssumeRole"), 4, "--refresh: both hops again");

        for secret in [
            &c.key.secret_access_key,
            creds["SessionToken"].as_str().unwrap(),
        ] {
            assert!(
                c.env.files_containing(secret).is_empty(),
                "plaintext secret on disk"
            );
        }
    }
);

rig_test!(
    "needs the test venv's AWS CLI, which this suite runs on Linux only",
    fn aws_cli_works_through_credential_process() {
        let c = Chain::new();
        let aws = crate::common::moto::venv().join("bin/aws");
        let broker = crate::common::broker_bin();
        let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
        c.env.write_aws_config(&format!(
        "{config}\n[profile cli]\ncredential_process = {} export --format json r2\nregion = us-east-1\n",
        broker.display()
    ));
        for round in 0..2 {
            let out = c
                .env
                .command(&aws)
                .args([
                    "sts",
                    "get-caller-identity",
                    "--profile",
                    "cli",
                    "--output",
                    "json",
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr_of(&out));
            let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                identity["Arn"],
                format!(
                    "arn:aws:sts::{}:assumed-role/r2/alice-session",
                    fixtures::ACCOUNT
                ),
                "round {round}: the CLI's identity"
            );
        }
        assert_eq!(
            c.moto.count("AssumeRole"),
            2,
            "the second CLI run used the cache"
        );
    }
);

rig_test!(
    fn sixteen_processes_make_one_call_per_hop() {
        let c = Chain::new();
        let children: Vec<_> = (0..16)
            .map(|_| {
                c.env
                    .std_command(crate::common::broker_bin())
                    .args(["export", "--format", "json", "r2"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        for out in &outputs {
            assert!(out.status.success(), "a process failed: {}", stderr_of(out));
        }
        let first = &outputs[0].stdout;
        assert!(
            outputs.iter().all(|o| &o.stdout == first),
            "one credential for all"
        );
        assert_eq!(c.moto.count("AssumeRole"), 2, "one call per hop in all");
    }
);

rig_test!(
    fn access_denied_is_one_line_with_a_hint() {
        let c = Chain::new();
        insta::assert_snapshot!(transcript(&c.env, &["export", "locked"]));
    }
);

rig_test!(
    fn a_wrong_stored_key_points_to_add_and_rotate() {
        let c = Chain::new();
        store_key(&c.env, "alice", "AKIAIOSFODNN7EXAMPLE", "not-the-secret");
        insta::assert_snapshot!(transcript(&c.env, &["export", "r1"]));
    }
);

rig_test!(
    fn a_corrupt_or_old_cache_entry_is_ignored_and_replaced() {
        let c = Chain::new();
        let creds = export_json(&c.env, &["r1"]);
        let dir = c.env.dir.path().join("cache/broker/sessions");
        let entry = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".entry"))
            .unwrap();
        std::fs::write(&entry, b"garbage").unwrap();
        // An older broker's age-encrypted entry is never read, and goes with the next write.
        let old = dir.join("r1.role.base.0123456789abcdef.age");
        std::fs::write(&old, b"age-encryption.org/v1\n").unwrap();
        let again = export_json(&c.env, &["r1"]);
        assert!(!old.exists(), "the older broker's entry is gone");
        assert_ne!(
            again["AccessKeyId"], creds["AccessKeyId"],
            "the garbage entry was read"
        );
        assert_eq!(c.moto.count("AssumeRole"), 2, "r1 assumed again");
        assert_ne!(std::fs::read(&entry).unwrap(), b"garbage", "replaced");
        // A valid entry of another key copied over this one is foreign: ignored too.
        let other = export_json(&c.env, &["r2"]);
        let r2_entry = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("r2."))
            .unwrap();
        std::fs::copy(&entry, &r2_entry).unwrap();
        let r2_again = export_json(&c.env, &["r2"]);
        assert_ne!(
            r2_again["AccessKeyId"], other["AccessKeyId"],
            "r2's old entry was read"
        );
        assert_ne!(
            caller_of(&c.moto, &r2_again),
            caller_of(&c.moto, &again),
            "the foreign entry (r1's) was served for r2"
        );
    }
);

rig_test!(
    fn session_token_for_a_plain_user_and_no_session_keys() {
        let moto = Moto::start(None);
        let key = moto.create_user("bob");
        let env = file_env(&moto);
        env.write_aws_config("[profile bob]\nregion = eu-west-1\n");
        store_key(&env, "bob", &key.access_key_id, &key.secret_access_key);
        let creds = export_json(&env, &["bob"]);
        assert!(creds["SessionToken"].is_string(), "a session: {creds}");
        assert_ne!(
            creds["AccessKeyId"],
            key.access_key_id.as_str(),
            "never the long-term key"
        );
        assert_eq!(moto.count("GetSessionToken"), 1, "one session");
        export_json(&env, &["bob"]);
        assert_eq!(moto.count("GetSessionToken"), 1, "cached");

        let keys = export_json(&env, &["--no-session", "bob"]);
        assert_eq!(
            keys["AccessKeyId"],
            key.access_key_id.as_str(),
            "--no-session: the stored key"
        );
        assert!(
            keys.get("SessionToken").is_none() && keys.get("Expiration").is_none(),
            "--no-session: no token and no expiration: {keys}"
        );
        // AWS_PROFILE picks the profile when none is named.
        let out = env
            .broker()
            .args(["export", "--format", "json"])
            .env("AWS_PROFILE", "bob")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "AWS_PROFILE did not pick the profile: {}",
            stderr_of(&out)
        );
    }
);

rig_test!(
    fn one_mfa_session_serves_two_roles() {
        // moto does not accept its own session-token credentials while enforcing (README, Development), so the
        // MFA path runs against a moto without enforcement.
        let moto = Moto::start(None);
        let key = moto.create_user("carol");
        let env = file_env(&moto);
        let serial = format!("arn:aws:iam::{}:mfa/carol", fixtures::ACCOUNT);
        env.write_aws_config(&format!(
            "[profile carol]\nmfa_serial = {serial}\n\n\
         [profile ra]\nrole_arn = {}\nsource_profile = carol\n\n\
         [profile rb]\nrole_arn = {}\nsource_profile = carol\n",
            role_arn("ra"),
            role_arn("rb")
        ));
        store_key(&env, "carol", &key.access_key_id, &key.secret_access_key);

        // No code and no terminal: a clear error that says how to give one.
        insta::assert_snapshot!(transcript(&env, &["export", "ra"]));
        assert_eq!(moto.count("GetSessionToken"), 0, "a session without a code");

        let a = export_json(&env, &["--mfa-token", "123456", "ra"]);
        assert!(
            caller_of(&moto, &a).contains(":assumed-role/ra/"),
            "ra's credentials"
        );
        // The second role needs no code: the MFA'd session is reused.
        let b = export_json(&env, &["rb"]);
        assert!(
            caller_of(&moto, &b).contains(":assumed-role/rb/"),
            "rb's credentials"
        );
        assert_eq!(
            moto.count("GetSessionToken"),
            1,
            "the MFA'd session was reused"
        );
        assert_eq!(moto.count("AssumeRole"), 2, "one AssumeRole per role");
    }
);

rig_test!(
    fn mfa_process_supplies_the_code() {
        let moto = Moto::start(None);
        let key = moto.create_user("dave");
        let env = file_env(&moto);
        env.write_aws_config(&format!(
            "[profile dave]\nmfa_serial = arn:aws:iam::{0}:mfa/dave\nmfa_process = echo 654321\n\n\
         [profile bad]\nmfa_serial = arn:aws:iam::{0}:mfa/dave\nmfa_process = exit 3\n",
            fixtures::ACCOUNT
        ));
        store_key(&env, "dave", &key.access_key_id, &key.secret_access_key);
        store_key(&env, "bad", &key.access_key_id, &key.secret_access_key);
        export_json(&env, &["dave"]);
        assert_eq!(
            moto.count("GetSessionToken"),
            1,
            "a session with mfa_process's code"
        );
        insta::assert_snapshot!(transcript(&env, &["export", "bad"]));
    }
);

#[test]
fn bad_profiles_are_one_line_errors_naming_the_profiles() {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", "x");
    env.write_aws_config(
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n\
         [profile self]\nrole_arn = arn:aws:iam::123456789012:role/s\nsource_profile = self\n\
         [profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/o\nsource_profile = ghost\n\
         [profile badarn]\nrole_arn = arn:aws:iam::1234:role/x\nsource_profile = a\n\
         [profile nokeys]\nregion = us-east-1\n",
    );
    // A profile naming itself as its source means its own keys (the AWS CLI's reading).
    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["export", "a"],
            &["export", "self"],
            &["export", "orphan"],
            &["export", "badarn"],
            &["export", "nope"],
            &["export", "nokeys"],
        ]
    ));
}

#[test]
fn bad_flags_are_usage_errors() {
    let env = TestEnv::new();
    env.write_aws_config("[profile p]\n");
    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["export", "--duration", "5x", "p"],
            &["export", "--duration", "5m", "p"],
            &["export", "--duration", "48h", "p"],
            &["export", "--duration", "3600", "p"],
            &["export", "--format", "yaml", "p"],
        ]
    ));
}

#[test]
fn an_unreachable_endpoint_fails_quickly_with_a_hint() {
    let refused = crate::common::RefusedPort::new();
    let env = TestEnv::with_file_backend().env("AWS_ENDPOINT_URL_STS", &refused.url());
    env.name_as(&refused.url(), "http://127.0.0.1:[refused port]");
    env.write_aws_config("[profile p]\n");
    store_key(&env, "p", "AKIAIOSFODNN7EXAMPLE", "secret");
    let started = std::time::Instant::now();
    insta::assert_snapshot!(transcript(&env, &["export", "p"]));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

rig_test!(
    fn role_settings_are_passed_to_sts() {
        let moto = Moto::start(None);
        let key = moto.create_user("ivy");
        let env = file_env(&moto).env("USER", "Ivy Doe/admin");
        env.write_aws_config(&format!(
            "[profile ivy]\n\n[profile vendor]\nrole_arn = {}\nsource_profile = ivy\n\
         external_id = ext-123\nsource_identity = ivy-identity\nduration_seconds = 1800\n",
            role_arn("vendor")
        ));
        store_key(&env, "ivy", &key.access_key_id, &key.secret_access_key);
        export_json(&env, &["vendor"]);
        let sent = &moto.requests("AssumeRole")[0];
        assert_eq!(sent["ExternalId"], "ext-123", "external_id: {sent:?}");
        assert_eq!(
            sent["SourceIdentity"], "ivy-identity",
            "source_identity: {sent:?}"
        );
        assert_eq!(
            sent["DurationSeconds"], "1800",
            "duration_seconds: {sent:?}"
        );
        assert_eq!(
            sent["RoleSessionName"], "Ivy-Doe-admin",
            "the sanitised local user name"
        );
        export_json(&env, &["--duration", "2h", "vendor"]);
        assert_eq!(
            moto.requests("AssumeRole")[1]["DurationSeconds"],
            "7200",
            "a new cache key"
        );
    }
);

rig_test!(
    fn an_expired_cached_session_is_dropped_and_the_chain_retried_once() {
        let c = Chain::new();
        export_json(&c.env, &["r2"]);
        let out = c.env.broker().args(["clear", "r2"]).output().unwrap();
        assert!(out.status.success(), "clear: {}", stderr_of(&out));
        // r1's cached credentials are refused as expired: broker drops them and starts over.
        c.moto.fail_next("AssumeRole", "expired", 1);
        let creds = export_json(&c.env, &["r2"]);
        assert!(
            caller_of(&c.moto, &creds).contains(":assumed-role/r2/"),
            "r2's credentials"
        );
        assert_eq!(
            c.moto.count("AssumeRole"),
            5,
            "2 + the refused one + r1 and r2 again"
        );
    }
);

rig_test!(
    fn web_identity_and_credential_process_sources() {
        let moto = Moto::start(None);
        let key = moto.create_user("wes");
        let env = file_env(&moto);
        let token_file = env.dir.path().join("web-token");
        std::fs::write(&token_file, "header.payload.signature\n").unwrap();
        let process = serde_json::json!({"Version": 1, "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key});
        let process_file = env.dir.path().join("process.json");
        std::fs::write(&process_file, process.to_string()).unwrap();
        env.write_aws_config(&format!(
        "[profile web]\nrole_arn = {}\nweb_identity_token_file = {}\nrole_session_name = ci\n\n\
         [profile web-next]\nrole_arn = {}\nsource_profile = web\n\n\
         [profile proc]\ncredential_process = {} {}\n\n\
         [profile via-proc]\nrole_arn = {}\nsource_profile = proc\n",
        role_arn("ci"),
        token_file.display(),
        role_arn("deploy"),
        if cfg!(windows) { "type" } else { "cat" },
        process_file.display(),
        role_arn("from-process"),
    ));
        let creds = export_json(&env, &["web-next"]);
        assert!(
            caller_of(&moto, &creds).contains(":assumed-role/deploy/"),
            "web-next's credentials"
        );
        let sent = &moto.requests("AssumeRoleWithWebIdentity")[0];
        assert_eq!(
            sent["WebIdentityToken"], "header.payload.signature",
            "the token file's token, without its line break"
        );
        assert_eq!(sent["RoleArn"], role_arn("ci"), "the web identity role");
        assert_eq!(moto.count("AssumeRole"), 1, "the second hop");

        let creds = export_json(&env, &["via-proc"]);
        assert!(
            caller_of(&moto, &creds).contains(":assumed-role/from-process/"),
            "via-proc's credentials"
        );
        assert_eq!(
            moto.count("AssumeRole"),
            2,
            "one AssumeRole from the process's keys"
        );
    }
);
