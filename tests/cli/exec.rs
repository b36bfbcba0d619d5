//! `broker exec`: the environment contract, argv/stdin/exit status pass-through, signals, role
//! switching, and the credential server, against moto with enforcement and the real AWS CLI.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

#[cfg(windows)]
use crate::common::assert_error;
#[cfg(unix)]
use crate::common::transcript;
use crate::common::{
    after_prompt, broker_bin, normalize, print_env, shell, stderr_of, stdout_of, transcribe,
};
use crate::fixtures::{caller_of, passphrase_file, Chain, ACCOUNT};

fn env_map(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn creds_json(env: &std::collections::BTreeMap<String, String>) -> serde_json::Value {
    serde_json::json!({
        "AccessKeyId": env["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": env["AWS_SECRET_ACCESS_KEY"],
        "SessionToken": env["AWS_SESSION_TOKEN"],
    })
}

#[test]
fn the_child_gets_exactly_the_documented_environment() {
    let c = Chain::new();
    let out = c
        .env
        .broker()
        .args(["exec", "r2", "--"])
        .args(print_env())
        .env("AWS_ACCESS_KEY_ID", "AKIAINHERITED0000000")
        .env("AWS_SECRET_ACCESS_KEY", "inherited-secret")
        .env("AWS_SESSION_TOKEN", "inherited-token")
        .env("AWS_SECURITY_TOKEN", "inherited-token")
        .env("AWS_PROFILE", "r2")
        .env("AWS_DEFAULT_PROFILE", "x")
        .env("AWS_CREDENTIAL_FILE", "/x")
        .env("AWS_SDK_LOAD_CONFIG", "1")
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.2/x",
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "t")
        .env("AWS_VAULT", "inherited")
        .env("UNRELATED", "kept")
        .output()
        .unwrap();
    assert!(out.status.success(), "exec failed: {}", stderr_of(&out));
    let env = env_map(&stdout_of(&out));
    // The whole of what broker sets and keeps: every AWS_ and BROKER_ variable, and one of the
    // user's own.
    c.env
        .name_as(&env["AWS_SECRET_ACCESS_KEY"], "[r2's secret]");
    c.env
        .name_as(&env["AWS_SESSION_TOKEN"], "[r2's session token]");
    let contract: String = env
        .iter()
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("BROKER_") || *k == "UNRELATED")
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    insta::assert_snapshot!(normalize(&c.env, &contract));
    for gone in [
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CREDENTIAL_FILE",
        "AWS_SDK_LOAD_CONFIG",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ] {
        assert!(!env.contains_key(gone), "{gone} reached the child");
    }
    assert_eq!(env["UNRELATED"], "kept", "the user's own variable");
    assert_eq!(env["BROKER_PROFILE"], "r2", "the profile marker");
    assert_eq!(
        env["AWS_VAULT"], "r2",
        "for shell prompts made for aws-vault"
    );
    // r2 has no region of its own; the inherited AWS_REGION is absent here, so the default.
    assert_eq!(env["AWS_REGION"], "us-east-1", "the default region");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1", "the default region");
    assert!(
        env["AWS_CREDENTIAL_EXPIRATION"].ends_with('Z'),
        "an expiration in UTC: {}",
        env["AWS_CREDENTIAL_EXPIRATION"]
    );
    assert!(
        env["AWS_ACCESS_KEY_ID"].starts_with("ASIA"),
        "temporary credentials: {}",
        env["AWS_ACCESS_KEY_ID"]
    );
    assert_ne!(
        env["AWS_ACCESS_KEY_ID"], c.key.access_key_id,
        "the long-term key reached the child"
    );
    assert!(
        !stdout_of(&out).contains(&c.key.secret_access_key),
        "long-term secret leaked"
    );
    assert_eq!(
        caller_of(&c.moto, &creds_json(&env)),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r2/alice-session"),
        "the child's credentials are r2's"
    );
}

