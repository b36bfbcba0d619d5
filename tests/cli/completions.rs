//! The committed completion scripts in `completions/` are exactly what `broker completions`
//! prints today, and the man pages in `man/` what clap_mangen makes of the CLI. Run with
//! `BROKER_UPDATE_COMPLETIONS=1` to rewrite both after changing the CLI.

use std::path::PathBuf;

use crate::common::{rig_test, TestEnv};

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

rig_test!(
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
    finish_man_pages(fresh.path());
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

/// What clap_mangen leaves out, added to the pages it made in `dir`: the option values in
/// SYNOPSIS, the after-help text as EXAMPLES (and BACKENDS, SEE ALSO) kept as typed, and in
/// broker.1 the ENVIRONMENT (broker::environment::VARIABLES, the list the code reads from),
/// FILES and EXIT STATUS sections.
fn finish_man_pages(dir: &std::path::Path) {
    use clap::CommandFactory;
    let mut root = broker::cli::Cli::command().disable_help_subcommand(true);
    root.build();
    let mut commands = vec![("broker".to_string(), root.clone())];
    let mut i = 0;
    while i < commands.len() {
        let (name, cmd) = commands[i].clone();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            commands.push((format!("{name}-{}", sub.get_name()), sub.clone()));
        }
        i += 1;
    }
    for (name, cmd) in commands {
        let path = dir.join(format!("{name}.1"));
        let mut page = std::fs::read_to_string(&path).unwrap();
        for arg in cmd.get_arguments() {
            let (Some(long), Some(values)) = (arg.get_long(), arg.get_value_names()) else {
                continue;
            };
            if !arg.get_action().takes_values() {
                continue;
            }
            let flag = format!("\\fB\\-\\-{}\\fR]", roff(long));
            let with_value = format!(
                "\\fB\\-\\-{}\\fR \\fI{}\\fR]",
                roff(long),
                roff(values[0].as_str())
            );
            page = page.replacen(&flag, &with_value, 1);
        }
        page = examples(&page);
        if name == "broker" {
            page = page.replace(".SH VERSION", &format!("{}.SH VERSION", broker_sections()));
        }
        std::fs::write(&path, page).unwrap();
    }
}

/// Text for roff: `-` and `\` escaped.
fn roff(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// The after-help section (`EXTRA`) as sections of their own, each kept as typed: `Examples:`
/// as EXAMPLES, `Backends …:` as BACKENDS, anything else as SEE ALSO.
fn examples(page: &str) -> String {
    let Some(start) = page.find(".SH EXTRA\n") else {
        return page.to_string();
    };
    let body_start = start + ".SH EXTRA\n".len();
    let end = page[body_start..]
        .find("\n.SH ")
        .map_or(page.len(), |e| body_start + e + 1);
    let mut sections = String::new();
    for paragraph in page[body_start..end].trim_end().split("\n\n") {
        let (first, rest) = paragraph.split_once('\n').unwrap_or((paragraph, ""));
        let (title, body) = if first.starts_with("Examples:") {
            ("EXAMPLES", rest)
        } else if first.starts_with("Backends") {
            ("BACKENDS", paragraph)
        } else {
            ("\"SEE ALSO\"", paragraph)
        };
        sections.push_str(&format!(".SH {title}\n.nf\n{body}\n.fi\n"));
    }
    format!("{}{sections}{}", &page[..start], &page[end..])
}

/// ENVIRONMENT, FILES and EXIT STATUS of broker.1.
fn broker_sections() -> String {
    let mut text = String::from(".SH ENVIRONMENT\n");
    for (name, what) in broker::environment::VARIABLES {
        text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(what)));
    }
    text.push_str(".SH FILES\n");
    for (file, what) in [
        ("~/.aws/config, ~/.aws/credentials", "the AWS config and credentials files, as the AWS CLI reads them"),
        ("$XDG_CONFIG_HOME/broker/config.toml", "broker's settings (default ~/.config/broker/config.toml)"),
        ("/etc/broker/policy.toml", "the system policy (macOS: /Library/Application Support/broker/policy.toml; Windows: %ProgramData%\\broker\\policy.toml)"),
        ("$XDG_DATA_HOME/broker/vault/", "the file vault: one age-encrypted file per item"),
        ("$XDG_STATE_HOME/broker/audit.jsonl", "the audit log, hash-chained"),
        ("$XDG_CACHE_HOME/broker/", "the encrypted session cache"),
    ] {
        text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(file), roff(what)));
    }
    text.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in [
        ("0", "success"),
        (
            "1",
            "a run-time error: bad input, refused by policy, an STS or IAM error, a vault error",
        ),
        (
            "2",
            "a usage error, including a refused duration given on the command line",
        ),
        (
            "126, 127",
            "exec: the command could not be executed, or was not found",
        ),
        (
            "N",
            "exec: the command's own exit status; 128+N when signal N killed it",
        ),
    ] {
        text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(code), roff(what)));
    }
    text
}

#[test]
fn a_shell_broker_has_no_completions_for_is_a_usage_error() {
    let env = TestEnv::new();
    insta::assert_snapshot!(crate::common::transcripts(
        &env,
        &[&["completions", "tcsh"], &["completions"]]
    ));
}
