//! broker's config.toml and the AWS config files: bad input is a one-line error naming the file
//! and the problem, exit status 1, and nothing is lost.

use crate::common::{stderr_of, transcribe, transcript, TestEnv};

fn list(env: &TestEnv) -> String {
    transcript(env, &["list"])
}

#[test]
fn unknown_key_in_config_toml_is_named_with_file_and_line() {
    let env = TestEnv::with_file_backend();
    env.write_broker_config("[session]\nmin_ttl = \"15m\"\nmax_ttl = \"1h\"\n");
    insta::assert_snapshot!(list(&env));
}

#[test]
fn bad_duration_and_bad_type_in_config_toml() {
    let env = TestEnv::with_file_backend();
    let mut transcripts = Vec::new();
    for config in [
        "[session]\nmin_ttl = \"fifteen minutes\"\n",
        "[profile.breakglass]\nbreak_glass = \"yes\"\n",
        "backend = [\n",
    ] {
        env.write_broker_config(config);
        transcripts.push(format!("# config.toml: {config:?}\n{}", list(&env)));
    }
    insta::assert_snapshot!(transcripts.join("\n"));
}

#[test]
fn config_flag_and_broker_config_name_the_file() {
    let env = TestEnv::new();
    let path = env.dir.path().join("elsewhere.toml");
    std::fs::write(&path, "backend = \"file\"\n").unwrap();
    let out = env
        .broker()
        .env("BROKER_FILE_PASSPHRASE", "x")
        .args(["list", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "list --config FILE: {}",
        stderr_of(&out)
    );
    let (_, missing) = transcribe(
        &env,
        env.broker()
            .env("BROKER_CONFIG", env.dir.path().join("missing.toml"))
            .args(["list"]),
    );
    insta::assert_snapshot!(missing);
}

#[test]
fn malformed_aws_config_is_one_line_naming_the_file() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile ok]\nregion = us-east-1\n[profile broken\nregion = x\n");
    insta::assert_snapshot!(list(&env));
}

#[test]
fn aws_profile_selection_follows_the_sdk() {
    // Profiles come from both files, with `[profile x]` in config and `[x]` in credentials.
    let env = TestEnv::new();
    env.write_aws_config("[profile a]\nregion = us-east-1\n[b]\nregion = ignored-in-config\n");
    std::fs::write(
        env.home().join(".aws/credentials"),
        "[c]\nregion = us-east-1\n",
    )
    .unwrap();
    let out = env.broker_file().args(["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].clone())
        .collect();
    assert_eq!(
        names,
        vec!["a", "c"],
        "`[b]` without `profile` is not a profile in config"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    insta::assert_snapshot!(crate::common::transcripts(
        &env,
        &[
            &["list", "--bogus"],
            &["nonsense"],
            &["--backend", "floppy", "list"]
        ]
    ));
}

#[test]
fn without_any_aws_file_a_profile_gets_how_to_make_one() {
    let env = TestEnv::with_file_backend();
    insta::assert_snapshot!(transcript(&env, &["export", "foo"]));
}
