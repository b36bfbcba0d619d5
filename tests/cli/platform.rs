//! What broker does with the operating system, checked on each one without STS: `exec` hands
//! out stored keys (`--no-session`) from the file vault, so these tests need no moto and run
//! on Linux, macOS and Windows alike. Exit statuses, signals and Ctrl-C (Unix), exit codes
//! (Windows), the default shell. (Private files: `vault::file_vault_is_private_and_encrypted`;
//! the OS stores: `vault::keychain_add_list_remove`, `vault::wincred_add_list_remove`.)

use crate::common::{after_prompt, stderr_of, stdout_of, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::store_key;

/// A sealed environment in which profile `p` has keys in the file vault.
fn keys_env() -> TestEnv {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
    env.write_aws_config("[profile p]\nregion = eu-west-1\n");
    store_key(&env, "p", "AKIAIOSFODNN7EXAMPLE", "platform-test-secret");
    env
}

/// `broker exec --no-session p -- ARGS` in `env`.
fn exec(env: &TestEnv, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.broker();
    cmd.args(["exec", "--no-session", "p", "--"]).args(args);
    cmd
}

#[cfg(unix)]
#[test]
fn exit_statuses_are_the_childs_and_a_signal_is_128_plus_n() {
    let env = keys_env();
    let status = |script: &str| {
        exec(&env, &["sh", "-c", script])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status("exit 42"), Some(42));
    assert_eq!(status("kill -TERM $$"), Some(128 + libc::SIGTERM));
}

/// Windows exit codes are 32 bits, and broker passes them on whole: 300 is not 44, and the
/// NTSTATUS of a process ended by Ctrl-C is not 58.
#[cfg(windows)]
#[test]
fn exit_codes_are_the_childs_in_full() {
    let env = keys_env();
    let code = |n: &str| {
        exec(&env, &["cmd", "/C", "exit", n])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("42"), Some(42));
    assert_eq!(code("300"), Some(300));
    assert_eq!(code("256"), Some(256), "never success");
    let control_c_exit = 0xC000_013A_u32 as i32;
    assert_eq!(code(&control_c_exit.to_string()), Some(control_c_exit));
}

#[test]
fn the_default_command_is_the_users_shell() {
    let env = keys_env();
    let (vars, typed): (&[(&str, &str)], &str) = if cfg!(windows) {
        (
            &[("COMSPEC", "cmd.exe")],
            "echo from-shell=%BROKER_PROFILE%\r\nexit\r\n",
        )
    } else {
        (&[("SHELL", "/bin/sh")], "echo from-shell=$BROKER_PROFILE\n")
    };
    let mut cmd = env.broker();
    cmd.args(["exec", "--no-session", "p"]).write_stdin(typed);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out)
            .lines()
            .any(|l| after_prompt(l) == "from-shell=p"),
        "{}",
        stdout_of(&out)
    );
}

/// Git Bash, MSYS2 and Cygwin export a POSIX `SHELL` to the Windows programs they start: broker
/// runs COMSPEC instead (which Windows can start), says so under `-v`, and doctor suggests
/// PowerShell's completions rather than bash's.
#[cfg(windows)]
#[test]
fn a_posix_shell_on_windows_gives_way_to_comspec_and_powershell() {
    let env = keys_env();
    let comspec = std::env::var("COMSPEC").unwrap_or_else(|_| "cmd.exe".into());
    let out = env
        .broker()
        .args(["-v", "exec", "--no-session", "p"])
        .env("SHELL", "/usr/bin/bash")
        .env("COMSPEC", &comspec)
        .write_stdin("echo from-shell=%BROKER_PROFILE%\r\nexit\r\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out)
            .lines()
            .any(|l| after_prompt(l) == "from-shell=p"),
        "{}",
        stdout_of(&out)
    );
    let said = format!(
        "SHELL is /usr/bin/bash, a POSIX path that Windows cannot start: running {comspec} \
         (COMSPEC) instead"
    );
    assert!(stderr_of(&out).contains(&said), "{}", stderr_of(&out));

    let out = env
        .broker()
        .arg("doctor")
        .env("SHELL", "/usr/bin/bash")
        .output()
        .unwrap();
    let report = stdout_of(&out);
    let line = report
        .lines()
        .find(|l| l.contains("completions"))
        .unwrap_or_else(|| panic!("no completions check: {report}"));
    assert!(line.contains("powershell"), "{report}");
    assert!(
        report.contains("broker completions powershell | Out-String | Invoke-Expression")
            && report.contains("Microsoft.PowerShell_profile.ps1"),
        "{report}"
    );
}

/// On macOS this is the check of the rule that forwards a signal when broker has no terminal
/// (the tests run without one), since XNU does not say who sent it.
#[cfg(unix)]
#[test]
fn signals_sent_to_broker_reach_the_child() {
    use std::io::{BufRead, BufReader, Read};
    let env = keys_env();
    let start = |script: &str| {
        let mut child = env
            .std_command(crate::common::broker_bin())
            .args(["exec", "--no-session", "p", "--", "sh", "-c", script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        (child, out)
    };
    let signal = |child: &std::process::Child, signal: i32| {
        // SAFETY: sends a signal to our own child process.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
    };

    let (mut child, mut out) =
        start("trap 'echo got-TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done");
    signal(&child, libc::SIGTERM);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-TERM\n");
    assert_eq!(child.wait().unwrap().code(), Some(3));

    let (mut child, _out) = start("echo ready; exec sleep 30");
    signal(&child, libc::SIGINT);
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGINT));
}

/// Ctrl-C typed at a real terminal: the terminal signals the foreground process group, broker
/// and the child alike. broker must not die of it, must not pass it on a second time, and
/// reports the child's status. On macOS this is the check of the foreground rule in process.rs.
#[cfg(unix)]
#[test]
fn ctrl_c_at_the_terminal_reaches_the_child_once() {
    let env = keys_env();
    let child_script = "n=0; trap 'n=$((n+1))' INT; echo ready; \
        while [ $n -eq 0 ]; do sleep 0.05; done; sleep 0.5; echo count=$n";
    let mut cmd = env.std_command(crate::common::broker_bin());
    cmd.args(["exec", "--no-session", "p", "--", "sh", "-c", child_script]);
    let mut terminal = crate::common::terminal::Terminal::spawn(cmd, None);
    terminal.expect("ready");
    terminal.send("\x03");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("count=1"),
        "the child saw it once: {screen}"
    );
}
