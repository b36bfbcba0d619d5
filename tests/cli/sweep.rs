//! The secrets sweep: every command, run with `-v`, then the whole test tree (HOME, XDG dirs,
//! TMPDIR, what a syslog daemon received of the audit records and what the audit command got
//! on its stdin and in its environment) and every captured log are searched for the long-term
//! secret, the session secret, the session token and the passphrase. And no process broker
//! starts ever gets a secret in its argv.

use std::path::Path;

use crate::common::moto::{venv, Moto};
use crate::common::syslog::Syslog;
use crate::common::{stderr_of, stdout_of, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::{file_env, store_key, Chain, Federation};

/// Runs broker with -v and keeps its stderr (and stdout, unless it is the credentials).
fn run(env: &TestEnv, logs: &mut String, args: &[&str], keep_stdout: bool) -> std::process::Output {
    let out = env.broker().arg("-v").args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    logs.push_str(&stderr_of(&out));
    if keep_stdout {
        logs.push_str(&stdout_of(&out));
    }
    out
}

#[test]
fn no_secret_in_files_or_logs_after_every_command() {
    let mut c = Chain::new();
    let fed = Federation::start();
    // Every audit record also goes to a real syslog daemon and to an audit command, which
    // keeps its stdin and its environment: all under the swept tree.
    let syslog = Syslog::start(c.env.dir.path());
    c.env.send_syslog_to(&syslog.socket);
    let shipped = c.env.dir.path().join("shipped");
    let ship = c.env.dir.path().join("ship");
    std::fs::write(
        &ship,
        format!("#!/bin/sh\ncat >> {0}\nenv >> {0}.env\n", shipped.display()),
    )
    .unwrap();
    std::fs::set_permissions(&ship, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    c.env.write_broker_config(&format!(
        "[audit]\nsyslog = true\ncommand = [\"{}\"]\n",
        ship.display()
    ));
    let env = &c.env;
    let mut logs = String::new();
    let mut secrets = vec![c.key.secret_access_key.clone(), TEST_PASSPHRASE.to_string()];

    let out = env
        .broker()
        .args(["-v", "add", "--env", "spare"])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "spare-long-term-secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    logs.push_str(&stderr_of(&out));
    secrets.push("spare-long-term-secret".into());

    for format in ["env", "sh", "fish", "powershell", "json", "ini"] {
        run(env, &mut logs, &["export", "--format", format, "r2"], false);
    }
    let json = run(env, &mut logs, &["export", "--format", "json", "r2"], false);
    let creds: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    secrets.push(creds["SecretAccessKey"].as_str().unwrap().to_string());
    secrets.push(creds["SessionToken"].as_str().unwrap().to_string());

    run(env, &mut logs, &["exec", "r2", "--", "true"], true);
    let aws = venv().join("bin/aws");
    let server = run(
        env,
        &mut logs,
        &[
            "exec",
            "--server",
            "r1",
            "--",
            "sh",
            "-c",
            &format!(
                "echo $AWS_CONTAINER_AUTHORIZATION_TOKEN; {} sts get-caller-identity >/dev/null",
                aws.display()
            ),
        ],
        false,
    );
    secrets.push(stdout_of(&server).trim().to_string());

    let out = env
        .broker()
        .args(["-v", "login", "--stdout", "r1"])
        .env("BROKER_FEDERATION_URL", &fed.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    logs.push_str(&stderr_of(&out));
    run(env, &mut logs, &["rotate", "alice"], true);
    let rotated = run(
        env,
        &mut logs,
        &["export", "--format", "json", "--no-session", "alice"],
        false,
    );
    let new_keys: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    secrets.push(new_keys["SecretAccessKey"].as_str().unwrap().to_string());
    run(env, &mut logs, &["history"], true);
    run(env, &mut logs, &["history", "--json"], true);
    run(env, &mut logs, &["list"], true);
    run(env, &mut logs, &["list", "--json"], true);
    run(env, &mut logs, &["clear"], true);

    assert!(logs.contains("[debug]"), "verbose logging was on");
    // Every record reached syslog and the audit command (which run in the background).
    let records = std::fs::read_to_string(env.dir.path().join("state/broker/audit.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert!(records > 10, "{records} records");
    assert_eq!(
        syslog.wait_for(records).len(),
        records,
        "syslog got every record"
    );
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&shipped).map_or(0, |s| s.lines().count()) < records {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the audit command did not get every record"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for secret in &secrets {
        assert!(secret.len() >= 8, "a real secret: {secret:?}");
        assert!(!logs.contains(secret.as_str()), "a secret in the logs");
        assert_eq!(
            env.files_containing(secret),
            Vec::<std::path::PathBuf>::new(),
            "a secret on disk"
        );
    }
}

/// A script that appends its own /proc/self/cmdline (NULs as spaces) to `record`, then runs `then`.
fn recorder(dir: &Path, name: &str, record: &Path, then: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline >> {}\necho >> {}\n{then}\n",
            record.display(),
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

#[test]
fn no_secret_in_the_argv_of_any_process_broker_starts() {
    let c = Chain::new();
    let fed = Federation::start();
    let dir = c.env.dir.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let record = c.env.dir.path().join("argv.log");
    let python = venv().join("bin/python");
    // A browser stand-in: opens the page it is given and follows its refreshes, through the
    // one-time local link, to the federation stand-in.
    let follow = dir.join("follow.py");
    std::fs::write(
        &follow,
        r#"import html, re, sys, urllib.request
url = sys.argv[1]
for _ in range(3):
    page = urllib.request.urlopen(url).read().decode()
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page)
    if not found:
        break
    url = html.unescape(found.group(1))
"#,
    )
    .unwrap();
    recorder(
        &dir,
        "xdg-open",
        &record,
        &format!("{} {} \"$1\"", python.display(), follow.display()),
    );
    let notify = recorder(&dir, "notify", &record, "true");
    let ship = recorder(&dir, "ship", &record, "cat > /dev/null");
    let creds_json = serde_json::json!({"Version": 1, "AccessKeyId": "ASIAPROCESSEXAMPLE01",
        "SecretAccessKey": "process-secret-value", "SessionToken": "process-token-value"});
    let creds_file = c.env.dir.path().join("creds.json");
    std::fs::write(&creds_file, creds_json.to_string()).unwrap();
    let process = recorder(
        &dir,
        "creds",
        &record,
        &format!("cat {}", creds_file.display()),
    );
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(&format!(
        "{config}\n[profile proc]\ncredential_process = {}\n",
        process.display()
    ));
    c.env.write_broker_config(&format!(
        "[audit]\ncommand = [\"{}\"]\n[profile.r1]\nrequire_reason = true\nnotify_command = [\"{}\"]\n",
        ship.display(),
        notify.display()
    ));
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());

    let child = recorder(&dir, "child", &record, "true");
    let mut secrets = vec![
        c.key.secret_access_key.clone(),
        TEST_PASSPHRASE.to_string(),
        "process-secret-value".into(),
        "process-token-value".into(),
    ];
    let out = c
        .env
        .broker()
        .args([
            "exec",
            "--reason",
            "sweep",
            "r1",
            "--",
            "sh",
            "-c",
            "echo $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN; exec \"$0\"",
            child.to_str().unwrap(),
        ])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    secrets.extend(stdout_of(&out).split_whitespace().map(str::to_owned));
    let out = c
        .env
        .broker()
        .args(["export", "proc"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = c
        .env
        .broker()
        .args(["login", "--reason", "sweep", "r1"])
        .env("PATH", &path)
        .env("BROKER_FEDERATION_URL", &fed.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        fed.sessions.lock().unwrap().len(),
        1,
        "the browser stand-in reached the sign-in"
    );

    // mfa_process, on a moto without enforcement (README, Development).
    let moto = Moto::start(None);
    let key = moto.create_user("mia");
    let mfa = recorder(&dir, "mfa", &record, "echo 123456");
    let env = file_env(&moto);
    env.write_aws_config(&format!(
        "[profile mia]\nmfa_serial = arn:aws:iam::123456789012:mfa/mia\nmfa_process = {}\n",
        mfa.display()
    ));
    store_key(&env, "mia", &key.access_key_id, &key.secret_access_key);
    let out = env
        .broker()
        .args(["export", "--format", "json", "mia"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    secrets.push(key.secret_access_key.clone());
    secrets.push("123456".into());

    // The audit command runs in the background: wait for its runs (one per record).
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&record).map_or(0, |a| a.matches("/ship").count()) < 5 {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let argv = std::fs::read_to_string(&record).unwrap();
    for started in [
        "/xdg-open file:///",
        "/notify",
        "/creds",
        "/child",
        "/mfa",
        "/ship",
    ] {
        assert!(argv.contains(started), "{started} did not run: {argv}");
    }
    for secret in &secrets {
        assert!(
            !argv.contains(secret.as_str()),
            "a secret in an argv: {argv}"
        );
    }
    assert!(
        !argv.contains("SigninToken") && !argv.contains("http://127.0.0.1:"),
        "the sign-in token and the one-time link stay out of argv: {argv}"
    );
}
