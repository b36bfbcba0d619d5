//! add / list / remove on every backend the machine has for real: on Linux the Secret Service
//! (a private gnome-keyring) and the kernel keyring, on macOS the Keychain, on Windows the
//! Credential Manager, and everywhere the age file vault.

use crate::common::{
    assert_error, assert_error_after_notices, assert_private, rig_test, secret_service_bus,
    stderr_of, stdout_of, transcribe, transcript, unique, TestEnv,
};

pub const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// A backend of the operating system that needs no set-up.
const OS_BACKEND: &str = if cfg!(target_os = "macos") {
    "keychain"
} else if cfg!(windows) {
    "wincred"
} else {
    "keyutils"
};
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz-unique-test-secret";

/// `broker add --env` of the test key for `profile` on `backend`.
pub fn add_command(env: &TestEnv, backend: &str, profile: &str) -> assert_cmd::Command {
    let mut cmd = env.broker();
    cmd.args(["add", "--env", "--backend", backend, profile])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
    cmd
}

pub fn add(env: &TestEnv, backend: &str, profile: &str) -> std::process::Output {
    add_command(env, backend, profile).output().unwrap()
}

fn list_json(env: &TestEnv, backend: &str) -> serde_json::Value {
    let out = env
        .broker()
        .args(["list", "--json", "--backend", backend])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn keys_of<'a>(list: &'a serde_json::Value, profile: &str) -> &'a serde_json::Value {
    &list
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["profile"] == profile)
        .unwrap_or_else(|| panic!("{profile} not listed in {list}"))["keys"]
}

/// The whole life of a key on one backend, and no plaintext secret left on disk.
fn add_list_remove(env: TestEnv, backend: &str) {
    let profile = unique("life");
    let out = add(&env, backend, &profile);
    assert!(out.status.success(), "add: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(&format!("in the {backend} vault")),
        "add names the backend: {}",
        stderr_of(&out)
    );
    assert!(stdout_of(&out).is_empty(), "add prints nothing on stdout");

    let config = std::fs::read_to_string(env.aws_config()).unwrap();
    assert!(
        config.contains(&format!("[profile {profile}]")),
        "add added the profile's section: {config}"
    );

    assert_eq!(
        keys_of(&list_json(&env, backend), &profile),
        backend,
        "list shows the keys"
    );

    let out = env
        .broker()
        .args(["remove", "-f", "--backend", backend, &profile])
        .output()
        .unwrap();
    assert!(out.status.success(), "remove: {}", stderr_of(&out));
    assert!(
        keys_of(&list_json(&env, backend), &profile).is_null(),
        "list shows no keys after remove"
    );

    let out = env
        .broker()
        .args(["remove", "-f", "--backend", backend, &profile])
        .output()
        .unwrap();
    assert_error(&out, 1, "no keys are stored for profile");

    assert_eq!(
        env.files_containing(SECRET),
        Vec::<std::path::PathBuf>::new(),
        "the secret in plaintext on disk"
    );
}

rig_test!(
    "the Secret Service backend is Linux's",
    fn secret_service_add_list_remove() {
        let bus = secret_service_bus();
        add_list_remove(
            TestEnv::new().env("DBUS_SESSION_BUS_ADDRESS", &bus),
            "secret-service",
        );
    }
);

rig_test!(
    "the kernel keyring backend is Linux's",
    fn keyutils_add_list_remove() {
        add_list_remove(TestEnv::new(), "keyutils");
    }
);

/// The round trip through the macOS Keychain (the login keychain of the user running the
/// tests; the item is removed again).
#[cfg(target_os = "macos")]
#[test]
fn keychain_add_list_remove() {
    add_list_remove(TestEnv::new(), "keychain");
}

/// The round trip through the Windows Credential Manager (the user's; the item is removed
/// again).
#[cfg(windows)]
#[test]
fn wincred_add_list_remove() {
    add_list_remove(TestEnv::new(), "wincred");
}

rig_test!(
    "the kernel keyring backend is Linux's",
    fn keyutils_says_keys_are_lost_at_reboot() {
        let env = TestEnv::new();
        let profile = unique("reboot");
        env.name_as(&profile, "reboot-[unique]");
        let (out, added) = transcribe(&env, &mut add_command(&env, "keyutils", &profile));
        assert!(out.status.success(), "{added}");
        insta::assert_snapshot!(added);
        let removed = env
            .broker()
            .args(["remove", "-f", "--backend", "keyutils", &profile])
            .output()
            .unwrap();
        assert!(removed.status.success(), "remove: {}", stderr_of(&removed));
    }
);

#[test]
fn file_add_list_remove() {
    add_list_remove(TestEnv::new(), "file");
}

#[test]
fn file_vault_is_private_and_encrypted() {
    let env = TestEnv::new();
    let out = add(&env, "file", "ci");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let dir = env.file_vault_dir();
    assert_private(&dir);
    let (files, locks): (Vec<_>, Vec<_>) = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .partition(|p| p.extension().is_some_and(|e| e == "age"));
    assert_eq!(files.len(), 1, "one item: {files:?}");
    assert_private(&files[0]);
    // Besides the items only the (empty) lock that serialises writes.
    assert_eq!(locks, [dir.join(".lock")], "besides the items, the lock");
    assert_private(&locks[0]);
    assert_eq!(
        std::fs::metadata(&locks[0]).unwrap().len(),
        0,
        "the lock is empty"
    );
    let bytes = std::fs::read(&files[0]).unwrap();
    assert!(
        bytes.starts_with(b"age-encryption.org/v1\n-> scrypt "),
        "an age scrypt file"
    );
    assert!(
        env.files_containing(SECRET).is_empty(),
        "the secret in plaintext"
    );
    assert!(
        env.files_containing(KEY_ID).is_empty(),
        "even the key id is encrypted"
    );
}

