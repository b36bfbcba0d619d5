//! `broker import`: keys move from the AWS credentials file into the vault, and the file keeps
//! every other byte.

use crate::common::{assert_error, stderr_of, TestEnv};
use crate::fixtures::export_json;

/// Comments, blank lines, CRLF line ends, keys in odd case and spacing, a section holding a
/// session token, a section without keys, and an `[profile x]` header the SDK ignores here.
const CREDENTIALS: &str = "\
# Keys of the team; see the wiki
[default]
aws_access_key_id = AKIADEFAULTEXAMPLE01
aws_secret_access_key = default/Secret+Key ; my laptop key
region = eu-west-1

; the work account
[work] # ops
AWS_Access_Key_Id=AKIAWORKEXAMPLE00001\r
aws_secret_access_key=work#secret\r
output = json\r

[temp]
aws_access_key_id = ASIATEMPEXAMPLE00001
aws_secret_access_key = temp-secret
aws_session_token = temp-token

[plain]
region = us-east-1
# trailing comment, no final line break";

fn with_credentials() -> TestEnv {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", crate::common::TEST_PASSPHRASE);
    std::fs::write(credentials_path(&env), CREDENTIALS).unwrap();
    env
}

fn credentials_path(env: &TestEnv) -> std::path::PathBuf {
    crate::common::under(&env.home(), ".aws/credentials")
}

fn credentials(env: &TestEnv) -> String {
    std::fs::read_to_string(credentials_path(env)).unwrap()
}

