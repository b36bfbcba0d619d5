//! `broker add`: keys from the terminal or the environment, and the config section it adds.

use crate::common::{assert_error, stderr_of, TestEnv};
use crate::vault::{add, KEY_ID, SECRET};

#[test]
fn add_keeps_the_existing_config_and_adds_only_missing_sections() {
    let env = TestEnv::new();
    let original = "# my settings\n[default]\nregion = eu-west-1\n\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default";
    env.write_aws_config(original);
    assert!(add(&env, "file", "default").status.success());
    assert_eq!(std::fs::read_to_string(env.aws_config()).unwrap(), original);
    assert!(add(&env, "file", "new").status.success());
    assert_eq!(
        std::fs::read_to_string(env.aws_config()).unwrap(),
        format!("{original}\n\n[profile new]\n")
    );
}

#[test]
fn add_env_refuses_missing_or_temporary_keys() {
    let env = TestEnv::new();
    let out = env
        .broker_file()
        .args(["add", "--env", "p"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .output()
        .unwrap();
    assert_error(
        &out,
        1,
        "--env needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
    let out = env
        .broker_file()
        .args(["add", "--env", "p"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", "tok")
        .output()
        .unwrap();
    assert_error(&out, 1, "temporary credentials");
    let out = env
        .broker_file()
        .args(["add", "--env", "p"])
        .env("AWS_ACCESS_KEY_ID", "not a key")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    assert_error(&out, 1, "is not an access key id");
    let out = env
        .broker_file()
        .args(["add", "--env", "bad]name"])
        .output()
        .unwrap();
    assert_error(&out, 2, "invalid profile name");
    assert!(!env.file_vault_dir().exists(), "nothing stored");
}

#[test]
fn add_off_a_terminal_names_add_env() {
    let env = TestEnv::new();
    let out = env.broker_file().args(["add", "alice"]).output().unwrap();
    assert_error(&out, 1, "no terminal to ask on");
    assert!(
        stderr_of(&out).contains(
            "hint: run it from a terminal, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             and run `broker add --env alice`"
        ),
        "{}",
        stderr_of(&out)
    );
    assert!(!env.file_vault_dir().exists(), "nothing stored");
}
