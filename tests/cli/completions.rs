//! The committed completion scripts in `completions/` are exactly what `broker completions`
//! prints today. Run with `BROKER_UPDATE_COMPLETIONS=1` to rewrite them after changing the CLI.

use std::path::PathBuf;

use crate::common::TestEnv;

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
        assert!(out.status.success());
        assert!(!out.stdout.is_empty());
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

#[test]
fn completions_list_the_working_subcommands() {
    let env = TestEnv::new();
    let out = env.broker().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    for sub in ["add", "list", "remove", "completions"] {
        assert!(
            script.contains(&format!("broker__subcmd__{sub}")),
            "{sub} missing"
        );
    }
}