#[test]
fn import_moves_every_long_term_key_and_keeps_every_other_byte() {
    let env = with_credentials();
    #[cfg(unix)]
    std::fs::set_permissions(
        credentials_path(&env),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let out = env.broker().args(["import", "--yes"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("skipping profile temp: it holds a session token"),
        "{err}"
    );
    assert!(
        err.contains("moved the keys of profiles default and work into the file vault"),
        "{err}"
    );
    let expected = CREDENTIALS
        .replace("aws_access_key_id = AKIADEFAULTEXAMPLE01\n", "")
        .replace(
            "aws_secret_access_key = default/Secret+Key ; my laptop key\n",
            "",
        )
        .replace("AWS_Access_Key_Id=AKIAWORKEXAMPLE00001\r\n", "")
        .replace("aws_secret_access_key=work#secret\r\n", "");
    assert_eq!(credentials(&env), expected);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(credentials_path(&env))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640, "the file keeps its mode");
    }

    let work = export_json(&env, &["--no-session", "work"]);
    assert_eq!(work["AccessKeyId"], "AKIAWORKEXAMPLE00001");
    assert_eq!(work["SecretAccessKey"], "work#secret");
    let default = export_json(&env, &["--no-session", "default"]);
    assert_eq!(default["SecretAccessKey"], "default/Secret+Key");
    assert!(
        !env.files_containing("work#secret")
            .iter()
            .any(|p| p.to_string_lossy().contains("vault")),
        "the vault holds no plaintext"
    );
    // Nothing left to import, and running again changes nothing.
    let again = env.broker().args(["import", "--yes"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr_of(&again).contains("holds no long-term keys to import"));
    assert_eq!(credentials(&env), expected);
}

#[test]
fn import_of_named_profiles_refuses_a_session_token_and_changes_nothing() {
    let env = with_credentials();
    let out = env
        .broker()
        .args(["import", "--yes", "work", "temp"])
        .output()
        .unwrap();
    assert_error(&out, 1, "profile temp in ");
    assert!(stderr_of(&out).contains("holds a session token"));
    assert_eq!(credentials(&env), CREDENTIALS);
    let work = env
        .broker()
        .args(["export", "--no-session", "work"])
        .output()
        .unwrap();
    assert_error(&work, 1, "no keys are stored for profile work");

    let out = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = credentials(&env);
    assert!(!text.contains("AKIAWORKEXAMPLE00001"), "{text}");
    assert!(
        text.contains("AKIADEFAULTEXAMPLE01"),
        "the others stay: {text}"
    );
    assert!(text.contains("aws_session_token = temp-token"), "{text}");
}

#[test]
fn keys_left_in_the_credentials_file_are_pointed_at_by_the_error() {
    let env = with_credentials();
    let out = env.broker().args(["export", "work"]).output().unwrap();
    assert_error(&out, 1, "they are in the AWS credentials file");
    assert!(
        stderr_of(&out).contains("hint: `broker import work` moves them into the vault"),
        "{}",
        stderr_of(&out)
    );
    // A profile with no keys anywhere still points to `add`.
    let out = env.broker().args(["export", "plain"]).output().unwrap();
    assert_error(&out, 1, "no keys are stored for profile plain");
    assert!(stderr_of(&out).contains("`broker add plain`"));
}

#[test]
fn import_asks_first_and_off_a_terminal_says_to_confirm_with_yes() {
    let env = with_credentials();
    let out = env.broker().args(["import", "work"]).output().unwrap();
    assert_error(&out, 1, "no terminal to ask on");
    assert!(stderr_of(&out).contains("hint: run it from a terminal, or confirm with --yes"));
    assert_eq!(credentials(&env), CREDENTIALS);

    let out = env
        .broker()
        .args(["import", "--yes", "wrok"])
        .output()
        .unwrap();
    assert_error(&out, 1, "profile wrok has no keys in ");
    assert!(
        stderr_of(&out).contains("did you mean `work`?"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(credentials(&env), CREDENTIALS);
}

/// A sealed environment on the file vault, the credentials file above, and a `[file]
/// passphrase_command` that runs `then(env)` (a shell line) before it prints the passphrase: it
/// runs while `import` writes the vault, after its first read of the file. (Unix: the tests
/// that use it change the file with sh, sed and printf.)
#[cfg(unix)]
fn while_the_vault_is_written(then: impl FnOnce(&TestEnv) -> String) -> TestEnv {
    let env = TestEnv::new().env("BROKER_BACKEND", "file");
    std::fs::write(credentials_path(&env), CREDENTIALS).unwrap();
    let script = env.dir.path().join("passphrase");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{}\nprintf '%s\\n' '{}'\n",
            then(&env),
            crate::common::TEST_PASSPHRASE
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.write_broker_config(&format!(
        "[file]\npassphrase_command = \"{}\"\n",
        script.display()
    ));
    env
}

/// A section another program (`aws configure`, an editor) adds while broker works.
#[cfg(unix)]
const LATE: &str =
    "\n[late]\naws_access_key_id = AKIALATEEXAMPLE00001\naws_secret_access_key = late-secret\n";

/// A shell line that appends [`LATE`] to the credentials file.
#[cfg(unix)]
fn append_late(env: &TestEnv) -> String {
    format!(
        "printf '{}' >> '{}'",
        LATE.replace('\n', "\\n"),
        credentials_path(env).display()
    )
}

#[cfg(unix)]
#[test]
fn a_section_appended_while_the_vault_is_written_is_kept() {
    let env = while_the_vault_is_written(append_late);
    let out = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = credentials(&env);
    assert!(text.ends_with(LATE), "the late section is lost: {text}");
    assert!(!text.contains("AKIAWORKEXAMPLE00001"), "{text}");
    assert!(text.contains("AKIADEFAULTEXAMPLE01"), "{text}");
    let keys = export_json(&env, &["--no-session", "work"]);
    assert_eq!(keys["SecretAccessKey"], "work#secret");
}

#[cfg(unix)]
#[test]
fn keys_changed_while_they_are_imported_stop_the_rewrite_and_lose_nothing() {
    let env = while_the_vault_is_written(|env| {
        format!(
            "sed -i 's/work#secret/rotated#secret/' '{}'",
            credentials_path(env).display()
        )
    });
    let out = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert_error(
        &out,
        1,
        "stored the keys of profile work in the file vault, but left ",
    );
    assert!(
        stderr_of(&out).contains("the keys of profile work in it changed while they were imported"),
        "{}",
        stderr_of(&out)
    );
    // The file as the other program left it; the vault with the keys read first.
    assert_eq!(
        credentials(&env),
        CREDENTIALS.replace("work#secret", "rotated#secret")
    );
    let keys = export_json(&env, &["--no-session", "work"]);
    assert_eq!(keys["SecretAccessKey"], "work#secret");
}

/// (Unix: the tests' pseudo-terminal.)
#[cfg(unix)]
#[test]
fn a_section_appended_while_the_user_is_asked_is_kept() {
    use crate::common::terminal::{Mode, Terminal};
    use std::io::Write;
    let env = with_credentials();
    let mut cmd = env.std_command(crate::common::broker_bin());
    cmd.args(["import", "work"]);
    let mut terminal = Terminal::spawn(cmd, None);
    terminal.expect("[y/N] ");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(credentials_path(&env))
        .unwrap();
    file.write_all(LATE.as_bytes()).unwrap();
    drop(file);
    terminal.wait_for_mode(Mode::Line);
    terminal.send("y\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    let text = credentials(&env);
    assert!(text.ends_with(LATE), "the late section is lost: {text}");
    assert!(!text.contains("AKIAWORKEXAMPLE00001"), "{text}");
}

/// (Unix: broker counts a file's links there only; see fsutil.)
#[cfg(unix)]
#[test]
fn a_hard_linked_credentials_file_is_refused() {
    let env = with_credentials();
    let other = env.dir.path().join("backup-of-credentials");
    std::fs::hard_link(credentials_path(&env), &other).unwrap();
    let out = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert_error(
        &out,
        1,
        "has 2 hard links: removing the keys from it would leave them",
    );
    assert!(stderr_of(&out).contains("-samefile"), "{}", stderr_of(&out));
    assert_eq!(credentials(&env), CREDENTIALS);
    let work = env
        .broker()
        .args(["export", "--no-session", "work"])
        .output()
        .unwrap();
    assert_error(&work, 1, "no keys are stored for profile work");
}

#[cfg(unix)]
#[test]
fn root_importing_another_users_file_leaves_it_theirs() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!(
        // SAFETY: geteuid only reads the process's credentials.
        unsafe { libc::geteuid() },
        0,
        "this test gives the credentials file to another user (nobody), which needs root"
    );
    let env = with_credentials();
    let file = credentials_path(&env);
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!credentials(&env).contains("AKIAWORKEXAMPLE00001"));
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (65534, 65534),
        "owner and group kept"
    );
    assert_eq!(meta.mode() & 0o7777, 0o640, "mode kept");
}
