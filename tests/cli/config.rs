//! broker's config.toml and the AWS config files: bad input is a one-line error naming the file
//! and the problem, exit status 1, and nothing is lost.

use crate::common::{assert_error, stderr_of, TestEnv};

fn list(env: &TestEnv) -> std::process::Output {
    env.broker_file().args(["list"]).output().unwrap()
}

#[test]
fn unknown_key_in_config_toml_is_named_with_file_and_line() {
    let env = TestEnv::new();
    env.write_broker_config("[session]\nmin_ttl = \"15m\"\nmax_ttl = \"1h\"\n");
    let out = list(&env);
    assert_error(&out, 1, "invalid config file");
    let first = stderr_of(&out).lines().next().unwrap().to_string();
    assert!(
        first.contains("config.toml: line 3: unknown field `max_ttl`"),
        "{first}"
    );
}

#[test]
fn bad_duration_and_bad_type_in_config_toml() {
    let env = TestEnv::new();
    env.write_broker_config("[session]\nmin_ttl = \"fifteen minutes\"\n");
    assert_error(&list(&env), 1, "line 2: invalid duration `fifteen minutes`");
    env.write_broker_config("[profile.breakglass]\nbreak_glass = \"yes\"\n");
    assert_error(&list(&env), 1, "line 2: invalid type");
    env.write_broker_config("backend = [\n");
    assert_error(&list(&env), 1, "invalid config file");
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
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = env
        .broker()
        .env("BROKER_CONFIG", env.dir.path().join("missing.toml"))
        .args(["list"])
        .output()
        .unwrap();
    assert_error(&out, 1, "missing.toml");
}

#[test]
fn malformed_aws_config_is_one_line_naming_the_file() {
    let env = TestEnv::new();
    env.write_aws_config("[profile ok]\nregion = us-east-1\n[profile broken\nregion = x\n");
    let out = list(&env);
    assert_error(&out, 1, "cannot read the AWS config");
    let err = stderr_of(&out);
    assert!(err.contains("line 3"), "{err}");
    let file = crate::common::under(std::path::Path::new(".aws"), "config");
    assert!(err.contains(&file.display().to_string()), "{err}");
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
    let out = env.broker().args(["list", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env.broker().args(["nonsense"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .broker()
        .args(["--backend", "floppy", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