#[test]
fn wrong_passphrase_fails_cleanly_and_the_vault_still_opens() {
    let env = TestEnv::new();
    assert!(add(&env, "file", "first").status.success());
    let before: Vec<_> = std::fs::read_dir(env.file_vault_dir()).unwrap().collect();

    let out = env
        .broker()
        .args(["add", "--env", "--backend", "file", "second"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("BROKER_FILE_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert_error(&out, 1, "wrong passphrase for the file vault");
    let after: Vec<_> = std::fs::read_dir(env.file_vault_dir()).unwrap().collect();
    assert_eq!(
        before.len(),
        after.len(),
        "nothing written with the wrong passphrase"
    );

    // The right passphrase still opens the vault: adding checks it against the first item.
    let out = add(&env, "file", "second");
    assert!(
        out.status.success(),
        "add with the right passphrase: {}",
        stderr_of(&out)
    );
    assert_eq!(
        keys_of(&list_json(&env, "file"), "first"),
        "file",
        "the first item"
    );
    assert_eq!(
        keys_of(&list_json(&env, "file"), "second"),
        "file",
        "the second item"
    );
}

#[test]
fn empty_passphrase_is_refused() {
    let env = TestEnv::new();
    let out = env
        .broker()
        .args(["add", "--env", "--backend", "file", "p"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("BROKER_FILE_PASSPHRASE", "")
        .output()
        .unwrap();
    // An empty BROKER_FILE_PASSPHRASE is no passphrase, and there is no terminal to ask on.
    assert_error_after_notices(&out, 1, "the file vault needs a passphrase");
}

rig_test!(
    "elsewhere the default backend is the OS store, which answers",
    fn no_secret_service_names_the_file_backend() {
        // No D-Bus session at all: the automatic choice fails and says what to do.
        let env = TestEnv::new();
        insta::assert_snapshot!(transcript(&env, &["remove", "-f", "p"]));
    }
);

#[test]
fn backend_from_environment_and_config_file() {
    let env = TestEnv::new();
    env.write_broker_config("backend = \"file\"\n");
    let out = add(&env, "file", "viaflag");
    assert!(out.status.success(), "add: {}", stderr_of(&out));
    // No flag, no BROKER_BACKEND: config.toml picks the file backend.
    let out = env.broker().args(["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "list: {}", stderr_of(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys_of(&list, "viaflag"),
        "file",
        "config.toml's backend: {list}"
    );
    // BROKER_BACKEND beats config.toml.
    let out = env
        .broker()
        .args(["list", "--json"])
        .env("BROKER_BACKEND", OS_BACKEND)
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        keys_of(&list, "viaflag").is_null(),
        "BROKER_BACKEND beats config.toml: {list}"
    );
    let out = env
        .broker()
        .args(["list"])
        .env("BROKER_BACKEND", "floppy")
        .output()
        .unwrap();
    assert_error(&out, 1, "BROKER_BACKEND names an unknown backend `floppy`");
}

/// age times a piece of scrypt work when it opens a file to decide how much work it will accept;
/// a CPU stalled at that moment made broker call its own item damaged. Here the stall is
/// deterministic: the passphrase command, whose answer broker reads just before it opens the
/// item, starts a real-time stopper that lets broker run 0.5 ms in every 100 ms (SIGSTOP and
/// SIGCONT) for 3 s: age's timing (a few ms of scrypt) then takes half a second or more, as
/// on a machine stalled under load. Needs root, for the stopper's real-time priority.
#[cfg(target_os = "linux")]
#[test]
fn the_file_vault_opens_its_items_on_a_stalled_cpu() {
    assert_eq!(
        // SAFETY: geteuid only reads the process's credentials.
        unsafe { libc::geteuid() },
        0,
        "this test gives its stopper real-time priority (chrt), which needs root; run it as \
         root (CI does)"
    );
    let env = TestEnv::new()
        .real_work_factor()
        .env("BROKER_BACKEND", "file");
    let out = add(&env, "file", "stalled");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = env.dir.path().join("stall.log");
    let stopper = env.dir.path().join("stopper.py");
    std::fs::write(
        &stopper,
        r#"import os, signal, sys, time
pid, log = int(sys.argv[1]), sys.argv[2]
until, stops = time.monotonic() + 3, 0
try:
    while time.monotonic() < until:
        os.kill(pid, signal.SIGSTOP)
        stops += 1
        time.sleep(0.1)
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.0005)
except ProcessLookupError:
    pass
finally:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    with open(log, "a") as f:
        f.write(f"released after {stops} stops\n")
"#,
    )
    .unwrap();
    let script = env.dir.path().join("stall");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh
chrt -f 50 {python} {stopper} \"$1\" {log} </dev/null >/dev/null 2>&1 &
             printf '%s\\n' '{pass}'\n",
            python = crate::common::moto::venv().join("bin/python").display(),
            stopper = stopper.display(),
            log = log.display(),
            pass = crate::common::TEST_PASSPHRASE
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // `$PPID` of the shell that runs the command is broker.
    env.write_broker_config(&format!(
        "[file]\npassphrase_command = \"{} $PPID\"\n",
        script.display()
    ));
    let started = std::time::Instant::now();
    let out = env
        .broker()
        .args(["export", "--no-session", "--format", "json", "stalled"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let took = started.elapsed();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys["SecretAccessKey"], SECRET);
    let waiting = std::time::Instant::now();
    while !read().contains("released") {
        assert!(
            waiting.elapsed() < std::time::Duration::from_secs(20),
            "the stopper never finished: {}",
            read()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        took >= std::time::Duration::from_secs(3),
        "broker finished in {took:?}, before the stopper let it go: {}",
        read()
    );
}
