//! Crash safety: broker killed (SIGKILL, or TerminateProcess on Windows) in the middle of writing a cache entry or of `add`
//! leaves a vault and cache that the next run uses; concurrent `add`s both succeed.

use std::time::Duration;

use crate::common::moto::Moto;
use crate::common::{broker_bin, stderr_of, unique, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::{export_json, role_arn, store_key};

/// Kills `child` after `delay`: SIGKILL on Unix, TerminateProcess on Windows.
fn kill_after(mut child: std::process::Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
#[cfg_attr(
    target_os = "macos",
    ignore = "needs an OS store that asks nobody: Linux's kernel keyring, Windows' Credential Manager"
)]
fn killed_while_writing_the_cache_the_next_run_works() {
    let moto = Moto::start(None);
    let key = moto.create_user("kim");
    let user = unique("kim");
    let env = TestEnv::new()
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env(
            "BROKER_BACKEND",
            if cfg!(windows) { "wincred" } else { "keyutils" },
        );
    env.write_aws_config(&format!(
        "[profile {user}]\n[profile r1]\nrole_arn = {}\nsource_profile = {user}\n[profile r2]\nrole_arn = {}\nsource_profile = r1\n",
        role_arn("r1"),
        role_arn("r2")
    ));
    store_key(&env, &user, &key.access_key_id, &key.secret_access_key);
    export_json(&env, &["r2"]);
    // Kill at many points of a cold two-hop refresh: before, during and after each STS call and
    // cache write.
    for step in 0..20u64 {
        let child = env
            .std_command(broker_bin())
            .args(["export", "--refresh", "--format", "json", "r2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        kill_after(child, Duration::from_millis(step * 7));
        let creds = export_json(&env, &["r2"]);
        assert!(
            creds["SessionToken"].is_string(),
            "after a kill at {}ms",
            step * 7
        );
    }
    let assumed = moto.count("AssumeRole");
    export_json(&env, &["r2"]);
    assert_eq!(
        moto.count("AssumeRole"),
        assumed,
        "the cache is in use again"
    );
}

#[test]
fn killed_while_adding_keys_the_vault_is_intact() {
    let env = TestEnv::new()
        .real_work_factor()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
    env.write_aws_config("[profile keep]\n[profile p]\n");
    store_key(&env, "keep", "AKIAIOSFODNN7EXAMPLE", "keep-secret");
    store_key(&env, "p", "AKIAIOSFODNN7EXAMPLF", "old-secret");
    // `add` takes about two scrypt runs (checking the passphrase, then encrypting): kill it at
    // points spread over that time.
    for (i, delay) in [0u64, 150, 400, 800, 1300, 1900].into_iter().enumerate() {
        let child = env
            .std_command(broker_bin())
            .args(["add", "--env", "p"])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLG")
            .env("AWS_SECRET_ACCESS_KEY", format!("new-secret-{i}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        kill_after(child, Duration::from_millis(delay));
        let keep = export_json(&env, &["--no-session", "keep"]);
        assert_eq!(keep["SecretAccessKey"], "keep-secret");
        let p = export_json(&env, &["--no-session", "p"]);
        let secret = p["SecretAccessKey"].as_str().unwrap();
        assert!(
            secret == "old-secret" || secret.starts_with("new-secret-"),
            "a whole old or new item, not {secret:?}"
        );
    }
}

#[test]
fn two_processes_storing_different_profiles_both_succeed() {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
    env.write_aws_config("[profile x]\n[profile y]\n");
    store_key(&env, "first", "AKIAIOSFODNN7EXAMPLE", "first-secret");
    let spawn = |profile: &str, secret: &str| {
        env.std_command(broker_bin())
            .args(["add", "--env", profile])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
    };
    let (x, y) = std::thread::scope(|s| {
        let x = s.spawn(|| spawn("x", "x-secret"));
        let y = s.spawn(|| spawn("y", "y-secret"));
        (x.join().unwrap().unwrap(), y.join().unwrap().unwrap())
    });
    assert!(x.status.success(), "{}", stderr_of(&x));
    assert!(y.status.success(), "{}", stderr_of(&y));
    assert_eq!(
        export_json(&env, &["--no-session", "x"])["SecretAccessKey"],
        "x-secret"
    );
    assert_eq!(
        export_json(&env, &["--no-session", "y"])["SecretAccessKey"],
        "y-secret"
    );
}
