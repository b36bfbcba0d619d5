//! The hostile-input corpus (README, Safety): every case gets its exit status and a one-line message
//! naming the cause, never a panic, and afterwards the vault and the cache still work. The
//! messages of each group of cases are pinned whole in one snapshot.

use crate::common::moto::Moto;
use std::sync::Mutex;

use crate::common::{rig_test, stderr_of, stdout_of, transcribe, unique, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::{export_json, role_arn, store_key};

/// A moto without enforcement, keys in an OS store (the kernel keyring on Linux, the
/// Credential Manager on Windows) under a unique profile name, and a role profile whose
/// credentials are cached before the first case.
struct Corpus {
    moto: Moto,
    env: TestEnv,
    user: String,
    good_config: String,
    cached: serde_json::Value,
    /// The transcript of every case so far, for the snapshot of the group.
    transcripts: Mutex<Vec<String>>,
}

impl Corpus {
    fn new() -> Corpus {
        let moto = Moto::start(None);
        let key = moto.create_user("eve");
        let user = unique("eve");
        let env = TestEnv::new()
            .env("AWS_ENDPOINT_URL", &moto.endpoint())
            .env(
                "BROKER_BACKEND",
                if cfg!(windows) { "wincred" } else { "keyutils" },
            )
            .env("BROKER_STS_TIMEOUT", "3s");
        env.name_as(&moto.endpoint(), "http://127.0.0.1:[moto port]");
        env.name_as(&user, "[eve]");
        let good_config = format!(
            "[profile {user}]\nregion = eu-west-1\n\n[profile good]\nrole_arn = {}\nsource_profile = {user}\n",
            role_arn("good")
        );
        env.write_aws_config(&good_config);
        store_key(&env, &user, &key.access_key_id, &key.secret_access_key);
        let cached = export_json(&env, &["good"]);
        Corpus {
            moto,
            env,
            user,
            good_config,
            cached,
            transcripts: Mutex::new(Vec::new()),
        }
    }

    /// Runs one case: `setup` breaks something, `args` run, the error is checked (its message
    /// goes into the group's snapshot), the damage is undone, and the vault and cache must still
    /// work.
    fn case(&self, name: &str, setup: impl FnOnce(&TestEnv), args: &[&str], code: i32) {
        self.case_with_env(name, setup, &[], args, code);
    }

    fn case_with_env(
        &self,
        name: &str,
        setup: impl FnOnce(&TestEnv),
        vars: &[(&str, &str)],
        args: &[&str],
        code: i32,
    ) {
        setup(&self.env);
        let mut cmd = self.env.broker();
        cmd.envs(vars.iter().copied()).args(args);
        let (out, transcript) = transcribe(&self.env, &mut cmd);
        self.transcripts
            .lock()
            .unwrap()
            .push(format!("# {name}\n{transcript}"));
        let err = stderr_of(&out);
        assert!(!err.contains("panicked"), "{name}: panic: {err}");
        assert_eq!(out.status.code(), Some(code), "{name}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("broker: error: "), "{name}: {err}");
        assert!(
            !first.chars().any(char::is_control),
            "{name}: raw control character: {first:?}"
        );
        assert!(
            err.lines()
                .skip(1)
                .all(|l| l.starts_with("caused by: ") || l.starts_with("hint: ")),
            "{name}: more than one line of error: {err}"
        );
        assert!(
            stdout_of(&out).is_empty(),
            "{name}: stdout: {}",
            stdout_of(&out)
        );
        self.restore();
        self.still_works(name);
    }

    /// The transcripts of every case so far, for a snapshot.
    fn transcripts(&self) -> String {
        self.transcripts.lock().unwrap().join("\n")
    }

    fn restore(&self) {
        self.env.write_aws_config(&self.good_config);
        let _ = std::fs::remove_file(self.env.broker_config());
        let _ = std::fs::remove_file(self.env.home().join(".aws/credentials"));
    }

    fn still_works(&self, name: &str) {
        let assumed = self.moto.count("AssumeRole");
        assert_eq!(
            export_json(&self.env, &["good"]),
            self.cached,
            "{name}: cache lost"
        );
        assert_eq!(
            self.moto.count("AssumeRole"),
            assumed,
            "{name}: cache not used"
        );
        let keys = export_json(&self.env, &["--no-session", &self.user]);
        assert!(
            keys["AccessKeyId"].as_str().unwrap().starts_with("AKIA"),
            "{name}: vault lost"
        );
    }
}

fn aws_config(text: &str) -> impl FnOnce(&TestEnv) + '_ {
    move |env| env.write_aws_config(text)
}

fn broker_config(text: &str) -> impl FnOnce(&TestEnv) + '_ {
    move |env| env.write_broker_config(text)
}

