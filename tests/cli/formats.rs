//! Every export format, snapshot-tested on fixed credentials from a `credential_process`
//! (no STS needed), including hostile values that must not run as shell code.

use crate::common::{assert_error, stderr_of, stdout_of, TestEnv};

const HOSTILE_SECRET: &str = r#"s3cr3t'; touch pwned; echo '$(touch pwned2)`touch pwned3`"\"#;

fn env_with_process(secret: &str) -> TestEnv {
    let env = TestEnv::new();
    let json = serde_json::json!({
        "Version": 1,
        "AccessKeyId": "ASIAFIXEDEXAMPLE0001",
        "SecretAccessKey": secret,
        "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN",
        "Expiration": "2030-01-02T03:04:05Z",
    });
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

fn export(env: &TestEnv, format: &str) -> String {
    let out = env
        .broker()
        .args(["export", "--format", format, "fixed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn every_format_snapshot() {
    let env = env_with_process("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    insta::assert_snapshot!("env", export(&env, "env"));
    insta::assert_snapshot!("sh", export(&env, "sh"));
    insta::assert_snapshot!("fish", export(&env, "fish"));
    insta::assert_snapshot!("powershell", export(&env, "powershell"));
    insta::assert_snapshot!("json", export(&env, "json"));
    insta::assert_snapshot!("ini", export(&env, "ini"));
}

#[test]
fn hostile_values_are_quoted_for_each_shell() {
    let env = env_with_process(HOSTILE_SECRET);
    insta::assert_snapshot!("sh_hostile", export(&env, "sh"));
    insta::assert_snapshot!("fish_hostile", export(&env, "fish"));
    insta::assert_snapshot!("powershell_hostile", export(&env, "powershell"));
    // env and ini cannot quote: a value with a line break would be refused, and these are fine.
    assert!(export(&env, "env").contains(HOSTILE_SECRET));
}

#[test]
#[cfg_attr(windows, ignore = "needs sh")]
fn sh_output_evals_to_the_exact_values_and_runs_nothing() {
    let env = env_with_process(HOSTILE_SECRET);
    let broker = crate::common::broker_bin();
    let script = format!(
        "cd {dir} && eval \"$({broker} export --format sh fixed)\" && printf '%s' \"$AWS_SECRET_ACCESS_KEY\"",
        dir = env.dir.path().display(),
        broker = broker.display()
    );
    let out = env.command("sh").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), HOSTILE_SECRET);
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!env.dir.path().join(file).exists(), "{file} was created");
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs fish, which scripts/test.sh installs on Linux"
)]
fn fish_output_evals_to_the_exact_values() {
    let fish = which("fish").expect("fish is needed for this test: apt-get install fish");
    let env = env_with_process(HOSTILE_SECRET);
    let broker = crate::common::broker_bin();
    let script = format!(
        "cd {dir}; {broker} export --format fish fixed | source; printf '%s' \"$AWS_SECRET_ACCESS_KEY\"",
        dir = env.dir.path().display(),
        broker = broker.display()
    );
    let out = env.command(fish).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), HOSTILE_SECRET);
    assert!(!env.dir.path().join("pwned").exists());
}

#[test]
fn unrepresentable_values_are_refused() {
    let env = env_with_process("line\nbreak");
    let out = env
        .broker()
        .args(["export", "--format", "env", "fixed"])
        .output()
        .unwrap();
    assert_error(&out, 1, "the env format cannot carry this value");
    assert!(stdout_of(&out).is_empty());
    // sh quoting carries it intact.
    assert!(export(&env, "sh").contains("'line\nbreak'"));
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
