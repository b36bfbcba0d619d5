//! Every export format, snapshot-tested on fixed credentials from a `credential_process`
//! (no STS needed), including hostile values that must not run as shell code.

use crate::common::{assert_error, rig_test, stderr_of, stdout_of, TestEnv};
use crate::fixtures::fixed_process_env;

const HOSTILE_SECRET: &str = r#"s3cr3t'; touch pwned; echo '$(touch pwned2)`touch pwned3`"\"#;

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
    let env = fixed_process_env("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    insta::assert_snapshot!("env", export(&env, "env"));
    insta::assert_snapshot!("sh", export(&env, "sh"));
    insta::assert_snapshot!("fish", export(&env, "fish"));
    insta::assert_snapshot!("powershell", export(&env, "powershell"));
    insta::assert_snapshot!("json", export(&env, "json"));
    insta::assert_snapshot!("ini", export(&env, "ini"));
}

#[test]
fn hostile_values_are_quoted_for_each_shell() {
    let env = fixed_process_env(HOSTILE_SECRET);
    insta::assert_snapshot!("sh_hostile", export(&env, "sh"));
    insta::assert_snapshot!("fish_hostile", export(&env, "fish"));
    insta::assert_snapshot!("powershell_hostile", export(&env, "powershell"));
    // env and ini cannot quote: a value with a line break would be refused, and these are fine.
    assert!(export(&env, "env").contains(HOSTILE_SECRET));
}

#[test]
#[cfg_attr(windows, ignore = "needs sh")]
fn sh_output_evals_to_the_exact_values_and_runs_nothing() {
    let env = fixed_process_env(HOSTILE_SECRET);
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

rig_test!(
    "needs fish, which scripts/test.sh installs on Linux",
    fn fish_output_evals_to_the_exact_values() {
        let fish = which("fish").expect("fish is needed for this test: apt-get install fish");
        let env = fixed_process_env(HOSTILE_SECRET);
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
);

#[test]
fn values_with_control_characters_are_refused_by_every_line_format() {
    for value in ["line\nbreak", "bell\x07", "esc\x1b[2J"] {
        let env = fixed_process_env(value);
        for format in ["env", "sh", "fish", "powershell", "ini"] {
            let out = env
                .broker()
                .args(["export", "--format", format, "fixed"])
                .output()
                .unwrap();
            assert_error(
                &out,
                1,
                &format!("the {format} format cannot carry this value"),
            );
            assert!(stdout_of(&out).is_empty(), "{format}: {value:?}");
        }
        // JSON escapes it, and a JSON reader gets the value back intact.
        let json: serde_json::Value = serde_json::from_str(&export(&env, "json")).unwrap();
        assert_eq!(json["SecretAccessKey"], value);
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