#[test]
fn the_region_comes_from_the_flag_the_environment_or_the_profile() {
    let c = Chain::new();
    let region = |args: &[&str], inherited: &[(&str, &str)]| {
        let mut cmd = c.env.broker();
        cmd.arg("exec").args(args).arg("--").args(print_env());
        for (k, v) in inherited {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let env = env_map(&stdout_of(&out));
        assert_eq!(
            env["AWS_REGION"], env["AWS_DEFAULT_REGION"],
            "{args:?}: both region variables alike"
        );
        assert_eq!(env["AWS_REGION"], env["BROKER_REGION"], "the marker");
        env["AWS_REGION"].clone()
    };
    // As the AWS SDKs and the AWS CLI do: the environment beats the profile's region.
    assert_eq!(
        region(&["r1"], &[("AWS_REGION", "ap-south-1")]),
        "ap-south-1",
        "AWS_REGION"
    );
    assert_eq!(
        region(&["r1"], &[("AWS_DEFAULT_REGION", "ap-south-1")]),
        "ap-south-1",
        "AWS_DEFAULT_REGION"
    );
    assert_eq!(
        region(
            &["r1"],
            &[
                ("AWS_REGION", "ap-south-1"),
                ("AWS_DEFAULT_REGION", "sa-east-1")
            ]
        ),
        "ap-south-1",
        "AWS_REGION first"
    );
    assert_eq!(
        region(
            &["--region", "sa-east-1", "r1"],
            &[("AWS_REGION", "ap-south-1")]
        ),
        "sa-east-1",
        "--region first"
    );
    assert_eq!(region(&["r1"], &[]), "eu-west-1", "the profile's region");
    assert_eq!(region(&["r2"], &[]), "us-east-1", "no region anywhere");
}

#[test]
fn a_role_switch_inside_a_broker_shell_takes_the_new_profiles_region() {
    let c = Chain::new();
    // r2 gets a region of its own; r1 (the outer shell) has eu-west-1.
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(
        &config.replace("[profile r2]\n", "[profile r2]\nregion = ca-central-1\n"),
    );
    let inner = |(unix, windows): (&str, &str), outer_env: &[(&str, &str)]| {
        let broker = broker_bin().display().to_string();
        let mut cmd = c.env.broker();
        cmd.env("BROKER_FILE_PASSPHRASE_FILE", passphrase_file(&c.env));
        cmd.args(["exec", "r1", "--"]).args(shell(
            &unix.replace("BROKER", &broker),
            &windows.replace("BROKER", &broker),
        ));
        for (k, v) in outer_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{unix}: {}", stderr_of(&out));
        let env = env_map(&stdout_of(&out));
        assert_eq!(env["BROKER_PROFILE"], "r2", "{unix}: the inner profile");
        assert_eq!(
            env["AWS_REGION"], env["BROKER_REGION"],
            "{unix}: the marker"
        );
        assert_eq!(
            caller_of(&c.moto, &creds_json(&env)),
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/r2/alice-session"),
            "real credentials for r2, made in its region"
        );
        (env["AWS_REGION"].clone(), env["AWS_DEFAULT_REGION"].clone())
    };
    let both = |r: &str| (r.to_string(), r.to_string());
    // The outer exec set eu-west-1 in both variables and marked it: the inner one takes r2's.
    let plain = ("BROKER exec r2 -- env", "BROKER exec r2 -- cmd /C set");
    assert_eq!(inner(plain, &[]), both("ca-central-1"));
    // Even when the outer region came from the user's own AWS_REGION: inside the shell, the
    // variables are broker's until the user sets them again.
    assert_eq!(
        inner(plain, &[("AWS_REGION", "ap-south-1")]),
        both("ca-central-1")
    );
    // Set again inside the shell, a variable is the user's and beats the profile.
    assert_eq!(
        inner(
            (
                "AWS_REGION=sa-east-1 BROKER exec r2 -- env",
                "set AWS_REGION=sa-east-1&& BROKER exec r2 -- cmd /C set"
            ),
            &[]
        ),
        both("sa-east-1")
    );
    assert_eq!(
        inner(
            (
                "export AWS_DEFAULT_REGION=sa-east-1; BROKER exec r2 -- env",
                "set AWS_DEFAULT_REGION=sa-east-1&& BROKER exec r2 -- cmd /C set"
            ),
            &[]
        ),
        both("sa-east-1"),
        "AWS_DEFAULT_REGION exported inside the shell"
    );
}

/// Unix: every byte of every argument, stdin, the exit status (128+N for a signal), 127 for a
/// program that is not there.
#[cfg(unix)]
#[test]
fn arguments_stdin_and_exit_status_pass_through() {
    let c = Chain::new();
    let args = ["a b", "\"quoted\"", "$HOME", "it's", "`id`", "*", ""];
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--", "printf", "[%s]\\n"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "exec printf: {}", stderr_of(&out));
    let expected: String = args.iter().map(|a| format!("[{a}]\n")).collect();
    assert_eq!(stdout_of(&out), expected, "the arguments, each as given");

    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--", "cat"])
        .write_stdin("line one\nline two\n")
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        "line one\nline two\n",
        "stdin reaches the child"
    );

    let status = |cmd: &str| {
        c.env
            .broker()
            .args(["exec", "r1", "--", "sh", "-c", cmd])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status("exit 42"), Some(42), "the child's exit status");
    assert_eq!(status("kill -KILL $$"), Some(128 + 9), "SIGKILL as 128+9");
    assert_eq!(status("kill -TERM $$"), Some(128 + 15), "SIGTERM as 128+15");
    // The whole of it: the child's stdout, stderr and status, and nothing of broker's.
    insta::assert_snapshot!([
        transcript(
            &c.env,
            &[
                "exec",
                "r1",
                "--",
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3"
            ]
        ),
        transcript(&c.env, &["exec", "r1", "--", "/no/such/program"]),
    ]
    .join("\n"));
}

