//! The committed completion scripts in `completions/` are exactly what `broker completions`
//! prints today, and the man pages in `man/` what clap_mangen makes of the CLI. Run with
//! `BROKER_UPDATE_COMPLETIONS=1` to rewrite both after changing the CLI.

use std::path::PathBuf;

use crate::common::{linux_rig_test, TestEnv};

const SHELLS: [(&str, &str); 5] = [
    ("bash", "broker.bash"),
    ("zsh", "_broker"),
    ("fish", "broker.fish"),
    ("powershell", "_broker.ps1"),
    ("elvish", "broker.elv"),
];

#[test]
fn committed_completions_match_the_cli() {
    let env = TestEnv::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("BROKER_UPDATE_COMPLETIONS").is_some();
    for (shell, file) in SHELLS {
        let out = env.broker().args(["completions", shell]).output().unwrap();
        assert!(
            out.status.success(),
            "completions {shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.stdout.is_empty(),
            "completions {shell}: an empty script"
        );
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "{} is out of date: run `BROKER_UPDATE_COMPLETIONS=1 cargo test completions`",
            path.display()
        );
    }
}

/// Runs `script` in `shell` with the completion script loaded and `broker` on PATH.
fn in_shell(env: &TestEnv, shell: &str, script: &str) -> String {
    let out = env.broker().args(["completions", shell]).output().unwrap();
    let registration = env.dir.path().join(format!("registration.{shell}"));
    std::fs::write(&registration, &out.stdout).unwrap();
    let bin_dir = crate::common::broker_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let full = format!("source {}\n{script}", registration.display());
    let out = env
        .command(shell)
        .args(["-c", &full])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

linux_rig_test!(
    "needs bash and fish, which scripts/test.sh installs on Linux",
    fn subcommands_and_profile_names_complete_in_bash_and_fish() {
        let env = TestEnv::new();
        env.write_aws_config("[profile alpha]\n[profile beta]\n[profile alpine]\n");
        let bash = |words: &str| {
            let n = words.split(' ').count() - 1;
            in_shell(
                &env,
                "bash",
                &format!(
                    "COMP_WORDS=({words}); COMP_CWORD={n}; COMP_TYPE=9; \
                 _clap_complete_broker broker \"${{COMP_WORDS[$COMP_CWORD]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\""
                ),
            )
        };
        assert_eq!(
            bash("broker export al"),
            "alpha\nalpine\n",
            "bash: profile names"
        );
        assert_eq!(
            bash("broker exec --reason x b"),
            "beta\n",
            "bash: a profile after a flag's value"
        );
        assert!(
            bash("broker ex").contains("exec\nexport\n"),
            "{}",
            bash("broker ex")
        );
        let fish = in_shell(&env, "fish", "complete -C 'broker remove al'");
        assert_eq!(fish, "alpha\nalpine\n", "fish: profile names");
    }
);

#[test]
fn the_bash_script_asks_broker() {
    let env = TestEnv::new();
    let out = env.broker().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("COMPLETE=\"bash\""), "asks broker itself");
}

/// The man pages in `man/` are exactly what clap_mangen makes of the CLI today: `broker.1` and
/// one page per command. `BROKER_UPDATE_COMPLETIONS=1` rewrites them too.
#[test]
fn committed_man_pages_match_the_cli() {
    use clap::CommandFactory;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let fresh = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(broker::cli::Cli::command(), fresh.path()).unwrap();
    let names = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    if std::env::var_os("BROKER_UPDATE_COMPLETIONS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in names(fresh.path()) {
            std::fs::copy(fresh.path().join(&name), dir.join(&name)).unwrap();
        }
    }
    let made = names(fresh.path());
    assert!(made.contains(&"broker.1".to_string()), "{made:?}");
    assert!(made.contains(&"broker-exec.1".to_string()), "{made:?}");
    assert_eq!(
        names(&dir),
        made,
        "man/ is out of date: run `BROKER_UPDATE_COMPLETIONS=1 cargo test completions`"
    );
    for name in made {
        let committed = std::fs::read(dir.join(&name)).unwrap();
        assert!(
            committed == std::fs::read(fresh.path().join(&name)).unwrap(),
            "man/{name} is out of date: run `BROKER_UPDATE_COMPLETIONS=1 cargo test completions`"
        );
    }
}

#[test]
fn a_shell_broker_has_no_completions_for_is_a_usage_error() {
    let env = TestEnv::new();
    insta::assert_snapshot!(crate::common::transcripts(
        &env,
        &[&["completions", "tcsh"], &["completions"]]
    ));
}