fn nothing(_: &TestEnv) {}

rig_test!(
    "its corpus runs a Unix command (sh -c) and pins its words",
    fn malformed_aws_files_and_bad_profiles() {
        let c = Corpus::new();
        let arn = role_arn("x");
        c.case(
            "section",
            aws_config("[profile a]\n[profile broken\n"),
            &["export", "a"],
            1,
        );
        c.case(
            "property outside a section",
            aws_config("region = us-east-1\n[profile a]\n"),
            &["export", "a"],
            1,
        );
        c.case(
            "credentials file",
            |env: &TestEnv| {
                std::fs::write(
                    env.home().join(".aws/credentials"),
                    "[x\naws_access_key_id = A\n",
                )
                .unwrap()
            },
            &["export", "good"],
            1,
        );
        c.case(
            "non-UTF-8 config",
            |env: &TestEnv| {
                std::fs::write(env.aws_config(), b"[profile a]\nregion = \xff\xfe\n").unwrap()
            },
            &["export", "a"],
            1,
        );
        let cycle1 = format!("[profile a]\nrole_arn = {arn}\nsource_profile = a\n");
        // Naming itself, a profile means its own keys (as in the AWS CLI): none are stored here.
        c.case("source of itself", aws_config(&cycle1), &["export", "a"], 1);
        let cycle2 = format!("[profile a]\nrole_arn = {arn}\nsource_profile = b\n[profile b]\nrole_arn = {arn}\nsource_profile = a\n");
        c.case("cycle of 2", aws_config(&cycle2), &["export", "a"], 1);
        let cycle3 = format!(
        "[profile a]\nrole_arn = {arn}\nsource_profile = b\n[profile b]\nrole_arn = {arn}\nsource_profile = c\n[profile c]\nrole_arn = {arn}\nsource_profile = a\n"
    );
        c.case("cycle of 3", aws_config(&cycle3), &["export", "a"], 1);
        let include_cycle = format!(
        "[profile a]\nrole_arn = {arn}\ninclude_profile = b\n[profile b]\ninclude_profile = a\n"
    );
        c.case(
            "include_profile cycle",
            aws_config(&include_cycle),
            &["export", "a"],
            1,
        );
        let tags = format!("[profile a]\nrole_arn = {arn}\nsession_tags = k=\u{1b}[2J,oops\n");
        c.case(
            "malformed session_tags with a control character",
            aws_config(&tags),
            &["export", "a"],
            1,
        );
        let missing = format!("[profile a]\nrole_arn = {arn}\nsource_profile = ghost\n");
        c.case("missing source", aws_config(&missing), &["export", "a"], 1);
        c.case(
            "malformed ARN",
            aws_config("[profile a]\nrole_arn = arn:aws:iam::12:role/x\nsource_profile = a\n"),
            &["export", "a"],
            1,
        );
        c.case(
            "user ARN as role",
            aws_config("[profile a]\nrole_arn = arn:aws:iam::123456789012:user/x\n"),
            &["export", "a"],
            1,
        );
        c.case(
            "web identity without role",
            aws_config("[profile a]\nweb_identity_token_file = /tmp/t\n"),
            &["export", "a"],
            1,
        );
        let bad_secs = format!("[profile a]\nrole_arn = {arn}\nduration_seconds = soon\n");
        c.case(
            "duration_seconds not a number",
            aws_config(&bad_secs),
            &["export", "a"],
            1,
        );
        let long_secs = format!("[profile a]\nrole_arn = {arn}\nduration_seconds = 99999\n");
        c.case(
            "duration_seconds out of range",
            aws_config(&long_secs),
            &["export", "a"],
            1,
        );
        c.case(
            "control characters in a region",
            aws_config("[profile a]\nregion = us-east-1\u{1b}[2J\n"),
            &["export", "a"],
            1,
        );
        c.case("unknown profile", nothing, &["export", "nobody"], 1);
        c.case(
            "control characters in a profile name",
            nothing,
            &["export", "ev\u{1b}[31mil"],
            1,
        );
        c.case(
            "credential_process garbage",
            aws_config("[profile a]\ncredential_process = echo not-json\n"),
            &["export", "a"],
            1,
        );
        c.case(
            "credential_process failing",
            aws_config("[profile a]\ncredential_process = sh -c 'exit 4'\n"),
            &["export", "a"],
            1,
        );
        insta::assert_snapshot!(c.transcripts());
    }
);