/// Windows: stdin, the exit code, 127 for a program that is not there. (Arguments reach a
/// Windows program as one command line, quoted by Rust's std; platform.rs checks the codes in
/// full.)
#[cfg(windows)]
#[test]
fn stdin_and_exit_codes_pass_through() {
    let c = Chain::new();
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--", "cmd", "/C", "more"])
        .write_stdin("line one\r\nline two\r\n")
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).replace("\r\n", "\n"),
        "line one\nline two\n"
    );
    let status = |script: &str| {
        c.env
            .broker()
            .args(["exec", "r1", "--", "cmd", "/C", script])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status("exit 42"), Some(42));
    assert_eq!(status("exit 300"), Some(300));
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--", r"C:\no\such\program.exe"])
        .output()
        .unwrap();
    assert_error(&out, 127, r"cannot run C:\no\such\program.exe");
}

/// The program is looked up along the child's PATH as `execvp` does it: past a file nobody may
/// run, and a file without `#!` is run by /bin/sh.
#[cfg(unix)]
#[test]
fn programs_are_found_and_run_as_execvp_does() {
    use std::os::unix::fs::PermissionsExt;
    let c = Chain::new();
    let (first, second) = (c.env.home().join("first"), c.env.home().join("second"));
    for (dir, text, mode) in [
        (&first, "#!/bin/sh\necho wrong\n", 0o644),
        (&second, "echo plain script \"$1\"\n", 0o755),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("tool"), text).unwrap();
        std::fs::set_permissions(dir.join("tool"), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let path = format!("{}:{}:/usr/bin:/bin", first.display(), second.display());
    // Plain exec spawns the file it finds itself; beside --server it is forked to execvp.
    for server in [&[][..], &["--server"]] {
        let out = c
            .env
            .broker()
            .arg("exec")
            .args(server)
            .args(["r1", "--", "tool", "x"])
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{server:?}: {}", stderr_of(&out));
        assert_eq!(
            stdout_of(&out),
            "plain script x\n",
            "{server:?}: the second tool, by /bin/sh"
        );
    }
}

#[test]
fn the_default_command_is_the_shell() {
    let c = Chain::new();
    let (shell, typed) = if cfg!(windows) {
        (
            ("COMSPEC", "cmd.exe"),
            "echo from-shell=%BROKER_PROFILE%\r\nexit\r\n",
        )
    } else {
        (("SHELL", "/bin/sh"), "echo from-shell=$BROKER_PROFILE\n")
    };
    let out = c
        .env
        .broker()
        .args(["exec", "r1"])
        .env(shell.0, shell.1)
        .write_stdin(typed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out)
            .lines()
            .any(|l| after_prompt(l) == "from-shell=r1"),
        "{}",
        stdout_of(&out)
    );
}

