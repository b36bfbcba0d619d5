//! `broker import`: keys move from the AWS credentials file into the vault, and the file keeps
//! every other byte.

use crate::common::{stderr_of, transcribe, transcript, transcripts, TestEnv};
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
    let env = TestEnv::with_file_backend();
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
    let (out, imported) = transcribe(&env, env.broker().args(["import", "--yes"]));
    assert!(out.status.success(), "import --yes failed: {imported}");
    let expected = CREDENTIALS
        .replace("aws_access_key_id = AKIADEFAULTEXAMPLE01\n", "")
        .replace(
            "aws_secret_access_key = default/Secret+Key ; my laptop key\n",
            "",
        )
        .replace("AWS_Access_Key_Id=AKIAWORKEXAMPLE00001\r\n", "")
        .replace("aws_secret_access_key=work#secret\r\n", "");
    assert_eq!(
        credentials(&env),
        expected,
        "the credentials file lost more than the keys"
    );
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
    assert_eq!(work["AccessKeyId"], "AKIAWORKEXAMPLE00001", "work's key id");
    assert_eq!(work["SecretAccessKey"], "work#secret", "work's secret");
    let default = export_json(&env, &["--no-session", "default"]);
    assert_eq!(
        default["SecretAccessKey"], "default/Secret+Key",
        "default's secret, without the comment after it"
    );
    assert!(
        !env.files_containing("work#secret")
            .iter()
            .any(|p| p.to_string_lossy().contains("vault")),
        "the vault holds no plaintext"
    );
    // Nothing left to import, and running again changes nothing.
    let again = transcript(&env, &["import", "--yes"]);
    assert_eq!(
        credentials(&env),
        expected,
        "the second import changed the file"
    );
    insta::assert_snapshot!(format!("{imported}\n{again}"));
}

#[test]
fn import_of_named_profiles_refuses_a_session_token_and_changes_nothing() {
    let env = with_credentials();
    let refused = transcripts(
        &env,
        &[
            &["import", "--yes", "work", "temp"],
            &["export", "--no-session", "work"],
        ],
    );
    assert_eq!(
        credentials(&env),
        CREDENTIALS,
        "a refused import changed the file"
    );

    let (out, imported) = transcribe(&env, env.broker().args(["import", "--yes", "work"]));
    assert!(out.status.success(), "import of work alone: {imported}");
    insta::assert_snapshot!(format!("{refused}\n{imported}"));
    let text = credentials(&env);
    assert!(
        !text.contains("AKIAWORKEXAMPLE00001"),
        "work's key is still in the file: {text}"
    );
    assert!(
        text.contains("AKIADEFAULTEXAMPLE01"),
        "the others stay: {text}"
    );
    assert!(
        text.contains("aws_session_token = temp-token"),
        "the session token stays: {text}"
    );
}

#[test]
fn keys_left_in_the_credentials_file_are_pointed_at_by_the_error() {
    let env = with_credentials();
    // A profile with no keys anywhere still points to `add`.
    insta::assert_snapshot!(transcripts(
        &env,
        &[&["export", "work"], &["export", "plain"]]
    ));
}

#[test]
fn a_session_token_section_is_explained_not_sent_to_import() {
    let env = with_credentials();
    // Temporary credentials: exec and export say what to do instead of pointing at import,
    // which refuses them; a second import of an imported profile says where its keys went.
    let imported = env
        .broker()
        .args(["import", "--yes", "work"])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", stderr_of(&imported));
    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["export", "temp"],
            &["import", "--yes", "temp"],
            &["import", "--yes", "work"],
            &["list"],
        ]
    ));
}

#[test]
fn import_asks_first_and_off_a_terminal_says_to_confirm_with_yes() {
    let env = with_credentials();
    let unasked = transcript(&env, &["import", "work"]);
    assert_eq!(
        credentials(&env),
        CREDENTIALS,
        "an import nobody confirmed changed the file"
    );
    let misspelt = transcript(&env, &["import", "--yes", "wrok"]);
    assert_eq!(
        credentials(&env),
        CREDENTIALS,
        "an import of a misspelt profile changed the file"
    );
    insta::assert_snapshot!(format!("{unasked}\n{misspelt}"));
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
    assert!(
        out.status.success(),
        "the import failed: {}",
        stderr_of(&out)
    );
    let text = credentials(&env);
    assert!(text.ends_with(LATE), "the late section is lost: {text}");
    assert!(
        !text.contains("AKIAWORKEXAMPLE00001"),
        "work's key is still in the file: {text}"
    );
    assert!(
        text.contains("AKIADEFAULTEXAMPLE01"),
        "default's key was removed too: {text}"
    );
    let keys = export_json(&env, &["--no-session", "work"]);
    assert_eq!(
        keys["SecretAccessKey"], "work#secret",
        "work's secret in the vault"
    );
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
    insta::assert_snapshot!(transcript(&env, &["import", "--yes", "work"]));
    // The file as the other program left it; the vault with the keys read first.
    assert_eq!(
        credentials(&env),
        CREDENTIALS.replace("work#secret", "rotated#secret"),
        "the other program's change was lost"
    );
    let keys = export_json(&env, &["--no-session", "work"]);
    assert_eq!(
        keys["SecretAccessKey"], "work#secret",
        "the vault holds the keys read first"
    );
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
    assert_eq!(code, Some(0), "the confirmed import failed: {screen}");
    let text = credentials(&env);
    assert!(text.ends_with(LATE), "the late section is lost: {text}");
    assert!(
        !text.contains("AKIAWORKEXAMPLE00001"),
        "work's key is still in the file: {text}"
    );
}

/// (Unix: broker counts a file's links there only; see fsutil.)
#[cfg(unix)]
#[test]
fn a_hard_linked_credentials_file_is_refused() {
    let env = with_credentials();
    let other = env.dir.path().join("backup-of-credentials");
    std::fs::hard_link(credentials_path(&env), &other).unwrap();
    let refused = transcript(&env, &["import", "--yes", "work"]);
    assert_eq!(
        credentials(&env),
        CREDENTIALS,
        "the hard-linked file was changed"
    );
    let work = transcript(&env, &["export", "--no-session", "work"]);
    insta::assert_snapshot!(format!("{refused}\n{work}"));
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
    assert!(
        out.status.success(),
        "root's import failed: {}",
        stderr_of(&out)
    );
    assert!(
        !credentials(&env).contains("AKIAWORKEXAMPLE00001"),
        "work's key is still in the file"
    );
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (65534, 65534),
        "owner and group kept"
    );
    assert_eq!(meta.mode() & 0o7777, 0o640, "mode kept");
}
