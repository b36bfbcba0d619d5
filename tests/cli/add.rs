//! `broker add`: keys from the terminal or the environment, and the config section it adds.

use crate::common::{transcribe, transcript, TestEnv};
use crate::vault::{add_command, KEY_ID, SECRET};

#[test]
fn add_keeps_the_existing_config_and_adds_only_missing_sections() {
    let env = TestEnv::new();
    let original = "# my settings\n[default]\nregion = eu-west-1\n\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default";
    env.write_aws_config(original);
    let (out, existing) = transcribe(&env, &mut add_command(&env, "file", "default"));
    assert!(
        out.status.success(),
        "add of an existing profile: {existing}"
    );
    assert_eq!(
        std::fs::read_to_string(env.aws_config()).unwrap(),
        original,
        "a profile the config has already: the config is left alone"
    );
    let (out, new) = transcribe(&env, &mut add_command(&env, "file", "new"));
    assert!(out.status.success(), "add of a new profile: {new}");
    assert_eq!(
        std::fs::read_to_string(env.aws_config()).unwrap(),
        format!("{original}\n\n[profile new]\n"),
        "a new profile: only its section is appended"
    );
    insta::assert_snapshot!(format!("{existing}\n{new}"));
}

#[test]
fn add_env_refuses_missing_or_temporary_keys() {
    let env = TestEnv::with_file_backend();
    let add = |profile: &str, vars: &[(&str, &str)]| {
        let mut cmd = env.broker();
        cmd.args(["add", "--env", profile])
            .envs(vars.iter().copied());
        transcribe(&env, &mut cmd).1
    };
    insta::assert_snapshot!([
        add("p", &[("AWS_ACCESS_KEY_ID", KEY_ID)]),
        add(
            "p",
            &[
                ("AWS_ACCESS_KEY_ID", KEY_ID),
                ("AWS_SECRET_ACCESS_KEY", SECRET),
                ("AWS_SESSION_TOKEN", "tok")
            ]
        ),
        add(
            "p",
            &[
                ("AWS_ACCESS_KEY_ID", "not a key"),
                ("AWS_SECRET_ACCESS_KEY", SECRET)
            ]
        ),
        add("bad]name", &[]),
    ]
    .join("\n"));
    assert!(!env.file_vault_dir().exists(), "nothing stored");
}

#[test]
fn add_off_a_terminal_names_add_env() {
    let env = TestEnv::with_file_backend();
    insta::assert_snapshot!(transcript(&env, &["add", "alice"]));
    assert!(!env.file_vault_dir().exists(), "nothing stored");
}