/// Starts `broker exec r1 -- sh -c SCRIPT`, waits for the child to print `ready`.
#[cfg(unix)]
fn start_ready(
    c: &Chain,
    script: &str,
) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut child = c
        .env
        .std_command(broker_bin())
        .args(["exec", "r1", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n", "the child's first line");
    (child, out)
}

#[cfg(unix)]
fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: sends a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

#[cfg(unix)]
#[test]
fn sigterm_and_sigint_sent_to_broker_reach_the_child() {
    let c = Chain::new();
    let trap = "trap 'echo got-TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let (mut child, mut out) = start_ready(&c, trap);
    signal(&child, libc::SIGTERM);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-TERM\n", "SIGTERM reached the child");
    assert_eq!(
        child.wait().unwrap().code(),
        Some(3),
        "the child's own exit status"
    );

    let (mut child, _out) = start_ready(&c, "echo ready; exec sleep 30");
    signal(&child, libc::SIGINT);
    assert_eq!(
        child.wait().unwrap().code(),
        Some(128 + libc::SIGINT),
        "SIGINT reached the child"
    );

    let (mut child, _out) = start_ready(&c, "echo ready; exec sleep 30");
    signal(&child, libc::SIGHUP);
    assert_eq!(
        child.wait().unwrap().code(),
        Some(128 + libc::SIGHUP),
        "SIGHUP reached the child"
    );
}

#[test]
fn aws_vault_users_change_one_word() {
    let c = Chain::new();
    // No `--`: the first word after the profile starts the command, and its flags, a `--`
    // included, are its own. (cmd's echo prints its arguments as one line.)
    let (command, expected): (&[&str], &str) = if cfg!(windows) {
        (&["cmd", "/C", "echo"], "-d --server -- x\r\n")
    } else {
        (&["printf", "[%s]\\n"], "[-d]\n[--server]\n[--]\n[x]\n")
    };
    let out = c
        .env
        .broker()
        .args(["exec", "r1"])
        .args(command)
        .args(["-d", "--server", "--", "x"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), expected);
    // broker's own flags before the command are still broker's.
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--region", "eu-north-1"])
        .args(shell("echo $AWS_REGION", "echo %AWS_REGION%"))
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).trim_end(),
        "eu-north-1",
        "{}",
        stderr_of(&out)
    );
    // `--` right after broker's options still means: the default profile runs the command.
    let out = c
        .env
        .broker()
        .args(["exec", "--"])
        .args(shell("echo $AWS_VAULT", "echo %AWS_VAULT%"))
        .env("AWS_PROFILE", "r1")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out).trim_end(), "r1", "{}", stderr_of(&out));
}

#[test]
fn exec_inside_a_broker_shell_switches_role_from_the_vault() {
    let c = Chain::new();
    // As aws-vault users type it; AWS_VAULT is set inside and must not stop the switch.
    let inner = format!("{} exec r1 ", broker_bin().display());
    let out = c
        .env
        .broker()
        .args(["exec", "r2"])
        .args(shell(&format!("{inner}env"), &format!("{inner}cmd /C set")))
        .env("BROKER_FILE_PASSPHRASE_FILE", passphrase_file(&c.env))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the switch failed: {}",
        stderr_of(&out)
    );
    // What the inner broker says, whole.
    insta::assert_snapshot!(normalize(&c.env, &stderr_of(&out)));
    let env = env_map(&stdout_of(&out));
    assert_eq!(env["BROKER_PROFILE"], "r1", "the inner profile marker");
    assert_eq!(env["AWS_VAULT"], "r1", "the inner AWS_VAULT");
    assert_eq!(
        caller_of(&c.moto, &creds_json(&env)),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r1/alice-session"),
        "the inner credentials are r1's"
    );
}

#[test]
#[cfg_attr(
    windows,
    ignore = "needs the test venv's AWS CLI, which this suite runs on Unix only"
)]
fn the_aws_cli_gets_credentials_from_the_server() {
    let c = Chain::new();
    let aws = crate::common::moto::venv().join("bin/aws");
    let script = format!(
        "env | grep -c '^AWS_ACCESS_KEY_ID=\\|^AWS_SECRET_ACCESS_KEY=\\|^AWS_SESSION_TOKEN=' ; {} sts get-caller-identity --output json",
        aws.display()
    );
    c.env.name_as(&aws.display().to_string(), "aws");
    let (out, whole) = transcribe(
        &c.env,
        c.env
            .broker()
            .args(["exec", "--server", "r2", "--", "sh", "-c", &script]),
    );
    assert!(out.status.success(), "{whole}");
    let text = stdout_of(&out);
    let (count, json) = text.split_once('\n').unwrap();
    assert_eq!(count, "0", "no static keys in the child");
    let identity: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        identity["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r2/alice-session"),
        "the CLI's identity is r2's"
    );
    // moto's role id, which changes with every run.
    let role_id = identity["UserId"]
        .as_str()
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    c.env.name_as(role_id, "[r2's role id]");
    insta::assert_snapshot!(normalize(&c.env, &whole));
}