rig_test!(
    fn bad_settings_and_flags() {
        let c = Corpus::new();
        c.case(
            "unknown key",
            broker_config("[session]\nmin_tll = \"1m\"\n"),
            &["export", "good"],
            1,
        );
        c.case(
            "bad type",
            broker_config("[profile.good]\nbreak_glass = \"yes\"\n"),
            &["export", "good"],
            1,
        );
        c.case(
            "bad duration in config",
            broker_config("[session]\nmin_ttl = \"soon\"\n"),
            &["export", "good"],
            1,
        );
        c.case(
            "unknown backend",
            broker_config("backend = \"floppy\"\n"),
            &["export", "good"],
            1,
        );
        c.case(
            "TOML syntax",
            broker_config("[session\n"),
            &["export", "good"],
            1,
        );
        c.case(
            "invalid --duration",
            nothing,
            &["export", "--duration", "5x", "good"],
            2,
        );
        c.case(
            "--duration too short",
            nothing,
            &["export", "--duration", "10m", "good"],
            2,
        );
        c.case(
            "--duration too long",
            nothing,
            &["export", "--duration", "48h", "good"],
            2,
        );
        c.case(
            "--duration overflow",
            nothing,
            &["export", "--duration", "99999999999999999999s", "good"],
            2,
        );
        c.case(
            "unknown --format",
            nothing,
            &["export", "--format", "yaml", "good"],
            2,
        );
        c.case("unknown flag", nothing, &["export", "--bogus", "good"], 2);
        c.case(
            "MFA code not digits",
            nothing,
            &["export", "--mfa-token", "12ab56", "good"],
            2,
        );
        insta::assert_snapshot!(c.transcripts());
    }
);

/// An argument that is not valid Unicode: a stray byte on Unix, an unpaired surrogate on
/// Windows.
fn not_unicode() -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b"bad\xffname").to_owned()
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        // A lone surrogate, where Unix's test has a byte that is not UTF-8.
        let mut wide: Vec<u16> = "bad".encode_utf16().collect();
        wide.push(0xD800);
        wide.extend("name".encode_utf16());
        std::ffi::OsString::from_wide(&wide)
    }
}

rig_test!(
    fn non_utf8_arguments_are_usage_errors() {
        let c = Corpus::new();
        let (_, transcript) = transcribe(&c.env, c.env.broker().arg("export").arg(not_unicode()));
        insta::assert_snapshot!(transcript);
        c.still_works("non-UTF-8 argument");
    }
);

rig_test!(
    fn broken_sts_endpoints() {
        let c = Corpus::new();
        let fresh = ["export", "--refresh", "good"];
        let moto = &c.moto;
        let inject = |action: &'static str, mode: &'static str, times: u32| {
            move |_: &TestEnv| moto.fail_next(action, mode, times)
        };
        c.case("500s", inject("AssumeRole", "500", 3), &fresh, 1);
        c.case("garbage", inject("AssumeRole", "garbage", 1), &fresh, 1);
        c.case("throttled", inject("AssumeRole", "throttle", 3), &fresh, 1);
        let started = std::time::Instant::now();
        c.case("hangs", inject("AssumeRole", "hang", 1), &fresh, 1);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "bounded by BROKER_STS_TIMEOUT"
        );
        let refused = crate::common::RefusedPort::new();
        let closed = refused.url();
        c.env.name_as(&closed, "http://127.0.0.1:[refused port]");
        c.case_with_env(
            "closed",
            nothing,
            &[("AWS_ENDPOINT_URL_STS", &closed)],
            &fresh,
            1,
        );
        insta::assert_snapshot!(c.transcripts());
    }
);

rig_test!(
    fn one_throttled_answer_is_retried() {
        let c = Corpus::new();
        c.moto.fail_next("AssumeRole", "throttle", 1);
        let creds = export_json(&c.env, &["--refresh", "good"]);
        assert_ne!(creds, c.cached);
        assert_eq!(
            c.moto.count("AssumeRole"),
            3,
            "the first try, the throttled one, the retry"
        );
    }
);

