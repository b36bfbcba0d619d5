//! `broker import --from-aws-vault` from stores made the way aws-vault makes them: its file
//! store (JOSE, written by python-jwcrypto, tests/aws_vault_file_store.py) and its Secret
//! Service collection (a private gnome-keyring with an `awsvault` collection, items stored by
//! secret-tool). aws-vault's stores are never changed; `--dry-run` changes nothing.

use std::path::Path;

use crate::common::{assert_error, stderr_of, stdout_of, TestEnv, TEST_PASSPHRASE};
use crate::fixtures::export_json;
use crate::pass_store::aws_vault_item;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AWS_VAULT_PASSPHRASE: &str = "aws-vault's own passphrase";

fn file_env() -> TestEnv {
    let env = TestEnv::new()
        .env("BROKER_BACKEND", "file")
        .env("BROKER_FILE_PASSPHRASE", TEST_PASSPHRASE);
    env.write_aws_config("[profile alice]\n[profile carol]\n");
    env
}

/// Every file of `dir` and its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn import_from_aws_vaults_file_store() {
    let env = file_env();
    let dir = env.home().join(".awsvault/keys");
    let items = serde_json::json!({
        "alice": aws_vault_item("alice", KEY_ID, SECRET, ""),
        "carol": aws_vault_item("carol", "ASIAIOSFODNN7EXAMPLE", "s", "a-session-token"),
        "session,YWxpY2U,,1700000000": aws_vault_item("x", "ASIAIOSFODNN7EXAMPLF", "s", "t"),
        "oidc:https://example.awsapps.com/start": {"Key": "oidc", "Data": "e30="},
    });
    let python = crate::common::moto::venv().join("bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws_vault_file_store.py");
    let mut writer = std::process::Command::new(python)
        .arg(script)
        .arg(&dir)
        .arg(AWS_VAULT_PASSPHRASE)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writer
        .stdin
        .take()
        .unwrap()
        .write_all(items.to_string().as_bytes())
        .unwrap();
    assert!(
        writer.wait().unwrap().success(),
        "jwcrypto in the test venv"
    );
    let before = snapshot(&dir);
    let import = |args: &[&str], passphrase: &str| {
        env.broker()
            .args(["import", "--from-aws-vault", "--aws-vault-backend", "file"])
            .args(args)
            .env("AWS_VAULT_FILE_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    };

    // A wrong passphrase: a clean error, nothing stored.
    let out = import(&["--yes"], "wrong");
    assert_error(&out, 1, "wrong passphrase for aws-vault's file store in");
    // --dry-run lists what would move and changes nothing.
    let out = import(&["--dry-run"], AWS_VAULT_PASSPHRASE);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listing = stdout_of(&out);
    assert!(
        listing.starts_with("alice  AKIA…MPLE  from the file store ")
            && listing.ends_with(": would be stored\n"),
        "{listing}"
    );
    assert_eq!(
        listing.lines().count(),
        1,
        "sessions and SSO tokens skipped"
    );
    assert!(
        stderr_of(&out).contains("skipping carol in the file store"),
        "{}",
        stderr_of(&out)
    );
    let no_keys = env
        .broker()
        .args(["export", "--no-session", "alice"])
        .output()
        .unwrap();
    assert!(!no_keys.status.success(), "nothing stored by --dry-run");

    let out = import(&["--yes"], AWS_VAULT_PASSPHRASE);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let keys = export_json(&env, &["--no-session", "alice"]);
    assert_eq!(keys["AccessKeyId"], KEY_ID);
    assert_eq!(keys["SecretAccessKey"], SECRET);
    assert_eq!(snapshot(&dir), before, "aws-vault's store untouched");
    // Again: already there, left as it is.
    let out = import(&["--dry-run"], AWS_VAULT_PASSPHRASE);
    assert!(
        stdout_of(&out).contains("already in broker's vault"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn import_from_aws_vaults_secret_service_collection() {
    let env = file_env();
    let keyring = env.dir.path().join("keyring");
    std::fs::create_dir_all(keyring.join("data/keyrings")).unwrap();
    std::fs::create_dir_all(keyring.join("run")).unwrap();
    // A plaintext keyring file: gnome-keyring serves it as the collection `awsvault`, unlocked,
    // without the prompt that creating a collection over D-Bus needs.
    std::fs::write(
        keyring.join("data/keyrings/awsvault.keyring"),
        "[keyring]\ndisplay-name=awsvault\nctime=0\nmtime=0\nlock-on-idle=false\nlock-after=false\n",
    )
    .unwrap();
    let item = aws_vault_item("alice", KEY_ID, SECRET, "").to_string();
    let script = r#"set -e
chmod 700 "$KEYRING/run"
printf pw | HOME=$KEYRING XDG_DATA_HOME=$KEYRING/data XDG_RUNTIME_DIR=$KEYRING/run \
  gnome-keyring-daemon --unlock --components=secrets >/dev/null
# The daemon takes its bus name a moment later; until then a client would have D-Bus start
# another one, which knows no `awsvault` collection. Wait for the name (10 s at most).
for _ in $(seq 1 200); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true' && break
  sleep 0.05
done
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q 'boolean true' ||
  { echo "gnome-keyring-daemon never took org.freedesktop.secrets" >&2; exit 1; }
printf '%s' "$ITEM" | secret-tool store --collection=/org/freedesktop/secrets/collection/awsvault \
  --label=alice profile alice
"$BROKER" import --from-aws-vault --dry-run
"$BROKER" import --from-aws-vault --aws-vault-backend secret-service --yes
secret-tool search --all profile alice 2>&1 | grep -c '^label = alice$'
"#;
    let out = env
        .command("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .env("KEYRING", &keyring)
        .env("ITEM", &item)
        .env("BROKER", crate::common::broker_bin())
        .output()
        .expect("dbus-run-session (apt-get install dbus gnome-keyring libsecret-tools)");
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{}{stdout}", stderr_of(&out));
    assert!(
        stdout.starts_with(
            "alice  AKIA…MPLE  from the Secret Service collection awsvault: would be stored\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("\n1\n"),
        "aws-vault's item is still there: {stdout}"
    );
    let keys = export_json(&env, &["--no-session", "alice"]);
    assert_eq!(keys["SecretAccessKey"], SECRET);
}

#[test]
fn nothing_to_import_says_where_broker_looked() {
    let env = file_env();
    let out = env
        .broker()
        .args(["import", "--from-aws-vault", "--aws-vault-backend", "file"])
        .output()
        .unwrap();
    assert_error(&out, 1, "found no long-term keys in aws-vault's stores");
    assert!(stderr_of(&out).contains("AWS_VAULT_FILE_DIR"));
}