/// Starts `broker exec --server PROFILE` with a child that prints the endpoint and token and
/// waits for a line on stdin; returns the child, the URL, the token and the `host:port`.
fn start_server(c: &Chain, profile: &str) -> (std::process::Child, String, String, String) {
    let script = shell(
        "echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN\"; read line",
        "echo %AWS_CONTAINER_CREDENTIALS_FULL_URI% %AWS_CONTAINER_AUTHORIZATION_TOKEN%& set /p line=",
    );
    let mut child = c
        .env
        .std_command(broker_bin())
        .args(["exec", "--server", profile, "--"])
        .args(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (url, token) = line.trim().split_once(' ').unwrap();
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    (child, url.to_string(), token.to_string(), host)
}

/// Ends the child started by [`start_server`]; it must exit successfully.
fn stop_server(mut child: std::process::Child) {
    child.stdin.take().unwrap().write_all(b"done\n").unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exec --server ended with {status}");
}

/// One raw HTTP/1.1 GET; the status code and body.
fn get(url: &str, host: &str, token: Option<&str>) -> (u16, String) {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn the_server_refuses_without_the_token_or_with_a_foreign_host_and_dies_with_the_child() {
    let c = Chain::new();
    let (child, url, token, host) = start_server(&c, "r1");
    let (url, token, host) = (url.as_str(), token.as_str(), host.as_str());
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(token.len() >= 32, "at least 128 bits");

    let (status, body) = get(url, host, None);
    assert_eq!(status, 403, "no token: {body}");
    assert!(!body.contains("SecretAccessKey"), "no token: {body}");
    assert_eq!(get(url, host, Some("wrong-token")).0, 403, "a wrong token");
    assert_eq!(
        get(url, host, Some(&token[..token.len() - 1])).0,
        403,
        "the token's prefix"
    );
    let (status, body) = get(url, "attacker.example:80", Some(token));
    assert_eq!(status, 403, "DNS rebinding: a foreign Host is refused");
    assert!(!body.contains("SecretAccessKey"), "a foreign Host: {body}");

    let (status, body) = get(url, host, Some(token));
    assert_eq!(status, 200, "{body}");
    let creds: serde_json::Value = serde_json::from_str(&body).unwrap();
    for field in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
        assert!(creds[field].is_string(), "{field} in {body}");
    }
    let (status, _) = get(
        url,
        &format!("localhost:{}", host.rsplit(':').next().unwrap()),
        Some(token),
    );
    assert_eq!(status, 200, "Host localhost is ours too");

    stop_server(child);
    assert!(
        std::net::TcpStream::connect(host).is_err(),
        "the server outlived the child"
    );
}

#[test]
fn verbose_runs_leave_no_secret_in_logs_or_files() {
    let c = Chain::new();
    let out = c
        .env
        .broker()
        .args(["-v", "exec", "r2", "--"])
        .args(print_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "exec -v: {}", stderr_of(&out));
    let env = env_map(&stdout_of(&out));
    let session_secret = env["AWS_SECRET_ACCESS_KEY"].clone();
    let token = env["AWS_SESSION_TOKEN"].clone();
    let server = c
        .env
        .broker()
        .args(["-v", "exec", "--server", "r2", "--"])
        .args(shell(
            "echo $AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "echo %AWS_CONTAINER_AUTHORIZATION_TOKEN%",
        ))
        .output()
        .unwrap();
    let server_token = stdout_of(&server).trim().to_string();
    let logs = format!("{}{}", stderr_of(&out), stderr_of(&server));
    assert!(logs.contains("[debug]"), "verbose logging is on: {logs}");
    for secret in [
        &c.key.secret_access_key,
        &session_secret,
        &token,
        &server_token,
    ] {
        assert!(
            !logs.contains(secret.as_str()),
            "secret in the logs: {logs}"
        );
        assert!(
            c.env.files_containing(secret).is_empty(),
            "secret on disk: {:?}",
            c.env.files_containing(secret)
        );
    }
}

#[test]
fn the_server_refreshes_credentials_before_they_expire() {
    let c = Chain::new();
    // Credentials live 10 minutes and min_ttl (1h) is longer than that, so they are reused
    // only while more than half their life (5 minutes) remains.
    c.moto.share_clock(&c.env);
    c.moto.set_lifetime(600);
    c.env.write_broker_config("[session]\nmin_ttl = \"1h\"\n");
    let (child, url, token, host) = start_server(&c, "r1");
    let (url, token, host) = (url.as_str(), token.as_str(), host.as_str());
    let fetch = || -> serde_json::Value {
        let (status, body) = get(url, host, Some(token));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let first = fetch();
    assert_eq!(
        fetch()["AccessKeyId"],
        first["AccessKeyId"],
        "reused while fresh"
    );
    // Six minutes later: in the advisory window (not yet the mandatory last 3 min 20 s), so
    // served at once, and refreshed in the background for the requests after.
    c.env.advance_clock(std::time::Duration::from_secs(360));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let second = loop {
        let answer = fetch();
        if answer["AccessKeyId"] != first["AccessKeyId"] {
            break answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not refreshed before expiry"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let expiry = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v["Expiration"].as_str().unwrap()).unwrap()
    };
    assert!(
        expiry(&second) > expiry(&first),
        "the refreshed credentials expire later"
    );
    stop_server(child);
    assert_eq!(c.moto.count("AssumeRole"), 2, "one refresh");
}
