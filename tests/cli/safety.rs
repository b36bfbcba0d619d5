//! What broker starts, what it touches, and what it refuses to trust: children without the
//! file vault's passphrase and with the caller's umask, directories broker did not create left
//! alone, special files refused quickly, races under locks, and memory kept from debuggers.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::moto::Moto;
use crate::common::{assert_error, broker_bin, stderr_of, stdout_of, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::{file_env, fixed_process_env, store_key, Chain};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A script that writes its environment to `DIR/NAME.env` and its umask to `DIR/NAME.umask`,
/// then runs `then`.
fn dumper(dir: &Path, name: &str, then: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nenv > {dir}/{name}.env\numask > {dir}/{name}.umask\n{then}\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    chmod(&path, 0o755);
    path
}

/// `broker ARGS` started by a shell whose umask is 027.
fn with_umask_027(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.command("sh")
        .args(["-c", "umask 027; exec \"$0\" \"$@\""])
        .arg(broker_bin())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn no_child_gets_the_passphrase_and_every_child_gets_the_callers_umask() {
    let c = Chain::new();
    let dir = c.env.dir.path().join("dumps");
    std::fs::create_dir_all(&dir).unwrap();
    let creds = c.env.dir.path().join("creds.json");
    std::fs::write(
        &creds,
        serde_json::json!({"Version": 1, "AccessKeyId": "ASIAPROCESSEXAMPLE01",
            "SecretAccessKey": "process-secret", "SessionToken": "process-token",
            "Expiration": "2030-01-01T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    let config = std::fs::read_to_string(c.env.aws_config()).unwrap();
    c.env.write_aws_config(&format!(
        "{config}\n[profile proc]\ncredential_process = {}\n",
        dumper(
            &dir,
            "credential_process",
            &format!("cat {}", creds.display())
        )
        .display()
    ));
    c.env.write_broker_config(&format!(
        "[profile.r1]\nnotify_command = [\"{}\"]\n",
        dumper(&dir, "notify", "true").display()
    ));
    for args in [
        vec![
            "exec",
            "r1",
            "--",
            dumper(&dir, "exec", "true").to_str().unwrap(),
        ],
        vec![
            "exec",
            "--server",
            "r2",
            "--",
            dumper(&dir, "server", "true").to_str().unwrap(),
        ],
        vec!["export", "proc"],
    ] {
        let out = with_umask_027(&c.env, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    }

    // mfa_process, on a moto without enforcement.
    let moto = Moto::start(None);
    let key = moto.create_user("mia");
    let env = file_env(&moto);
    env.write_aws_config(&format!(
        "[profile mia]\nmfa_serial = arn:aws:iam::123456789012:mfa/mia\nmfa_process = {}\n",
        dumper(&dir, "mfa_process", "echo 123456").display()
    ));
    store_key(&env, "mia", &key.access_key_id, &key.secret_access_key);
    let out = with_umask_027(&env, &["export", "mia"]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    for child in [
        "exec",
        "server",
        "notify",
        "credential_process",
        "mfa_process",
    ] {
        let environ = std::fs::read_to_string(dir.join(format!("{child}.env")))
            .unwrap_or_else(|_| panic!("{child} did not run"));
        assert!(
            !environ.contains("BROKER_FILE_PASSPHRASE=") && !environ.contains(TEST_PASSPHRASE),
            "{child} got the passphrase"
        );
        assert!(
            environ.contains("BROKER_BACKEND=file"),
            "{child}: {environ}"
        );
        let umask = std::fs::read_to_string(dir.join(format!("{child}.umask"))).unwrap();
        assert_eq!(umask.trim(), "0027", "{child} lost the caller's umask");
    }

    // A program run through broker cannot read the long-term key back out of the vault.
    let out = c
        .env
        .broker()
        .args(["exec", "r1", "--"])
        .arg(broker_bin())
        .args(["export", "--no-session", "--format", "json", "alice"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("the file vault needs a passphrase"));
    assert!(!stdout_of(&out).contains(&c.key.secret_access_key));
}

#[test]
fn the_passphrase_comes_from_a_private_file_or_a_command() {
    let env = TestEnv::new().env("BROKER_BACKEND", "file");
    env.write_aws_config("[profile pat]\n");
    let file = env.dir.path().join("passphrase");
    std::fs::write(&file, format!("{TEST_PASSPHRASE}\n")).unwrap();
    chmod(&file, 0o600);
    let add = env
        .broker()
        .args(["add", "--env", "pat"])
        .env("BROKER_FILE_PASSPHRASE_FILE", &file)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "pat-secret")
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", stderr_of(&add));
    // The same vault opens with the environment variable: the trailing newline was dropped.
    let export = |cmd: &mut assert_cmd::Command| {
        cmd.args(["export", "--no-session", "--format", "json", "pat"])
            .output()
            .unwrap()
    };
    let out = export(env.broker().env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE));
    assert!(out.status.success(), "{}", stderr_of(&out));

    chmod(&file, 0o644);
    let out = export(env.broker().env("BROKER_FILE_PASSPHRASE_FILE", &file));
    assert_error(&out, 1, "other users can read it (mode 644)");

    env.write_broker_config(&format!(
        "[file]\npassphrase_command = \"printf '%s\\\\n' '{TEST_PASSPHRASE}'\"\n"
    ));
    let out = export(&mut env.broker());
    assert!(out.status.success(), "{}", stderr_of(&out));
    env.write_broker_config("[file]\npassphrase_command = \"exit 3\"\n");
    let out = export(&mut env.broker());
    assert_error(
        &out,
        1,
        "passphrase_command failed: it exited with exit status: 3",
    );
}

#[test]
fn directories_broker_did_not_create_keep_their_modes() {
    let env = fixed_process_env("secret");
    let shared = env.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    env.write_broker_config(&format!(
        "[audit]\npath = \"{}/audit.jsonl\"\n",
        shared.display()
    ));
    let out = env.broker().args(["export", "fixed"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        mode(&shared),
        0o1777,
        "the shared directory keeps its sticky bit"
    );
    assert_eq!(mode(&shared.join("audit.jsonl")), 0o600);

    chmod(&env.home(), 0o755);
    env.write_broker_config("[audit]\npath = \"~/audit.jsonl\"\n");
    let out = env.broker().args(["export", "fixed"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(mode(&env.home()), 0o755, "$HOME keeps its mode");

    // A vault directory of the user's choosing is used as it is, or refused when loose.
    let vault = env.dir.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    chmod(&vault, 0o755);
    let add = |env: &TestEnv| {
        env.broker()
            .args(["add", "--env", "--backend", "file", "someone"])
            .env("BROKER_FILE_DIR", &vault)
            .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .output()
            .unwrap()
    };
    let out = add(&env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(mode(&vault), 0o755);
    chmod(&vault, 0o777);
    assert_error(&add(&env), 1, "writable by other users");
    assert_eq!(mode(&vault), 0o777);

    // An audit log that is a symbolic link is not followed.
    let elsewhere = env.dir.path().join("elsewhere");
    std::fs::write(&elsewhere, "").unwrap();
    let log = env.dir.path().join("state/broker/audit.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &log).unwrap();
    let _ = std::fs::remove_file(env.broker_config());
    let out = env.broker().args(["export", "fixed"]).output().unwrap();
    assert_error(&out, 1, "cannot write the audit log");
    assert!(stderr_of(&out).contains("symbolic link"));
    assert!(
        stdout_of(&out).is_empty(),
        "nothing issued without an audit"
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "");
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn special_files_are_quick_one_line_errors() {
    let env = fixed_process_env("secret");
    let fifo = env.dir.path().join("fifo");
    mkfifo(&fifo);
    let big = env.dir.path().join("big");
    std::fs::write(&big, vec![b'#'; 9 << 20]).unwrap();
    let dir = env.dir.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let cases: [(&str, &Path, &str); 6] = [
        ("AWS_CONFIG_FILE", &fifo, "not a regular file"),
        (
            "AWS_CONFIG_FILE",
            Path::new("/dev/zero"),
            "not a regular file",
        ),
        (
            "AWS_CONFIG_FILE",
            Path::new("/dev/urandom"),
            "not a regular file",
        ),
        ("AWS_CONFIG_FILE", &dir, "not a regular file"),
        ("AWS_CONFIG_FILE", &big, "larger than 8 MiB"),
        ("BROKER_CONFIG", &fifo, "not a regular file"),
    ];
    for (var, path, needle) in cases {
        let started = Instant::now();
        let out = env
            .broker()
            .args(["export", "fixed"])
            .env(var, path)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert_error(&out, 1, needle);
        assert!(stderr_of(&out).lines().count() <= 2, "{}", stderr_of(&out));
        assert!(started.elapsed() < Duration::from_secs(5), "{var}={path:?}");
    }
    env.write_broker_config(&format!("[audit]\npath = \"{}\"\n", fifo.display()));
    let out = env
        .broker()
        .args(["export", "fixed"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_error(&out, 1, "cannot write the audit log");
}

#[test]
fn a_cache_entry_that_is_a_fifo_is_replaced_not_read() {
    let c = Chain::new();
    let first = crate::fixtures::export_json(&c.env, &["r1"]);
    let sessions = c.env.dir.path().join("cache/broker/sessions");
    let entry = std::fs::read_dir(&sessions)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("r1.role."))
        .unwrap();
    std::fs::remove_file(&entry).unwrap();
    mkfifo(&entry);
    let out = c
        .env
        .broker()
        .args(["export", "--format", "json", "r1"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(first["AccessKeyId"], second["AccessKeyId"], "made anew");
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());
}

#[test]
fn two_first_adds_at_once_never_mix_passphrases() {
    for round in 0..5 {
        // The real work factor: the two adds overlap for as long as a user's would.
        let env = TestEnv::new()
            .real_work_factor()
            .env("BROKER_BACKEND", "file");
        let adds: Vec<_> = ["one", "two"]
            .iter()
            .map(|name| {
                env.std_command(broker_bin())
                    .args(["add", "--env", name])
                    .env("BROKER_FILE_PASSPHRASE", format!("passphrase {name}"))
                    .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
                    .env("AWS_SECRET_ACCESS_KEY", format!("secret-{name}"))
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let ok: Vec<bool> = adds
            .into_iter()
            .map(|mut c| c.wait().unwrap().success())
            .collect();
        assert_eq!(
            ok.iter().filter(|o| **o).count(),
            1,
            "round {round}: {ok:?}"
        );
        // Every item of the vault opens with the winner's passphrase.
        let winner = if ok[0] { "one" } else { "two" };
        let items = std::fs::read_dir(env.file_vault_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".age"))
            .count();
        assert_eq!(items, 1, "round {round}");
        let out = env
            .broker()
            .args(["export", "--no-session", winner])
            .env("BROKER_FILE_PASSPHRASE", format!("passphrase {winner}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "round {round}: {}", stderr_of(&out));
    }
}

#[test]
fn concurrent_adds_keep_every_section_and_write_through_a_symlink() {
    let env = TestEnv::new().env("BROKER_BACKEND", "keyutils");
    let target = env.dir.path().join("dotfiles-aws-config");
    std::fs::write(&target, "# my dotfiles\n[default]\nregion = eu-west-1\n").unwrap();
    chmod(&target, 0o644);
    std::fs::remove_file(env.aws_config()).ok();
    std::os::unix::fs::symlink(&target, env.aws_config()).unwrap();
    let names: Vec<String> = (0..8)
        .map(|i| crate::common::unique(&format!("p{i}")))
        .collect();
    let adds: Vec<_> = names
        .iter()
        .map(|name| {
            env.std_command(broker_bin())
                .args(["add", "--env", name])
                .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
                .env("AWS_SECRET_ACCESS_KEY", "secret")
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut add in adds {
        assert!(add.wait().unwrap().success());
    }
    assert!(std::fs::symlink_metadata(env.aws_config())
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("# my dotfiles\n[default]\nregion = eu-west-1\n"),
        "{text}"
    );
    for name in &names {
        assert_eq!(
            text.matches(&format!("[profile {name}]")).count(),
            1,
            "{text}"
        );
    }
    assert_eq!(mode(&target), 0o644);
    for name in &names {
        let _ = env.broker().args(["remove", "-f", name]).output();
    }
}

#[test]
fn broker_is_not_dumpable() {
    assert_eq!(
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() },
        0,
        "this test runs broker as another user (uid 65534) with setpriv, which needs root"
    );
    let env = fixed_process_env("secret");
    // Everything of the test's tree belongs to the unprivileged user who runs broker.
    let status = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(env.dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = env
        .std_command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(broker_bin())
        .args(["exec", "--server", "fixed", "--", "sleep", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) is needed");
    let pid = child.id();
    // Wait until setpriv has exec'ed broker and broker has made itself non-dumpable, which
    // hands the files of /proc/PID (not the directory) to root.
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let owner = || {
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(proc_dir.join("status")).unwrap())
    };
    let started = Instant::now();
    let status = loop {
        let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
        if status.contains("Name:\tbroker") && owner() == 0 {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "broker (uid 65534) still owns /proc/{pid}/status, so it is dumpable: {status} {}",
                stderr_of(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.contains("Uid:\t65534"), "{status}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn history_escapes_what_could_disguise_itself_and_blank_reasons_count_as_none() {
    let env = fixed_process_env("secret");
    env.write_broker_config("[profile.fixed]\nrequire_reason = true\n");
    let out = env
        .broker()
        .args(["export", "--reason", " \u{200B}\u{202E} ", "fixed"])
        .output()
        .unwrap();
    assert_error(&out, 1, "profile fixed requires a reason");
    let reason = "INC-1 \u{202E}txt.exe\u{85} \u{2028}x";
    let out = env
        .broker()
        .args(["export", "--reason", reason, "fixed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let table = stdout_of(&env.broker().arg("history").output().unwrap());
    assert!(
        table.contains("INC-1 \\u{202e}txt.exe\\u{85} \\u{2028}x"),
        "{table}"
    );
    let json = stdout_of(&env.broker().args(["history", "--json"]).output().unwrap());
    let last = json.lines().last().unwrap();
    assert!(
        !last.contains(['\u{85}', '\u{202E}', '\u{2028}']),
        "raw invisible characters: {last}"
    );
    assert!(
        last.contains("\\u202e") && last.contains("\\u0085"),
        "{last}"
    );
    let record: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(record["reason"], reason);
}

#[test]
fn exec_server_refuses_long_term_keys_before_starting_the_child() {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
    env.write_aws_config("[profile plain]\n");
    store_key(&env, "plain", "AKIAIOSFODNN7EXAMPLE", "plain-secret");
    let marker = env.dir.path().join("child-ran");
    let out = env
        .broker()
        .args(["exec", "--server", "--no-session", "plain", "--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    assert_error(&out, 1, "exec --server cannot serve plain's long-term keys");
    assert!(!marker.exists(), "the child was started");
}

/// A user with an MFA device on a moto without enforcement (see README: moto does not accept
/// its own session tokens while enforcing).
fn mfa_env() -> (Moto, TestEnv) {
    let moto = Moto::start(None);
    let key = moto.create_user("tom");
    let env = file_env(&moto);
    env.write_aws_config("[profile tom]\nmfa_serial = arn:aws:iam::123456789012:mfa/tom\n");
    store_key(&env, "tom", &key.access_key_id, &key.secret_access_key);
    (moto, env)
}

#[test]
fn dash_t_dash_reads_the_code_from_stdin_and_leaves_the_rest_to_the_child() {
    let (moto, env) = mfa_env();
    let out = env
        .broker()
        .args(["exec", "-t", "-", "tom", "--", "cat"])
        .write_stdin("246810\nfor the child\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(moto.requests("GetSessionToken")[0]["TokenCode"], "246810");
    assert_eq!(stdout_of(&out), "for the child\n", "one line was taken");

    let out = env
        .broker()
        .args(["export", "--refresh", "-t", "-", "tom"])
        .write_stdin("not a code\n")
        .output()
        .unwrap();
    assert_error(&out, 1, "the MFA code must be 6 digits");
    let out = env
        .broker()
        .args(["export", "--refresh", "-t", "-", "tom"])
        .output()
        .unwrap();
    assert_error(&out, 1, "the MFA code must be 6 digits");
}

#[test]
fn a_code_in_the_argv_of_a_long_running_exec_server_is_wiped() {
    let (moto, env) = mfa_env();
    let child = env
        .std_command(broker_bin())
        .args(["exec", "--server", "--mfa-token", "135790", "tom", "--"])
        .args(["sleep", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let cmdline = PathBuf::from(format!("/proc/{}/cmdline", child.id()));
    let started = Instant::now();
    // Wiped by the time the code is used: the server's first credentials are made before the
    // child starts.
    while moto.requests("GetSessionToken").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no GetSessionToken"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown = String::from_utf8_lossy(&std::fs::read(&cmdline).unwrap()).replace('\0', " ");
    // SIGTERM, which broker passes on to its child: both end now.
    // SAFETY: signals the broker this test started and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(moto.requests("GetSessionToken")[0]["TokenCode"], "135790");
    assert!(
        shown.contains("--mfa-token xxxxxx tom -- sleep 30"),
        "{shown} {}",
        stderr_of(&out)
    );
    assert!(!shown.contains("135790"), "{shown}");
}

#[test]
fn invisible_reasons_are_no_reasons_and_what_is_stored_is_escaped() {
    let env = fixed_process_env("secret");
    env.write_broker_config("[profile.fixed]\nrequire_reason = true\n");
    for invisible in [
        "\u{3164}\u{3164}\u{3164}\u{3164}",
        "\u{115F}\u{115F}\u{115F}",
        "\u{2800}\u{2800}\u{2800}\u{2800}",
        "\u{E0049}\u{E004E}\u{E0043}\u{E0031}",
        "\u{FE0F}\u{034F}\u{FE0F}\u{034F}\u{FE0F}",
        "ok",
    ] {
        let out = env
            .broker()
            .args(["export", "--reason", invisible, "fixed"])
            .output()
            .unwrap();
        assert_error(&out, 1, "profile fixed requires a reason, and `");
        assert!(
            stderr_of(&out)
                .contains("is not one: a reason needs at least 3 visible letters or digits"),
            "{invisible:?}: {}",
            stderr_of(&out)
        );
        assert!(
            !stderr_of(&out).contains(['\u{3164}', '\u{115F}', '\u{E0049}', '\u{FE0F}']),
            "shown raw: {}",
            stderr_of(&out)
        );
    }
    // Refused and audited, the attempt escaped in the record.
    let log = std::fs::read_to_string(env.dir.path().join("state/broker/audit.jsonl")).unwrap();
    assert_eq!(log.matches("\"outcome\":\"refused\"").count(), 6);
    assert!(
        log.contains(r"\\u{e0049}\\u{e004e}"),
        "the attempt is in the record: {log}"
    );
    assert!(
        !log.contains(['\u{3164}', '\u{E0049}', '\u{FE0F}', '\u{034F}']),
        "{log}"
    );

    // A real reason with a hidden tail: accepted, and the tail never shown or stored raw.
    let reason = "INC-7 db down\u{E0020}\u{E0069}\u{E0067}\u{E006E}";
    let out = env
        .broker()
        .args(["export", "--reason", reason, "fixed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let table = stdout_of(&env.broker().arg("history").output().unwrap());
    assert!(
        table.contains("INC-7 db down\\u{e0020}\\u{e0069}\\u{e0067}\\u{e006e}"),
        "{table}"
    );
    let json = stdout_of(&env.broker().args(["history", "--json"]).output().unwrap());
    let last = json.lines().last().unwrap();
    assert!(!last.contains('\u{E0020}'), "{last}");
    let record: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(record["reason"], reason);

    // Where no reason is required, a given one that is not one is left out, with a warning.
    env.write_broker_config("");
    let out = env
        .broker()
        .args(["export", "--reason", "\u{3164}\u{3164}\u{3164}", "fixed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("warning: --reason `\\u{3164}\\u{3164}\\u{3164}` is not recorded"),
        "{}",
        stderr_of(&out)
    );
    let json = stdout_of(&env.broker().args(["history", "--json"]).output().unwrap());
    let record: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(record["reason"], serde_json::Value::Null);
}

#[test]
fn a_cache_directory_of_another_user_is_refused_before_anything_is_made_in_it() {
    assert_eq!(
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() },
        0,
        "this test gives broker's cache directory to another user (nobody), which needs root"
    );
    let c = Chain::new();
    let root = c.env.dir.path().join("cache/broker");
    for foreign in [root.clone(), root.join("sessions")] {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&foreign).unwrap();
        chmod(&foreign, 0o777);
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let out = c
            .env
            .broker()
            .args(["export", "--format", "json", "r1"])
            .output()
            .unwrap();
        assert_error(&out, 1, "owned by another user (uid 65534)");
        assert!(stdout_of(&out).is_empty());
        let made: Vec<_> = std::fs::read_dir(&foreign)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(made.is_empty(), "made in {}: {made:?}", foreign.display());
        // add's lock under the same directory.
        let out = c
            .env
            .broker()
            .args(["add", "--env", "newcomer"])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .output()
            .unwrap();
        if foreign == root {
            crate::common::assert_error_after_notices(&out, 1, "owned by another user (uid 65534)");
        }
        assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 0);
    }
}

#[test]
fn a_dangling_aws_config_symlink_is_an_error_and_stays() {
    let env = TestEnv::new().env("BROKER_BACKEND", "file");
    let target = env.dir.path().join("dotfiles/aws-config");
    std::fs::remove_file(env.aws_config()).ok();
    std::os::unix::fs::symlink(&target, env.aws_config()).unwrap();
    let out = env
        .broker()
        .args(["add", "--env", "dangling"])
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .output()
        .unwrap();
    assert_error(&out, 1, "which does not exist");
    assert!(
        stderr_of(&out).contains("a symbolic link to "),
        "{}",
        stderr_of(&out)
    );
    assert!(std::fs::symlink_metadata(env.aws_config())
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!target.exists(), "its target was made");
    assert!(
        !env.file_vault_dir().exists()
            || std::fs::read_dir(env.file_vault_dir()).unwrap().count() == 0,
        "keys stored despite the error"
    );
}