rig_test!(
    "its corpus runs Unix commands (sh, sleep) and pins their words",
    fn failing_and_hanging_mfa_process() {
        let c = Corpus::new();
        let serial = "arn:aws:iam::123456789012:mfa/eve";
        let fails = format!("[profile m]\nmfa_serial = {serial}\nmfa_process = exit 3\n");
        let hangs = format!("[profile m]\nmfa_serial = {serial}\nmfa_process = sleep 30\n");
        let with_keys = |config: String| {
            move |env: &TestEnv| {
                env.write_aws_config(&config);
                store_key(env, "m", "AKIAIOSFODNN7EXAMPLE", "x");
            }
        };
        c.case("mfa_process fails", with_keys(fails), &["export", "m"], 1);
        let started = std::time::Instant::now();
        c.case(
            "mfa_process hangs",
            |env: &TestEnv| {
                with_keys(hangs)(env);
                env.write_broker_config("[mfa]\nprocess_timeout = \"1s\"\n");
            },
            &["export", "m"],
            1,
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
        insta::assert_snapshot!(c.transcripts());
    }
);

rig_test!(
    "its corpus runs Unix commands (cat /dev/zero, yes, sh) and pins their words",
    /// A `credential_process` that never stops printing, or never finishes: stopped at 64 KiB or
    /// after `[credential_process] timeout`, with everything it started, in one line naming the
    /// profile.
    fn endless_and_hanging_credential_process() {
        let c = Corpus::new();
        for (name, command) in [("zero", "cat /dev/zero"), ("yes", "yes")] {
            let started = std::time::Instant::now();
            c.case(
                &format!("credential_process = {command}"),
                aws_config(&format!(
                    "[profile {name}]\ncredential_process = {command}\n"
                )),
                &["export", name],
                1,
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{command}: {:?}",
                started.elapsed()
            );
        }
        let pid = c.env.dir.path().join("background.pid");
        let hangs = format!(
            "[profile hangs]\ncredential_process = sh -c 'sleep 60 & echo $! > {}; sleep 60'\n",
            pid.display()
        );
        let started = std::time::Instant::now();
        c.case(
            "credential_process hangs",
            |env: &TestEnv| {
                env.write_aws_config(&hangs);
                env.write_broker_config("[credential_process]\ntimeout = \"1s\"\n");
            },
            &["export", "hangs"],
            1,
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
        // What it started in the background was stopped too.
        let background = std::fs::read_to_string(&pid).unwrap();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{}", background.trim()));
        let waiting = std::time::Instant::now();
        while std::fs::read_to_string(proc_dir.join("stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
        {
            assert!(
                waiting.elapsed() < std::time::Duration::from_secs(10),
                "the background sleep of the credential_process still runs"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        insta::assert_snapshot!(c.transcripts());
    }
);

/// The file backend: wrong and empty passphrases, a truncated or garbage vault file.
#[test]
fn damaged_file_vault() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile a]\n[profile b]\n");
    store_key(&env, "a", "AKIAIOSFODNN7EXAMPLE", "secret-a");
    store_key(&env, "b", "AKIAIOSFODNN7EXAMPLF", "secret-b");
    let item = |p: &str| env.file_vault_dir().join(format!("keys%3A{p}.age"));
    let run = |args: &[&str], pass: &str| {
        env.broker()
            .args(args)
            .env("BROKER_FILE_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    let check =
        |out: std::process::Output, needle: &str| crate::common::assert_error(&out, 1, needle);
    check(
        run(&["export", "--no-session", "a"], "wrong"),
        "wrong passphrase for the file vault",
    );
    check(
        run(&["export", "--no-session", "a"], ""),
        "the file vault needs a passphrase",
    );
    let bytes = std::fs::read(item("b")).unwrap();
    std::fs::write(item("b"), &bytes[..bytes.len() / 2]).unwrap();
    check(
        run(&["export", "--no-session", "b"], TEST_PASSPHRASE),
        "vault item keys:b",
    );
    std::fs::write(item("b"), b"\x00garbage\xff").unwrap();
    check(
        run(&["export", "--no-session", "b"], TEST_PASSPHRASE),
        "is damaged",
    );
    // An item asking for more scrypt work than broker ever writes is named for what it is.
    let intact = std::fs::read(item("a")).unwrap();
    // The scrypt stanza's line, `-> scrypt SALT WORK-FACTOR`, asking for 2^40.
    let stanza = intact
        .windows(10)
        .position(|w| w == b"-> scrypt ")
        .expect("a scrypt stanza");
    let end = stanza + intact[stanza..].iter().position(|b| *b == b'\n').unwrap();
    let factor = stanza
        + intact[stanza..end]
            .iter()
            .rposition(|b| *b == b' ')
            .unwrap()
        + 1;
    let mut heavy = intact.clone();
    heavy.splice(factor..end, *b"40");
    std::fs::write(item("a"), &heavy).unwrap();
    check(
        run(&["export", "--no-session", "a"], TEST_PASSPHRASE),
        "uses encryption parameters broker does not open: its scrypt work factor is 2^40",
    );
    std::fs::write(item("a"), &intact).unwrap();
    // The rest of the vault is intact, and the damaged item can be stored again.
    let keys = export_json(&env, &["--no-session", "a"]);
    assert_eq!(keys["SecretAccessKey"], "secret-a");
    store_key(&env, "b", "AKIAIOSFODNN7EXAMPLF", "secret-b");
    assert_eq!(
        export_json(&env, &["--no-session", "b"])["SecretAccessKey"],
        "secret-b"
    );
}
