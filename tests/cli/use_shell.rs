//! `broker use` in real interactive shells (bash, zsh, fish on a pseudo-terminal): the function of
//! `broker shell-init` sets a role's credentials in the shell itself, with the break-glass
//! confirmation and the MFA code typed while stdout is captured; the AWS CLI in that shell is
//! the role; a failing `use` changes nothing; `--off` clears it; other commands pass through.

use std::path::PathBuf;

use crate::common::terminal::{Mode, Terminal};
use crate::common::{assert_error, broker_bin, stderr_of, stdout_of, TestEnv};
use crate::fixtures::{mfa_user, ACCOUNT};

struct Shell {
    program: &'static str,
    args: &'static [&'static str],
    init: &'static str,
    /// `echo NAME=` followed by the output of a command, in this shell's syntax.
    capture: fn(&str, &str) -> String,
    status: &'static str,
}

fn posix_capture(name: &str, command: &str) -> String {
    format!("echo \"{name}=$({command})\"")
}

fn fish_capture(name: &str, command: &str) -> String {
    format!("echo {name}=({command})")
}

const SHELLS: [Shell; 3] = [
    Shell {
        program: "bash",
        args: &["--norc", "--noprofile", "-i"],
        init: "eval \"$(broker shell-init bash)\"",
        capture: posix_capture,
        status: "$?",
    },
    Shell {
        program: "zsh",
        args: &["-f", "-i"],
        init: "eval \"$(broker shell-init zsh)\"",
        capture: posix_capture,
        status: "$?",
    },
    Shell {
        program: "fish",
        args: &["--no-config", "-i"],
        init: "broker shell-init fish | source",
        capture: fish_capture,
        status: "$status",
    },
];

/// PATH with broker and the venv's AWS CLI first.
fn path() -> String {
    let bin = broker_bin();
    let dirs: Vec<PathBuf> = vec![
        bin.parent().unwrap().to_owned(),
        crate::common::moto::venv().join("bin"),
    ];
    let mut all = dirs;
    all.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(all).unwrap().into_string().unwrap()
}

fn use_in(shell: &Shell) {
    let (_moto, env) = mfa_user();
    env.write_broker_config("[profile.role]\nbreak_glass = true\n");
    let mut cmd = env.std_command(shell.program);
    cmd.args(shell.args)
        .env("PATH", path())
        .env("TERM", "dumb")
        .env("SHELL", shell.program);
    let mut t = Terminal::spawn(cmd, None);
    let line = |t: &mut Terminal, text: &str| t.send(&format!("{text}\n"));
    line(&mut t, shell.init);
    line(&mut t, "broker use role --reason INC-1");
    t.answer("Type the profile name to confirm: ", Mode::Line, "role\n");
    t.answer("MFA code for ", Mode::Line, "123456\n");
    let who = (shell.capture)(
        "who",
        "aws sts get-caller-identity --query Arn --output text",
    );
    line(&mut t, &who);
    t.expect(&format!("who=arn:aws:sts::{ACCOUNT}:assumed-role/any/"));
    line(&mut t, &(shell.capture)("p", "broker prompt"));
    t.expect("p=role ");
    line(
        &mut t,
        &format!(
            "broker use nosuch; echo \"failed={} still=$AWS_VAULT\"",
            shell.status
        ),
    );
    t.expect("failed=1 still=role");
    line(
        &mut t,
        &(shell.capture)("names", "broker list --profiles | wc -l"),
    );
    t.expect("names=3");
    line(&mut t, "broker use --off");
    let left = (shell.capture)(
        "left",
        "env | grep -c -E '^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|\
         AWS_CREDENTIAL_EXPIRATION|AWS_REGION|AWS_VAULT|BROKER_PROFILE)='",
    );
    line(&mut t, &left);
    t.expect("left=0");
    line(&mut t, "exit");
    let (code, screen) = t.finish();
    assert_eq!(code, Some(0), "{screen}");
    let history = env
        .broker()
        .args(["history", "--json", "--via", "use"])
        .output()
        .unwrap();
    let text = stdout_of(&history);
    assert!(text.contains("\"outcome\":\"issued\""), "{text}");
    assert!(text.contains("INC-1"), "{text}");
}

#[test]
fn use_in_bash() {
    use_in(&SHELLS[0]);
}

#[test]
fn use_in_zsh() {
    use_in(&SHELLS[1]);
}

#[test]
fn use_in_fish() {
    use_in(&SHELLS[2]);
}

#[test]
fn help_and_version_through_the_shell_function_are_shown_and_never_evaluated() {
    let env = TestEnv::new();
    let out = env
        .command("bash")
        .arg("-c")
        .arg(
            "eval \"$(broker shell-init bash)\"\n\
             broker use --help; echo \"help=$?\"\n\
             broker use -V; echo \"version=$?\"",
        )
        .env("PATH", path())
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        "help=0\nversion=0\n",
        "{}",
        stderr_of(&out)
    );
    let shown = stderr_of(&out);
    assert!(
        shown.contains("Usage: broker use") && shown.contains(env!("CARGO_PKG_VERSION")),
        "{shown}"
    );
    assert!(
        !shown.contains("not found"),
        "nothing was evaluated: {shown}"
    );
}

#[test]
fn use_without_shell_init_says_how_to_set_it_up() {
    let env = TestEnv::new().env("SHELL", "/usr/bin/fish");
    env.write_aws_config("[profile p]\n");
    let out = env.broker().args(["use", "p"]).output().unwrap();
    assert_error(
        &out,
        1,
        "only the shell function of `broker shell-init` can do",
    );
    assert!(
        stderr_of(&out).contains("`broker shell-init fish | source`"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn prompt_prints_the_profile_and_time_left_or_nothing() {
    let env = TestEnv::new();
    let prompt = |vars: &[(&str, &str)]| {
        let mut cmd = env.broker();
        cmd.arg("prompt");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    assert_eq!(prompt(&[]), "");
    let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(42 * 60 + 30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        prompt(&[("AWS_VAULT", "prod"), ("AWS_CREDENTIAL_EXPIRATION", &soon)]),
        "prod 42m\n"
    );
    assert_eq!(
        prompt(&[
            ("BROKER_PROFILE", "prod"),
            ("AWS_SESSION_EXPIRATION", "2001-01-01T00:00:00Z")
        ]),
        "prod expired\n"
    );
}
